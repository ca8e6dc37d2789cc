"""The report's own words and date formats, in zh-CN (the default) and en.

Only what the bot itself writes lives here; names of projects, parts, banks,
OKR items and metrics are the team's own words and come from its config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.report import SeverityCount, Status

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Labels:
    """Every fixed word a rendering of the report prints, for one locale."""

    locale: str
    feishu_key: str  # the language key of a Feishu `post`
    title: str  # "{week}" is replaced by the ISO week
    created: str
    colon: str  # between a name and its value: "跨境收款：…" / "Cross-border: …"
    heading_colon: str  # ending a line that introduces a list: "支付成功率：" / "Payment success rate:"
    not_updated: str
    away: str
    none: str  # an empty section, or a week without incidents
    metrics: str
    incidents: str
    other: str
    reflection: str
    next_week: str

    def status(self, status: Status) -> str:
        """The word shown in place of an unanswered item's text; "" for an answered one."""
        return {Status.NOT_UPDATED: self.not_updated, Status.AWAY: self.away}.get(status, "")

    def bracket(self, title: str) -> str:
        """A section title as the locale writes it: `【聚合收单】` in Chinese, `Acquiring` in English
        (English has no such brackets; its headings stand alone)."""
        return title if self.locale == "en" else f"【{title}】"

    def report_title(self, week: str) -> str:
        """The report's title for chat messages, e.g. "2024-W26 周报"."""
        return self.title.replace("{week}", week)


_LABELS: dict[str, Labels] = {
    "zh-CN": Labels(
        locale="zh-CN",
        feishu_key="zh_cn",
        title="{week} 周报",
        created="Created",
        colon="：",
        heading_colon="：",
        not_updated="未更新",
        away="休假",
        none="无",
        metrics="系统运行数据",
        incidents="生产事件",
        other="其他",
        reflection="收获与反思",
        next_week="下周工作及目标",
    ),
    "en": Labels(
        locale="en",
        feishu_key="en_us",
        title="Weekly report {week}",
        created="Created",
        colon=": ",
        heading_colon=":",
        not_updated="not updated",
        away="away",
        none="None",
        metrics="System metrics",
        incidents="Production incidents",
        other="Other",
        reflection="Lessons and reflections",
        next_week="Next week",
    ),
}

LOCALES: tuple[str, ...] = tuple(_LABELS)


def labels(locale: str) -> Labels:
    """The labels for `locale` ("zh-CN" or "en"); ValueError for any other."""
    try:
        return _LABELS[locale]
    except KeyError:
        raise ValueError(f"unknown locale '{locale}' (known: {', '.join(LOCALES)})") from None


def format_date(day: date, locale: str) -> str:
    """`2024年6月28日` (zh-CN) or `Jun 28, 2024` (en)."""
    if labels(locale).locale == "en":
        return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_datetime(moment: datetime, locale: str) -> str:
    """The date as `format_date` writes it, then the wall-clock time: `2024年6月28日 17:00`."""
    return f"{format_date(moment.date(), locale)} {moment:%H:%M}"


def incident_counts(counts: Sequence[SeverityCount], locale: str) -> str:
    """`事故数AB级0次，C级1次，D级0.5次` (zh-CN) or `Incidents: A/B 0, C 1, D 0.5` (en)."""
    if labels(locale).locale == "en":
        return "Incidents: " + ", ".join(f"{'/'.join(c.severities)} {c.count_text}" for c in counts)
    return "事故数" + "，".join(f"{''.join(c.severities)}级{c.count_text}次" for c in counts)
