"""Terminal output for `dse pareto / show / compare`: rich tables, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dse.browse.detail import DesignDetail, Figure
from dse.browse.pareto import ParetoTable


def format_value(value: Any) -> str:
    """Four significant digits in engineering notation, at most 10 characters for a
    number: 2.836, 579.9, 30.75e3, 273.1e6, 4.5e-6; plain text for the rest; missing '-'.

    # NOTE: engineering notation (exponents in steps of 3) keeps every number short, so
    # a table fits a terminal without rich cutting a value to `3.17e…`; the exponent
    # maps to k/M/G at a glance. CSV and JSON keep full precision.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return _engineering(value)
    return str(value)


def _engineering(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        return f"{value:.4g}"
    exponent = 3 * math.floor(math.log10(magnitude) / 3)
    mantissa = value / 10.0**exponent
    if abs(float(f"{mantissa:.4g}")) >= 1000:  # 999.96e3 rounds to 1000e3: 1e6
        exponent += 3
        mantissa /= 1000
    return f"{mantissa:.4g}e{exponent}"


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _header_pieces(text: str) -> list[tuple[str, str]]:
    """(separator before, piece): a header breaks after `_` and at spaces."""
    pieces: list[tuple[str, str]] = []
    for w, word in enumerate(text.split(" ")):
        parts = word.split("_")
        for p, part in enumerate(parts):
            piece = part + ("_" if p < len(parts) - 1 else "")
            if piece:
                pieces.append((" " if w and not p else "", piece))
    return pieces


def _wrap_header(text: str, width: int) -> str:
    """Break a header after `_` or at a space into lines of at most `width` characters
    (a piece longer than that keeps its own line)."""
    lines: list[str] = []
    for separator, piece in _header_pieces(text):
        if lines and len(lines[-1]) + len(separator) + len(piece) <= width:
            lines[-1] += separator + piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def _column_width(header: str, cells: Sequence[str]) -> int:
    """Values are never cut; a header wraps, down to its longest unbreakable piece."""
    longest_piece = max((len(p) for _, p in _header_pieces(header)), default=0)
    return max([len(c) for c in cells] + [min(len(header), max(longest_piece, 8))])


_SHORT_HEADERS = {"trial_number": "trial", "trials": "trials"}


def pareto_rich(table: ParetoTable, width: int | None = None) -> tuple[Table, list[str]]:
    """The front as a rich table at most `width` characters wide (None: as wide as it
    needs), and the headers of the columns left out to fit.

    The trial and the objectives are always shown, then as many parameters, then error
    bands and derived figures, as fit, in the table's column order; values are never cut
    and headers wrap.
    """
    out = Table(
        title=(
            f"Pareto front over {', '.join(table.objectives)}: {table.front_size} distinct "
            f"designs of "
            f"{table.trials_matching} matching feasible ({table.trials_feasible} feasible, "
            f"{table.trials_total} trials, search {table.status})"
        ),
        title_justify="left",
    )
    cells = [[_cell(c, row[i]) for row in table.rows] for i, c in enumerate(table.columns)]
    headers = [_SHORT_HEADERS.get(c, h) for c, h in zip(table.columns, table.headers,
                                                         strict=True)]
    widths = [_column_width(h, col) for h, col in zip(headers, cells, strict=True)]
    # what fits is chosen by priority (the trial and the objectives always, then the
    # parameters, then the error bands and derived figures), shown in column order
    def priority(i: int) -> int:
        column = table.columns[i]
        if column in ("trial_number", "trials") or (
            column.startswith("objective_") and not column.endswith(("_low", "_high"))
        ):
            return 0
        return 1 if column.startswith("param_") else 2

    kept: list[int] = []
    used = 1
    for i in sorted(range(len(widths)), key=lambda i: (priority(i), i)):
        if width is not None and used + widths[i] + 3 > width and priority(i) > 0:
            continue
        kept.append(i)
        used += widths[i] + 3
    kept.sort()
    for i in kept:
        column, head = table.columns[i], headers[i]
        numeric = column in ("trial_number", "trials") or any(
            isinstance(row[i], int | float) and not isinstance(row[i], bool)
            for row in table.rows[:1]
        )
        style = "bold" if column.startswith("objective_") else None
        out.add_column(
            escape(_wrap_header(head, widths[i])), justify="right" if numeric else "left",
            style=style, no_wrap=True, min_width=widths[i], max_width=widths[i],
        )
    for r in range(len(table.rows)):
        out.add_row(*(escape(cells[i][r]) for i in kept))
    return out, [table.headers[i] for i in range(len(table.columns)) if i not in kept]


def _cell(column: str, value: Any) -> str:
    if column == "trials":  # every trial that built the design: how many in a table
        return str(len(value))
    return format_value(value)


def natural_width(table: ParetoTable) -> int:
    """Characters a `pareto_rich` table needs to show every column."""
    widths = [
        _column_width(_SHORT_HEADERS.get(c, h), [_cell(c, row[i]) for row in table.rows])
        for i, (c, h) in enumerate(zip(table.columns, table.headers, strict=True))
    ]
    return sum(widths) + 3 * len(widths) + 1


def pareto_csv(table: ParetoTable) -> str:
    """CSV with unit-carrying headers; floats at full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([
            " ".join(map(str, v)) if isinstance(v, tuple) else "" if _json_value(v) is None else v
            for v in row
        ])
    return buffer.getvalue()


def pareto_json(table: ParetoTable) -> str:
    """A JSON list of rows keyed by Parquet column name (`trial_number`, `objective_*`, ...)."""
    records = [{k: _json_value(v) for k, v in r.items()} for r in table.records()]
    return json.dumps(records, indent=2, allow_nan=False)


# --- one or several designs side by side -------------------------------------------------


def _figure_rows(
    details: Sequence[DesignDetail], attribute: str
) -> list[tuple[str, str, list[Any]]]:
    """(name, unit, value per design) for every figure any design has, in first-seen order."""
    order: dict[str, str] = {}
    for detail in details:
        for figure in getattr(detail, attribute):
            order.setdefault(figure.name, figure.unit)
    rows = []
    for name, unit in order.items():
        values = []
        for detail in details:
            found: Figure | None = next(
                (f for f in getattr(detail, attribute) if f.name == name), None
            )
            values.append(found.value if found is not None else None)
        rows.append((name, unit, values))
    return rows


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row; plain strings are shown literally (a reason like "[x]" is not markup)."""
    table.add_row(*(cell if isinstance(cell, Text) else escape(str(cell)) for cell in cells))


def _side_by_side(title: str, details: Sequence[DesignDetail]) -> Table:
    """Names (wrapping if need be), units, then one column per design whose values are
    never cut (the caller prints it as wide as its values need)."""
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("unit")
    for detail in details:
        table.add_column(escape(detail.label), justify="right")
    return table


def _unbreakable(table: Table) -> Table:
    """Every column at least as wide as its longest word, so text wraps at spaces but a
    number or a name is never broken or cut (`3.17e…`)."""
    for column in table.columns:
        words = [
            len(word)
            for cell in column.cells
            for word in (cell.plain if isinstance(cell, Text) else Text.from_markup(
                str(cell)).plain).split()
        ]
        column.min_width = max([*words, column.min_width or 0])
    return table


def _with_band(detail: DesignDetail, name: str) -> Any:
    """An objective's value, with its error band when it has one: `2.27 (1.84-2.95)`."""
    figure = next((f for f in detail.objectives if f.name == name), None)
    if figure is None or figure.low is None or figure.high is None:
        return figure.value if figure is not None else None
    return (f"{format_value(figure.value)} ({format_value(figure.low)}-"
            f"{format_value(figure.high)})")


def _versus_rows(table: Table, details: Sequence[DesignDetail]) -> None:
    """Each design's objectives relative to each reference chip; "not distinguishable"
    where the difference is inside the error band (docs/cost-model.md, Error bands)."""
    references = list(dict.fromkeys(v.reference for d in details for v in d.versus))
    for reference in references:
        table.add_section()
        _row(table, Text(f"versus {reference}", style="bold"), "", *([""] * len(details)))
        objectives = dict.fromkeys(v.objective for d in details for v in d.versus
                                   if v.reference == reference)
        for objective in objectives:
            cells = []
            for d in details:
                v = next((v for v in d.versus
                          if (v.reference, v.objective) == (reference, objective)), None)
                if v is None or v.relative is None:
                    cells.append("-")
                    continue
                flag = " not distinguishable" if v.distinguishable is False else ""
                cells.append(f"{v.relative:.3g}x{flag}")
            _row(table, objective, "x", *cells)


def comparison_tables(details: Sequence[DesignDetail]) -> list[Table]:
    """Overview, per-workload metrics and the time-by-bound breakdown, one column per design."""
    overview = _side_by_side("Design", details)
    _row(overview, "state", "", *(d.state for d in details))
    _row(overview, "feasible", "", *(format_value(d.feasible) for d in details))
    if any(d.infeasible_reason for d in details):
        _row(overview, "infeasible because", "", *(d.infeasible_reason or "-" for d in details))
    if any(d.error for d in details):
        _row(overview, "error", "", *(d.error or "-" for d in details))
    sections = [
        ("parameters", "parameters"),
        ("objectives", "objectives"),
        ("derived", "derived"),
        ("constraints (<= 0 feasible)", "constraints"),
    ]
    for label, attribute in sections:
        rows = _figure_rows(details, attribute)
        if not rows:
            continue
        overview.add_section()
        _row(overview, Text(label, style="bold"), "", *([""] * len(details)))
        for name, unit, values in rows:
            if attribute == "objectives":
                values = [_with_band(d, name) for d in details]
            if attribute == "constraints":
                unit = "of bound"  # relative violation (value - bound) / |bound|
            _row(overview, name, unit, *(format_value(v) for v in values))
        if attribute == "parameters" and any(len(d.same_design_trials) > 1 for d in details):
            _row(overview, "trials building this design", "",
                 *(" ".join(map(str, d.same_design_trials)) or "-" for d in details))
        if attribute == "parameters" and any(d.inert_parameters for d in details):
            _row(overview, "not acting on the design", "",
                 *(", ".join(d.inert_parameters) or "-" for d in details))
    _versus_rows(overview, details)
    tables = [overview]

    workloads = list(dict.fromkeys(w.workload for d in details for w in d.workloads))
    if not workloads:
        note = _side_by_side("Per workload", details)
        _row(note, "no per-workload rows", "", *("-" for _ in details))
        return [_unbreakable(t) for t in (*tables, note)]
    metrics = _side_by_side("Per workload", details)
    bounds = _side_by_side(
        "Where the time goes (seconds per request or per step as each workload says, "
        "share, bound_by)", details)
    for workload in workloads:
        per_design = [
            next((w for w in d.workloads if w.workload == workload), None) for d in details
        ]
        metrics.add_section()
        bounds.add_section()
        _row(metrics, Text(workload, style="bold"), "", *([""] * len(details)))
        _row(metrics,
            "feasible", "",
            *(format_value(w.feasible) if w else "-" for w in per_design),
        )
        if any(w and w.infeasible_reason for w in per_design):
            _row(metrics,
                "infeasible because", "",
                *((w.infeasible_reason or "-") if w else "-" for w in per_design),
            )
        names: dict[str, str] = {}
        for w in per_design:
            for m in w.metrics if w else ():
                names.setdefault(m.name, m.unit)
        for name, unit in names.items():
            values = [
                next((m.value for m in w.metrics if m.name == name), None) if w else None
                for w in per_design
            ]
            if all(format_value(v) == "-" for v in values):
                continue  # a metric that does not apply to this workload (TTFT of a CNN)
            _row(metrics, name, unit, *(format_value(v) for v in values))
        periods = {w.period for w in per_design if w and w.period}
        single = periods.pop() if len(periods) == 1 else ""
        period = f" (per {single})" if single else ""
        _row(bounds,
            Text(workload + period, style="bold"), "bound_by",
            *((Text(w.bound_by, style="bold") if w and w.bound_by else "-") for w in per_design),
        )
        bound_names = list(
            dict.fromkeys(b.name for w in per_design if w for b in w.time_by_bound_s)
        )
        for bound in bound_names:
            cells = []
            for w in per_design:
                if w is None:
                    cells.append("-")
                    continue
                total = sum(
                    b.value for b in w.time_by_bound_s
                    if b.value is not None and math.isfinite(b.value)
                )
                value = next((b.value for b in w.time_by_bound_s if b.name == bound), None)
                if value is None or not math.isfinite(value):
                    cells.append("-")
                else:
                    share = f" ({100 * value / total:.0f}%)" if total > 0 else ""
                    cells.append(format_value(float(value)) + share)
            _row(bounds, bound, f"s/{single}" if single else "s", *cells)
    breakdowns = [
        _breakdown_table(title, details, workloads, attribute)
        for title, attribute in (
            ("By phase (evaluated now; seconds per request or per step, share)",
             "time_by_phase_s"),
            ("By operator class (evaluated now; seconds per request or per step, share)",
             "time_by_operator_class_s"))
    ]
    return [_unbreakable(t) for t in (*tables, metrics, bounds, *breakdowns) if t is not None]


def _seconds_with_share(figures: Sequence[Figure], name: str) -> str:
    """`0.1234 (12%)`: a figure's seconds and its share of all of them; '-' if missing."""
    total = sum(f.value for f in figures if f.value is not None and math.isfinite(f.value))
    value = next((f.value for f in figures if f.name == name), None)
    if value is None or not math.isfinite(value):
        return "-"
    share = f" ({100 * value / total:.0f}%)" if total > 0 else ""
    return format_value(float(value)) + share


def _breakdown_table(title: str, details: Sequence[DesignDetail], workloads: Sequence[str],
                     attribute: str) -> Table | None:
    """One section per workload, a row per phase (or operator class); None when no
    design has the breakdown (a search's folder alone does not: `with_breakdowns`)."""
    if not any(getattr(w, attribute) for d in details for w in d.workloads):
        return None
    table = _side_by_side(title, details)
    for workload in workloads:
        per_design = [
            next((w for w in d.workloads if w.workload == workload), None) for d in details
        ]
        if not any(w and getattr(w, attribute) for w in per_design):
            continue
        periods = {w.period for w in per_design if w and w.period}
        single = periods.pop() if len(periods) == 1 else ""
        table.add_section()
        _row(table, Text(workload + (f" (per {single})" if single else ""), style="bold"), "",
             *([""] * len(details)))
        if any(w and w.breakdown_matches is False for w in per_design):
            _row(table, "differs from the stored time", "", *(
                "yes" if w and w.breakdown_matches is False else "-" for w in per_design))
        names = list(dict.fromkeys(f.name for w in per_design if w for f in getattr(w, attribute)))
        for name in names:
            _row(table, name, f"s/{single}" if single else "s", *(
                _seconds_with_share(getattr(w, attribute), name) if w else "-"
                for w in per_design))
    return table


def details_csv(details: Sequence[DesignDetail]) -> str:
    """Long CSV: section, workload, name, unit, then one column per design (full precision;
    missing is empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "workload", "name", "unit", *(d.label for d in details)])

    def value(v: Any) -> Any:
        return "" if _json_value(v) is None else v

    for attribute in ("parameters", "objectives", "derived", "constraints"):
        for name, unit, values in _figure_rows(details, attribute):
            writer.writerow([attribute, "", name, unit, *(value(v) for v in values)])
    for attribute in ("objectives",):
        for name, unit, _values in _figure_rows(details, attribute):
            for end in ("low", "high"):
                cells = [next((getattr(f, end) for f in d.objectives if f.name == name), None)
                         for d in details]
                if any(c is not None for c in cells):
                    writer.writerow([f"objective band {end}", "", name, unit,
                                     *(value(c) for c in cells)])
    workloads = list(dict.fromkeys(w.workload for d in details for w in d.workloads))
    for workload in workloads:
        per_design = [next((w for w in d.workloads if w.workload == workload), None)
                      for d in details]
        names = dict.fromkeys((m.name, m.unit) for w in per_design if w for m in w.metrics)
        for name, unit in names:
            writer.writerow(["metric", workload, name, unit, *(
                value(next((m.value for m in w.metrics if m.name == name), None) if w else None)
                for w in per_design)])
        bounds = dict.fromkeys(b.name for w in per_design if w for b in w.time_by_bound_s)
        for bound in bounds:
            writer.writerow(["time by bound", workload, bound, "s", *(
                value(next((b.value for b in w.time_by_bound_s if b.name == bound), None)
                      if w else None) for w in per_design)])
        for attribute, section in (("time_by_phase_s", "time by phase"),
                                   ("time_by_operator_class_s", "time by operator class")):
            parts = dict.fromkeys(f.name for w in per_design if w for f in getattr(w, attribute))
            for part in parts:
                writer.writerow([section, workload, part, "s", *(
                    value(next((f.value for f in getattr(w, attribute) if f.name == part), None)
                          if w else None) for w in per_design)])
        writer.writerow(["period", workload, "time by bound adds up to", "",
                         *((w.period if w else "") for w in per_design)])
    return buffer.getvalue()


def details_json(details: Sequence[DesignDetail]) -> str:
    return json.dumps([d.to_dict() for d in details], indent=2, allow_nan=False)
