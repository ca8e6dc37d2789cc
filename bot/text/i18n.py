"""The report's fixed words and date formats, read from the catalogue (`bot/text/catalogue/`).

Only what the bot itself writes lives here; names of projects, parts, banks,
OKR items and metrics are the team's own words and come from its config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.report import ActionLine, BudgetLine, CauseCount, SeverityCount, Status
from bot.domain.team import EDITOR_SECTIONS, INCIDENTS_SECTION
from bot.text.catalogue import CATALOGUES


@dataclass(frozen=True)
class Labels:
    """Every fixed word a rendering of the report prints, for one locale."""

    locale: str
    feishu_key: str  # the language key of a Feishu `post`
    title: str  # "{week}" is replaced by the ISO week
    created: str
    colon: str  # between a name and its value: "跨境收款：…" / "Cross-border: …"
    heading_colon: str  # ending a line that introduces a list: "支付成功率：" / "Payment success rate:"
    section: str  # a section title as the locale writes it: "【{title}】" / "{title}"
    not_updated: str
    away: str
    none: str  # an empty section, or a week without incidents
    metrics: str
    incidents: str
    other: str
    reflection: str
    next_week: str
    key_points: str = ""  # 本周要点 / Key points
    key_point_source: str = "{sources}"  # what follows a key point: "（张伟 · 聚合收单 · 业务）"
    key_point_source_sep: str = "; "

    def status(self, status: Status) -> str:
        """The word shown in place of an unanswered item's text; "" for an answered one."""
        return {Status.NOT_UPDATED: self.not_updated, Status.AWAY: self.away}.get(status, "")

    def bracket(self, title: str) -> str:
        """A section title as the locale writes it: `【聚合收单】` in Chinese, `Acquiring` in English
        (English has no such brackets; its headings stand alone)."""
        return self.section.format(title=title)

    def key_point(self, text: str, sources: tuple[str, ...]) -> str:
        """A key point with who said it and where: `v2.0已全量上线（王强 · 聚合收单 · 产研）`."""
        if not sources:
            return text
        return text + self.key_point_source.format(sources=self.key_point_source_sep.join(sources))

    def report_title(self, week: str) -> str:
        """The report's title for chat messages, e.g. "2024-W26 周报"."""
        return self.title.replace("{week}", week)


def _labels(locale: str, feishu_key: str) -> Labels:
    w = CATALOGUES[locale]
    return Labels(
        locale=locale, feishu_key=feishu_key, title=w["report.title"],
        created=w["report.created"], section=w["report.section"], colon=w["report.colon"], heading_colon=w["report.heading_colon"],
        not_updated=w["report.not_updated"], away=w["report.away"], none=w["report.none"],
        metrics=w["report.metrics"],
        # The editor's sections and 生产事件 name items of the team (people answer them by name, in either
        # locale), so their names are the domain's grammar; the report's headings show those same words.
        incidents=INCIDENTS_SECTION[locale],
        other=EDITOR_SECTIONS["other"][locale], reflection=EDITOR_SECTIONS["reflection"][locale],
        next_week=EDITOR_SECTIONS["next_week"][locale],
        key_points=w["report.key_points"], key_point_source=w["report.key_points.source"],
        key_point_source_sep=w["report.key_points.source_sep"])


_LABELS: dict[str, Labels] = {"zh-CN": _labels("zh-CN", "zh_cn"), "en": _labels("en", "en_us")}

LOCALES: tuple[str, ...] = tuple(_LABELS)


def labels(locale: str) -> Labels:
    """The labels for `locale` ("zh-CN" or "en"); ValueError for any other."""
    try:
        return _LABELS[locale]
    except KeyError:
        raise ValueError(f"unknown locale '{locale}' (known: {', '.join(LOCALES)})") from None


def format_date(day: date, locale: str) -> str:
    """`2024年6月28日` (zh-CN) or `Jun 28, 2024` (en)."""
    w = CATALOGUES[labels(locale).locale]
    return w["date.day"].format(year=day.year, month=w["date.months"].split()[day.month - 1], day=day.day)


def week_span(label: str, first: date, last: date, locale: str) -> str:
    """A week named with its dates: `2024-W26（6月24日–6月28日）` (zh-CN) or `2024-W26 (Jun 24–Jun 28)` (en)."""
    w = CATALOGUES[labels(locale).locale]
    months = w["date.months"].split()

    def day(d: date) -> str:
        return w["date.month_day"].format(month=months[d.month - 1], day=d.day)

    return w["date.week_span"].format(week=label, first=day(first), last=day(last))


def format_datetime(moment: datetime, locale: str) -> str:
    """The date as `format_date` writes it, then the wall-clock time: `2024年6月28日 17:00`."""
    return f"{format_date(moment.date(), locale)} {moment:%H:%M}"


def incident_counts(counts: Sequence[SeverityCount], locale: str) -> str:
    """`事故数AB级0次，C级1次，D级0.5次` (zh-CN) or `Incidents: A/B 0, C 1, D 0.5` (en)."""
    w = CATALOGUES[labels(locale).locale]
    return w["report.counts"].format(items=w["report.counts.item_sep"].join(
        w["report.counts.item"].format(severities=w["report.counts.severity_sep"].join(c.severities),
                                       count=c.count_text) for c in counts))


def budget_line(line: BudgetLine, locale: str) -> str:
    """`支付网关 99.93%（目标 99.9%，剩余预算 30%，约 13 分钟；其中自身原因 30 分钟）` (issue 23)."""
    w = CATALOGUES[labels(locale).locale]
    left = w["report.budget.spent"].format(minutes=line.over_minutes) if line.spent else \
        w["report.budget.left"].format(share=line.left_share, minutes=line.left_minutes)
    own = "" if line.own_minutes is None else w["report.budget.own"].format(minutes=line.own_minutes)
    return w["report.budget"].format(system=line.system, availability=line.availability,
                                     objective=line.objective, left=left, own=own)


def cause_counts(counts: Sequence[CauseCount], locale: str) -> str:
    """`按归因：自身 2次（停机 0 分钟），银行 0.5次（停机 40 分钟）` / `By attribution: own 2 (0 min down), …`."""
    w = CATALOGUES[labels(locale).locale]
    return w["report.causes"].format(items=w["report.causes.item_sep"].join(
        w["report.causes.item"].format(cause=c.cause or w["report.causes.unknown"], count=c.count_text,
                                       minutes=c.minutes) for c in counts))


def action_line(line: ActionLine, locale: str) -> str:
    """`A1 补齐分页（#3，刘洋，截止 07/05，已逾期）` / `A1 add paging (#3, Liu Yang, due 07/05, overdue)`."""
    w = CATALOGUES[labels(locale).locale]
    state = "" if line.state == "open" else w[f"report.action.{line.state}"]
    return w["report.action"].format(number=line.number, text=line.text, incident=line.incident, owner=line.owner,
                                     due=f"{line.due:%m/%d}", state=state)


def actions_heading(locale: str) -> str:
    """`行动项：` / `Action items:`."""
    return CATALOGUES[labels(locale).locale]["report.actions"]
