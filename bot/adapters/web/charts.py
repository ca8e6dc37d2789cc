"""Charts drawn on the server as SVG (no script, no CDN: the dashboard works on an intranet).

Each chart comes with its numbers as a table, for screen readers and copying. Geometry only: the
numbers come from the trends service, the words from the catalogue.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.services.trends import Series, Trends

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48
LEGEND_PER_ROW, LEGEND_ROW = 4, 16
NAME_W = 190  # the name column of the bank timeline: "聚合收单 · 建行" fits
MAX_LINES = 12  # more lines than this is a tangle; the table under the chart keeps every series
MAX_POINTS = 400  # hover titles on at most this many points, so a wide chart stays light
COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
DASHES = ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 3"')  # past the palette, lines differ in dash too
STAGE_COLORS = {"意向": "#e5e7eb", "方案": "#fde68a", "开发": "#93c5fd", "联调": "#a78bfa", "上线": "#4ade80"}


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: bool = True  # every cell after the first is a number written by `_num` (nothing to escape)

    def table(self) -> Markup:
        """The chart's numbers as an HTML table; built here because a template loop over thousands of cells
        costs more than the rest of the page."""
        head = "".join(f'<th scope="col">{escape(c)}</th>' for c in self.columns)
        cell = (lambda v: v) if self.numeric else escape
        body = "".join(f"<tr><th scope=\"row\">{escape(r[0])}</th>{''.join(f'<td>{cell(v)}</td>' for v in r[1:])}</tr>"
                       for r in self.rows)
        return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")  # noqa: S704


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.4f}".rstrip("0").rstrip(".")


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner * (i + 0.5) / n if n else 0)


def nice_axis(lo: float, hi: float, *, floor: float | None = None, ceiling: float | None = None,
              ticks: int = 4) -> tuple[float, float, float]:
    """An axis around [lo, hi] on round steps (1, 2 or 5 times a power of ten), kept within [floor, ceiling]
    when given (a percentage never runs past 100): (low end, high end, step)."""
    if hi <= lo:  # one value (or all equal): a narrow band around it, 99.99 is not drawn on a 98–100 axis
        pad = abs(lo) * 0.0005 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    low, high = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if low == lo and floor is None:
        low -= step  # a point on the bottom line is hard to see
    if floor is not None:
        low = max(low, floor)
    if ceiling is not None:
        high = min(high, ceiling)
    return low, high, step


def _frame(labels: Sequence[str], lo: float, hi: float, title: str, legend_rows: int = 1,
           step: float | None = None) -> list[str]:
    height = HEIGHT + LEGEND_ROW * max(0, legend_rows - 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    step = step or (hi - lo) / 4
    n_ticks = max(1, round((hi - lo) / step))
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    for k in range(n_ticks + 1):  # horizontal grid on round values
        v = lo + step * k
        y = _y(v, lo, hi)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{v:.{decimals}f}</text>')
    # Week labels: at most about eight, evenly spaced; the last is drawn only where it has room of its own.
    every = max(1, -(-len(labels) // 8))
    shown = [i for i in range(len(labels)) if i % every == 0]
    if labels and shown[-1] != len(labels) - 1:
        if len(labels) - 1 - shown[-1] < every:
            shown.pop()
        shown.append(len(labels) - 1)
    for i in shown:
        parts.append(f'<text x="{_x(i, len(labels)):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                     f'font-size="10">{escape(labels[i][2:])}</text>')
    return parts


def _y(v: float, lo: float, hi: float) -> float:
    span = (hi - lo) or 1.0
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (v - lo) / span


def _legend_rows(n: int) -> int:
    return max(1, -(-n // LEGEND_PER_ROW))


def _marker(n: int, x: float, y: float, color: str, title: str, cls: str = "point") -> str:
    """Series `n`'s point: a colour and a shape of its own (circle, square, triangle, diamond), so two
    series stay apart beyond the palette and for people who do not tell the colours apart."""
    shape = (n + n // len(COLORS)) % 4  # past the palette the shapes shift, so colour and shape never both repeat
    tip = f"<title>{title}</title>"
    cls = f"{cls} shape-{shape}"
    if shape == 0:
        return f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">{tip}</circle>'
    if shape == 1:
        return f'<rect class="{cls}" x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{color}">{tip}</rect>'
    if shape == 2:
        return (f'<polygon class="{cls}" points="{x:.1f},{y - 3.5:.1f} {x + 3.5:.1f},{y + 3:.1f} {x - 3.5:.1f},{y + 3:.1f}" '
                f'fill="{color}">{tip}</polygon>')
    return (f'<polygon class="{cls}" points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}" '
            f'fill="{color}">{tip}</polygon>')


def _legend(names: Sequence[str], *, markers: bool = False) -> list[str]:
    out = []
    for n, name in enumerate(names):
        x = LEFT + (n % LEGEND_PER_ROW) * 165
        y = HEIGHT - 14 + (n // LEGEND_PER_ROW) * LEGEND_ROW
        color = COLORS[n % len(COLORS)]
        key = (_marker(n, x + 5, y - 4, color, escape(name), "key") if markers
               else f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        out.append(f'{key}<text x="{x + 14}" y="{y}" font-size="11">{escape(name[:22])}</text>')
    return out


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, title: str,
               key: str = "line", lo: float | None = None, hi: float | None = None) -> Chart:
    """Lines over weeks (the first MAX_LINES series); a week without a value breaks the line.

    The table keeps every series."""
    table_series = series
    series = series[:MAX_LINES]
    points = sum(1 for _, vs in series for v in vs if v is not None) <= MAX_POINTS
    values = [v for _, vs in series for v in vs if v is not None]
    # `lo`/`hi` are bounds the values cannot pass (0 and 100 for a percentage): the axis stays inside them.
    low, high, step = nice_axis(min(values) if values else (lo or 0.0), max(values) if values else (hi or 1.0),
                                floor=lo, ceiling=hi)
    lo, hi = low, high
    parts = _frame(labels, lo, hi, title, _legend_rows(len(series)), step)
    for n, (_name, vs) in enumerate(series):
        color, dash = COLORS[n % len(COLORS)], DASHES[(n // len(COLORS)) % len(DASHES)]
        run: list[str] = []
        for i, v in enumerate([*vs, None]):
            if v is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} '
                                 f'points="{" ".join(run)}"/>')
                run = []
                continue
            x, y = _x(i, len(labels)), _y(v, lo, hi)
            run.append(f"{x:.1f},{y:.1f}")
            if points:
                parts.append(_marker(n, x, y, color, f"{escape(labels[i])}: {_num(v)}"))
    parts += _legend([name for name, _ in series], markers=True) + ["</svg>"]
    rows = tuple((label, *(_num(vs[i]) for _, vs in table_series)) for i, label in enumerate(labels))
    return Chart(key, title, Markup("".join(parts)), ("", *(name for name, _ in table_series)), rows)  # noqa: S704


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str,
                 key: str = "bars") -> Chart:
    """Stacked bars per week (incidents by severity; weights, so 0.5 shows as half a step)."""
    totals = [sum(vs[i] for _, vs in series) for i in range(len(labels))]
    _, hi, step = nice_axis(0.0, max([*totals, 1.0]), floor=0.0)
    parts = _frame(labels, 0.0, hi, title, _legend_rows(len(series)), step)
    bar = max(2.0, (WIDTH - LEFT - RIGHT) / max(1, len(labels)) * 0.7)
    for i in range(len(labels)):
        base = 0.0
        for n, (name, vs) in enumerate(series):
            if vs[i] <= 0:
                continue
            y0, y1 = _y(base, 0.0, hi), _y(base + vs[i], 0.0, hi)
            parts.append(f'<rect x="{_x(i, len(labels)) - bar / 2:.1f}" y="{y1:.1f}" width="{bar:.1f}" '
                         f'height="{y0 - y1:.1f}" fill="{COLORS[n % len(COLORS)]}"><title>{escape(labels[i])} '
                         f"{escape(name)}: {_num(vs[i])}</title></rect>")
            base += vs[i]
    parts += _legend([name for name, _ in series]) + ["</svg>"]
    rows = tuple((label, *(_num(vs[i]) for _, vs in series)) for i, label in enumerate(labels))
    return Chart(key, title, Markup("".join(parts)), ("", *(name for name, _ in series)), rows)  # noqa: S704


def timeline(labels: Sequence[str], rows_in: Sequence[tuple[str, Sequence[str | None]]], *, title: str,
             key: str = "timeline", stage_name: Callable[[str], str] = str) -> Chart:
    """One row per bank, one cell per week, coloured by the stage its note stated (`replies.bank_stage`'s
    stage ids, shown as `stage_name` words them in the page's language)."""
    row_h = 22
    height = TOP + row_h * len(rows_in) + 30
    name_w = NAME_W
    cell = (WIDTH - name_w - RIGHT) / max(1, len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    for r, (name, stages) in enumerate(rows_in):
        y = TOP + r * row_h
        parts.append(f'<text x="{name_w - 8}" y="{y + 15}" text-anchor="end" font-size="12">{escape(name)}</text>')
        for i, stage in enumerate(stages):
            if stage is None:
                continue
            parts.append(f'<rect x="{name_w + i * cell:.1f}" y="{y}" width="{max(1.0, cell - 1):.1f}" height="{row_h - 4}" '
                         f'fill="{STAGE_COLORS.get(stage, "#cbd5e1")}"><title>{escape(labels[i])}: '
                         f"{escape(stage_name(stage))}</title></rect>")
    x = name_w
    for stage, color in STAGE_COLORS.items():
        parts.append(f'<rect x="{x}" y="{height - 20}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{height - 11}" font-size="11">{escape(stage_name(stage))}</text>')
        x += 70
    parts.append("</svg>")
    rows = tuple((label, *(stage_name(stage) if (stage := st[i]) else "" for _, st in rows_in))
                 for i, label in enumerate(labels))
    return Chart(key, title, Markup("".join(parts)), ("", *(n for n, _ in rows_in)), rows, numeric=False)  # noqa: S704


def draw_all(trends: Trends, t: Callable[..., str]) -> list[Chart]:
    """Every trends chart, in page order."""
    labels = trends.weeks
    groups: dict[str, list[Series]] = {}
    for s in trends.metrics:
        groups.setdefault(s.group, []).append(s)
    # one chart per metric group of the team file (支付成功率 apart from 系统可用性); the first keeps the key
    charts = [
        line_chart(labels, [(s.name, s.values) for s in group], title=name or t("chart_metrics"),
                   key="metrics" if n == 0 else f"metrics-{n + 1}",
                   hi=100.0 if all(s.unit == "%" for s in group) else None)
        for n, (name, group) in enumerate(groups.items())]
    charts += [
        line_chart(labels, [(t("chart_availability"), trends.availability.values)],
                   title=t("chart_availability"), key="availability", hi=100.0),
        stacked_bars(labels, [(s.name, [v or 0.0 for v in s.values]) for s in trends.incidents],
                     title=t("chart_incidents"), key="incidents"),
        line_chart(labels, [(s.name, s.values) for s in trends.progress], title=t("chart_progress"),
                   key="progress", lo=0.0, hi=100.0),
        timeline(labels, [(b.name, b.stages) for b in trends.banks], title=t("chart_banks"), key="banks",
                 stage_name=lambda stage: t(f"stage_{stage}") if stage in STAGE_COLORS else stage),
    ]
    if trends.budget_left:  # issue 23: each with its data table, as every chart here
        charts.append(line_chart(labels, [(s.name, s.values) for s in trends.budget_left],
                                 title=t("chart_budget"), key="budget", lo=0.0, hi=100.0))
    if trends.by_cause:
        charts.append(stacked_bars(labels, [(s.name, [v or 0.0 for v in s.values]) for s in trends.by_cause],
                                   title=t("chart_causes"), key="causes"))
    if trends.actions:
        charts.append(line_chart(labels, [(t(f"chart_actions_{s.name}"), s.values) for s in trends.actions],
                                 title=t("chart_actions"), key="actions", lo=0.0))
    people = trends.participation
    charts.append(Chart(
        "participation", t("chart_participation"),
        _hbars([(p.person, p.answer_rate) for p in people], t("chart_participation")),
        (t("col_person"), t("col_owned"), t("col_answer_rate"), t("col_late")),
        tuple((p.person, str(p.owned), f"{p.answer_rate:g}%", str(p.late)) for p in people), numeric=False))
    return charts


def _hbars(rows: Sequence[tuple[str, float]], title: str) -> Markup:
    row_h = 22
    height = TOP + row_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    for r, (name, pct) in enumerate(rows):
        y = TOP + r * row_h
        w = (WIDTH - 120 - RIGHT - 50) * pct / 100
        parts.append(f'<text x="112" y="{y + 15}" text-anchor="end" font-size="12">{escape(name)}</text>'
                     f'<rect x="120" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{COLORS[0]}"/>'
                     f'<text x="{124 + w:.1f}" y="{y + 13}" font-size="11">{pct:g}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704
