"""Rendering a compiled `Report` as Markdown, Slack mrkdwn or a Feishu `post`.

The templates under `templates/` hold the layout; this module holds the
filters they use. People's text only ever reaches a template as data, so a
reply containing `{{ }}` or `{% %}` is printed, never evaluated; escaping is
chosen per target by the template (`slack_escape`, `feishu_safe`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import jinja2

import bot
from bot.domain import links
from bot.domain.report import (
    ActionLine,
    BankLine,
    BudgetLine,
    CauseCount,
    Entry,
    Incident,
    MetricLine,
    Part,
    Report,
    SeverityCount,
    Status,
)
from bot.domain.rollup import BankMove, Measure, MeasureKind, ProgressMove, Rollup, TableRow, TeamSummary
from bot.text import catalogue, i18n
from bot.text.catalogue import words
from bot.text.i18n import Labels

Format = Literal["md", "slack", "feishu"]
RollupFormat = Literal["md", "text"]

CHAT_BULLET = "•"
# A list marker at the start of a line: "- ", "* ", "+ ", "• ", "1. ", "1) ".
_MARKER = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+•]|\d+[.)])(?=\s)")
_FEISHU_AT = re.compile(r"<(?=at)", re.IGNORECASE)
_FEISHU_ALL = re.compile(r"@(?=all|所有人)", re.IGNORECASE)
_ZWSP = "\u200b"
# Bidirectional controls can make a line read differently from what is stored (U+202E "Trojan Source");
# they are removed from every rendering (Unicode TR9 explicit formatting characters, plus marks).
_BIDI = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# A Markdown line's container prefix: indentation, then any list markers and block quotes.
_MD_PREFIX = re.compile(r"^(?:\s*(?:[-*+]|\d{1,9}[.)])(?=\s)|\s*>)*\s*")
# What would open a block at report level if it began people's text (CommonMark 0.31: ATX headings,
# setext underlines and thematic breaks, fenced code, link reference definitions, HTML blocks).
_MD_OPENER = re.compile(r"^(?:#{1,6}(?:\s|$)|=+\s*$|(?:-\s*){3,}$|(?:_\s*){3,}$|(?:\*\s*){3,}$|`{3,}|~{3,}|\[[^\]]*\]:)")
_MD_BLOCK_START = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)|^#{1,6}\s")


def templates_dir() -> Path:
    """The templates folder: `bot/templates` in an installed wheel, else `<repo>/templates`."""
    package = Path(bot.__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no templates folder in {package} or {package.parent}")


# Filters. Each is a pure function of its arguments; locale-dependent ones take the Labels.


def slack_escape(text: str) -> str:
    """`text` with `& < >` escaped, so `<!channel>` or `<@U123>` shows as typed and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(text: str) -> str:
    """People's text for Slack mrkdwn: `& < >` escaped (see `slack_escape`), kept links as Slack links
    (`<url|label>`, https://docs.slack.dev/messaging/formatting-message-text#linking-urls)."""
    def link(p: links.Link) -> str:
        return f"<{slack_escape(p.url)}>" if p.label == p.url else f"<{slack_escape(p.url)}|{slack_escape(p.label)}>"

    return "".join(slack_escape(p) if isinstance(p, str) else link(p) for p in links.pieces(text))


def feishu_elements(text: str) -> list[dict[str, str]]:
    """One paragraph of a Feishu `post`: text elements (`feishu_safe`), and an `a` element per kept link
    (post content, tag `a` with `text` and `href`: https://open.feishu.cn/document/server-docs/im-v1/message-content-description/create_json#45e0953e)."""
    return [{"tag": "text", "text": feishu_safe(p)} if isinstance(p, str)
            else {"tag": "a", "text": feishu_safe(p.label), "href": p.url} for p in links.pieces(text)]


def feishu_safe(text: str) -> str:
    """`text` with a zero-width space after `<` of `<at` and after `@` of `@all`/`@所有人`."""
    return _FEISHU_ALL.sub("@" + _ZWSP, _FEISHU_AT.sub("<" + _ZWSP, text))


def without_bidi(text: str) -> str:
    """`text` without bidirectional controls (every rendering drops them)."""
    return text.translate(_BIDI)


def md_text(text: str) -> str:
    """People's text for a Markdown file: it cannot open a heading, a setext heading, a code fence, a
    link reference definition or raw HTML, while their nested `-`/`1.` lists keep working.

    Each line's container prefix (indentation, list markers, `>`) is kept; what follows is escaped with
    a CommonMark backslash where it would start such a block, and every `<` is escaped (`\\<` shows `<`).
    """
    out = []
    for line in text.split("\n"):
        prefix = _MD_PREFIX.match(line)
        at = prefix.end() if prefix else 0
        head, rest = line[:at], line[at:].replace("<", "\\<")
        if _MD_OPENER.match(rest):
            rest = "\\" + rest
        out.append(head.replace("<", "\\<") + _md_links(rest))
    return "\n".join(out)


def _md_links(text: str) -> str:
    """Kept links stay `[label](url)`, a bare web address becomes an autolink `<url>` (CommonMark shows a
    bare address as text), and whatever else would open a link or image (`[label](javascript:…)`,
    `![label](url)`) is defused with a backslash before its `[`, so it shows as typed."""
    for at in reversed(links.to_defuse(text)):
        text = text[:at] + "\\" + text[at:]
    return "".join(p if isinstance(p, str) else f"<{p.url}>" if p.label == p.url else f"[{p.label}]({p.url})"
                   for p in links.pieces(text))


def hard_breaks(markdown: str) -> str:
    """Every line of a report stays its own line when a CommonMark renderer shows it.

    A line followed by another line of the same paragraph (not blank, not a new list item or heading)
    ends in two spaces, a hard line break; the raw text reads the same.
    """
    lines = markdown.split("\n")
    for i, line in enumerate(lines[:-1]):
        following = lines[i + 1]
        if line.strip() and following.strip() and not _MD_BLOCK_START.match(following) \
                and not line.lstrip().startswith("#"):
            lines[i] = line.rstrip() + "  "
    return "\n".join(lines)


def shown(entry: Entry, labels: Labels) -> str:
    """An entry's text as typed; its status word if unanswered; the "none" word if answered empty."""
    if not entry.answered:
        return labels.status(entry.status)
    return entry.text or labels.none


def bank_text(bank: BankLine, labels: Labels) -> str:
    """What follows `建行：`: the note, else the stage, else the status or "none" word."""
    if bank.status is not Status.ANSWERED:
        return labels.status(bank.status)
    return bank.note or bank.stage or labels.none


def metric_text(metric: MetricLine, labels: Labels) -> str:
    """What follows `入金有效成功率：`: the value, or the status word."""
    if metric.status is not Status.ANSWERED:
        return labels.status(metric.status)
    return metric.value or labels.none


def list_items(lines: Iterable[str], bullet: str = "-") -> list[str]:
    """People's lines as list items under `bullet`.

    A top-level line that is not already a list item gets `bullet `; indented
    lines keep their place. Unordered markers that the target would not show as
    a list (`•` in Markdown, `- * +` in chat) become `bullet`; numbers stay.
    """
    foreign = "-*+" if bullet == CHAT_BULLET else CHAT_BULLET
    items = []
    for line in lines:
        match = _MARKER.match(line)
        if match and match["marker"] in foreign:
            line = f"{match['indent']}{bullet}{line[match.end() :]}"
        elif not match and line.strip() and not line[0].isspace():
            line = f"{bullet} {line}"
        items.append(line)
    return items


def part_lines(part: Part, labels: Labels, bullet: str = "-") -> list[str]:
    """The list items under a part's heading, after its bank lines.

    A part that has banks shows nothing of its own when its owner wrote nothing,
    since the bank lines already say where it stands.
    """
    if part.entry.answered and part.entry.text:
        return list_items(part.entry.lines, bullet)
    if part.banks:
        return []
    return [f"{bullet} {shown(part.entry, labels)}"]


def indent_lines(text: str, width: int) -> str:
    """Every non-blank line of `text` indented by `width` spaces; blank lines stay empty."""
    pad = " " * width
    return "\n".join(pad + line if line.strip() else "" for line in text.split("\n"))


def hanging(text: str, width: int) -> str:
    """`text` with every line after the first indented by `width` spaces (blank lines stay empty)."""
    first, _, rest = text.partition("\n")
    return f"{first}\n{indent_lines(rest, width)}" if rest else first


def text_lines(text: str) -> list[str]:
    """The lines of `text`, without blank ones (for targets with one paragraph per line)."""
    return [line for line in text.split("\n") if line.strip()]


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f") + "%"


def progress_change(entry: Entry | None) -> str:
    """` (45% → 60%)` when an entry's progress moved since last week, else ""."""
    if entry is None or entry.progress is None or entry.previous_progress is None:
        return ""
    if entry.progress == entry.previous_progress:
        return ""
    return f" ({_percent(entry.previous_progress)} → {_percent(entry.progress)})"


def severity_text(counts: Sequence[SeverityCount], labels: Labels) -> str:
    """`事故数AB级0次，C级1次，D级0.5次` / `Incidents: A/B 0, C 1, D 0.5`."""
    return i18n.incident_counts(counts, labels.locale)


def budget_text(line: BudgetLine, labels: Labels) -> str:
    """A system's availability against its objective, with the budget left (see `i18n.budget_line`)."""
    return i18n.budget_line(line, labels.locale)


def cause_text(counts: Sequence[CauseCount], labels: Labels) -> str:
    """The week's incidents by cause (see `i18n.cause_counts`)."""
    return i18n.cause_counts(counts, labels.locale)


def action_text(line: ActionLine, labels: Labels) -> str:
    """One action item under the incidents (see `i18n.action_line`)."""
    return i18n.action_line(line, labels.locale)


def actions_heading(labels: Labels) -> str:
    return i18n.actions_heading(labels.locale)


def datetime_text(moment: datetime, labels: Labels) -> str:
    """`2024年6月28日 17:00` / `Jun 28, 2024 17:00`."""
    return i18n.format_datetime(moment, labels.locale)


_ENDS_CLAUSE = tuple("。！？；，,.;!?")


def incident_line(started_at: datetime, headline: str, impact: str, cause: str,
                  recovered_at: datetime | None, locale: str) -> str:
    """One line of 【生产事件】: `MM/DD HH:MM headline，影响：…，原因：…，HH:MM 恢复` (words from the catalogue);
    a recovery time the headline already states is not repeated."""
    w = words(locale)
    stamp = f"{started_at:%m/%d %H:%M} "
    line = stamp + headline

    def then(text: str) -> None:
        nonlocal line
        line += ("" if line.endswith(_ENDS_CLAUSE) else w["report.incident.sep"]) + text

    if impact:
        then(w["report.incident.impact"].format(value=impact))
    if cause:
        then(w["report.incident.cause"].format(value=cause))
    if recovered_at is not None:
        local = recovered_at.astimezone(started_at.tzinfo)
        clock = f"{local:%H:%M}"
        if clock not in line[len(stamp):]:
            when = clock if local.date() == started_at.date() else f"{local:%m/%d %H:%M}"
            then(w["report.incident.recovered"].format(when=when))
    return line


def incident_text(incident: Incident, labels: Labels) -> str:
    """One `【生产事件】` line (see `incident_line`)."""
    return incident_line(incident.started_at, incident.headline, incident.impact, incident.cause,
                         incident.recovered_at, labels.locale)


_MD_LINK = re.compile(r"\[([^\]\n|>]+)\]\((https?://[^\s)<>|]+)\)")


def incident_tail(incident: Incident, labels: Labels) -> str:
    """What follows an incident's line when it repeats an earlier one (`，重复：同 06/12 #2`) and once its
    postmortem is recorded (`，复盘：<link as written>`); "" for neither. Markdown keeps a Markdown link as one, Slack turns it into its own (`slack_link`); Feishu
    shows it as written, link and all, since the report reaches Feishu as cards of plain text."""
    w = words(labels.locale)
    line = incident_text(incident, labels)
    if incident.repeat_of is not None:
        line += ("" if line.endswith(_ENDS_CLAUSE) else w["report.incident.sep"]) + w["report.incident.repeat"].format(
            number=incident.repeat_of.number, day=f"{incident.repeat_of.started_at:%m/%d}")
    if incident.postmortem:
        line += ("" if line.endswith(_ENDS_CLAUSE) else w["report.incident.sep"]) + \
            w["report.incident.postmortem"].format(value=incident.postmortem)
    return line[len(incident_text(incident, labels)):]


def slack_link(text: str) -> str:
    """`text` escaped for Slack, with a Markdown link `[label](https://…)` as Slack's `<url|label>`
    (https://api.slack.com/reference/surfaces/formatting#linking-urls)."""
    out, at = [], 0
    for m in _MD_LINK.finditer(text):
        out.append(slack_escape(text[at:m.start()]))
        out.append(f"<{slack_escape(m.group(2))}|{slack_escape(m.group(1))}>")
        at = m.end()
    out.append(slack_escape(text[at:]))
    return "".join(out)


def postmortems_heading(labels: Labels) -> str:
    return words(labels.locale)["report.postmortems_missing"]


def missing_postmortem_text(incident: Incident, labels: Labels) -> str:
    """`#3 06/27 20:05 gateway-api节点CPU打满`: an incident still without its postmortem."""
    return words(labels.locale)["report.postmortem_missing"].format(
        number=incident.number, stamp=f"{incident.started_at:%m/%d %H:%M}", headline=incident.headline)


def measure_heading(measure: Measure, locale: str) -> str:
    """A roll-up table's column: the metric's own name, `A/B级事故`, `支付网关可用性`."""
    if measure.kind is MeasureKind.SEVERITY:
        return catalogue.say(locale, "rollup.severity", severities=measure.name)
    if measure.kind is MeasureKind.AVAILABILITY:
        return catalogue.say(locale, "rollup.availability", system=measure.name)
    return measure.name


def progress_move(move: ProgressMove) -> str:
    """`45% → 60%`, or `60%` when last week said none."""
    after = _percent(move.after)
    return after if move.before is None else f"{_percent(move.before)} → {after}"


def bank_move(move: BankMove, locale: str) -> str:
    """`联调 → 上线`, or `新 → 联调` for a bank's first stage."""
    before = move.before if move.before is not None else catalogue.say(locale, "rollup.first_stage")
    return f"{before} → {move.after}"


def measured(row: TableRow, measures: Sequence[Measure], locale: str) -> list[str]:
    """A roll-up table row as `measure value` pieces, leaving out the measures the team does not have."""
    return [f"{measure_heading(m, locale)} {cell}" for m, cell in zip(measures, row.cells, strict=True)
            if cell is not None]


def team_facts(team: TeamSummary, say: Callable[..., str], labels: Labels) -> list[str]:
    """A team's line under its heading in the roll-up: when it published, its incidents, what is missing."""
    facts = [say("rollup.published", time=datetime_text(team.published_at, labels))] if team.published_at else []
    facts += [say("rollup.incidents", count=team.incidents)] if team.incidents else []
    return facts + ([say("rollup.not_updated", count=team.not_updated)] if team.not_updated else [])


def md_cell(text: str) -> str:
    """Text inside a Markdown (GFM) table cell: a `|` would end the cell, a line break the row."""
    return md_text(text).replace("|", "\\|").replace("\n", " ")


FILTERS: dict[str, Callable[..., Any]] = {
    "measure_heading": measure_heading,
    "progress_move": progress_move,
    "bank_move": bank_move,
    "md_cell": md_cell,
    "measured": measured,
    "team_facts": team_facts,
    "slack_escape": slack_escape,
    "slack_text": slack_text,
    "feishu_elements": feishu_elements,
    "md_text": md_text,
    "feishu_safe": feishu_safe,
    "shown": shown,
    "bank_text": bank_text,
    "metric_text": metric_text,
    "list_items": list_items,
    "part_lines": part_lines,
    "indent_lines": indent_lines,
    "hanging": hanging,
    "text_lines": text_lines,
    "progress_change": progress_change,
    "severity_text": severity_text,
    "budget_text": budget_text,
    "action_text": action_text,
    "incident_tail": incident_tail,
    "slack_link": slack_link,
    "postmortems_heading": postmortems_heading,
    "missing_postmortem_text": missing_postmortem_text,
    "actions_heading": actions_heading,
    "cause_text": cause_text,
    "datetime_text": datetime_text,
    "incident_text": incident_text,
}


class Renderer:
    """Renders reports with the templates in one folder; holds its own Jinja environment."""

    def __init__(self, directory: Path | None = None) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory if directory is not None else templates_dir()),
            undefined=jinja2.StrictUndefined,
            # Markdown needs no HTML escaping; Slack and Feishu escape in their templates.
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(FILTERS)

    def _render(self, template: str, report: Report) -> str:
        labels = i18n.labels(report.locale)
        return self._env.get_template(template).render(report=report, labels=labels).translate(_BIDI)

    def markdown(self, report: Report) -> str:
        """The report as Markdown, in the exact shape of REPORT.md."""
        return hard_breaks(self._render("report.md.j2", report))

    def slack(self, report: Report) -> str:
        """The report as Slack mrkdwn text; people's text cannot ping anyone."""
        return self._render("report.slack.j2", report)

    def feishu_post(self, report: Report) -> dict[str, Any]:
        """The content of a Feishu `post` message: `{lang: {"title": …, "content": [[element], …]}}`.

        The template writes one paragraph per line as JSON, so Python only parses it.
        """
        labels = i18n.labels(report.locale)
        lines = self._render("report.feishu.j2", report).split("\n")
        # The template writes JSON, where a bidi control may stand as a \\u escape: clean the parsed text.
        content = [[{k: v.translate(_BIDI) if isinstance(v, str) else v for k, v in element.items()}
                    for element in json.loads(line)] for line in lines if line.strip()]
        title = feishu_safe(labels.report_title(report.week)).translate(_BIDI)
        return {labels.feishu_key: {"title": title, "content": content}}

    def rollup(self, rollup: Rollup, fmt: RollupFormat) -> str:
        """The department's roll-up as Markdown (a file, a wiki: a GFM table) or as chat text (the
        platform's gateway escapes and splits it within its limits, as it does every text it posts)."""
        say = functools.partial(catalogue.say, rollup.locale)
        text = self._env.get_template(f"rollup.{fmt}.j2").render(
            rollup=rollup, say=say, listing=functools.partial(catalogue.listing, rollup.locale),
            labels=i18n.labels(rollup.locale)).translate(_BIDI)
        return text

    def render(self, report: Report, fmt: Format) -> str:
        """The report in `fmt` as text; a Feishu post as indented JSON."""
        if fmt == "md":
            return self.markdown(report)
        if fmt == "slack":
            return self.slack(report)
        if fmt == "feishu":
            return json.dumps(self.feishu_post(report), ensure_ascii=False, indent=2)
        raise ValueError(f"unknown format '{fmt}' (md, slack or feishu)")
