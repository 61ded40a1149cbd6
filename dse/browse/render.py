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
    """Four significant digits for floats, plain text for the rest; missing is '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def pareto_rich(table: ParetoTable) -> Table:
    out = Table(
        title=(
            f"Pareto front over {', '.join(table.objectives)}: {table.front_size} distinct "
            f"designs of "
            f"{table.trials_matching} matching feasible ({table.trials_feasible} feasible, "
            f"{table.trials_total} trials, search {table.status})"
        ),
        title_justify="left",
    )
    for column, head in zip(table.columns, table.headers, strict=True):
        numeric = column == "trial_number" or any(
            isinstance(row[table.columns.index(column)], int | float) for row in table.rows[:1]
        )
        style = "bold" if column.startswith("objective_") else None
        out.add_column(
            escape(head), justify="right" if numeric else "left", style=style, no_wrap=True
        )
    for row in table.rows:
        out.add_row(*(escape(_cell(c, v)) for c, v in zip(table.columns, row, strict=True)))
    return out


def _cell(column: str, value: Any) -> str:
    if column == "trials":  # every trial that built the design: how many in a table
        return str(len(value))
    return format_value(value)


def natural_width(table: ParetoTable) -> int:
    """Characters a `pareto_rich` table needs so no header or value is cut."""
    widths = [len(h) for h in table.headers]
    for row in table.rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(_cell(table.columns[i], value)))
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
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("unit")
    for detail in details:
        table.add_column(escape(detail.label), justify="right")
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
            _row(overview, name, unit, *(format_value(v) for v in values))
    _versus_rows(overview, details)
    tables = [overview]

    workloads = list(dict.fromkeys(w.workload for d in details for w in d.workloads))
    if not workloads:
        note = _side_by_side("Per workload", details)
        _row(note, "no per-workload rows", "", *("-" for _ in details))
        return [*tables, note]
    metrics = _side_by_side("Per workload", details)
    bounds = _side_by_side("Where the time goes (seconds per step, share, bound_by)", details)
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
        _row(bounds,
            Text(workload, style="bold"), "bound_by",
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
            _row(bounds, bound, "s", *cells)
    return [*tables, metrics, bounds]


def details_json(details: Sequence[DesignDetail]) -> str:
    return json.dumps([d.to_dict() for d in details], indent=2, allow_nan=False)
