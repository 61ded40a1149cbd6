"""One design in full: parameters, derived figures, objectives, per-workload metrics, and
where its time goes (the `bound_by` breakdown). What `dse show` prints and the web page's
breakdown panel draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from dse.browse.results import (
    Results,
    acting_parameters,
    band_columns,
    columns_of,
    connect,
    run_query,
    same_design_trials,
    unit_from_name,
    unit_of_column,
)
from dse.core import BOUND_NAMES
from dse.errors import ConfigError, Problem


@dataclass(frozen=True, slots=True)
class Figure:
    """A named value with its unit (unit "" for dimensionless or text)."""

    name: str
    unit: str
    value: Any
    low: float | None = None
    high: float | None = None
    """The error band (`dse.validation.bands`): None where the figure has none (it reads
    no predicted time, or the folder was written before bands)."""


@dataclass(frozen=True, slots=True)
class Versus:
    """One objective of a design against a reference chip's."""

    reference: str
    objective: str
    relative: float | None
    """design / reference; None where either is missing or not > 0."""
    distinguishable: bool | None
    """False: the difference is inside the error band ("not distinguishable",
    `dse.validation.bands.objectives_distinguishable`); None: no band to judge by."""


@dataclass(frozen=True, slots=True)
class WorkloadDetail:
    """One design on one workload."""

    workload: str
    evaluator: str
    feasible: bool
    infeasible_reason: str
    metrics: tuple[Figure, ...]
    time_by_bound_s: tuple[Figure, ...]
    """Seconds attributed to each bound (compute, sram, hbm, ddr, host, interconnect)."""
    bound_by: str
    """The bound that takes the most time; "" when no time was attributed."""
    band_kind: str = ""
    """Which error band its times carry (`training-step`, `inference-step`); "" none."""
    period: str = ""
    """What `time_by_bound_s` adds up to: `request` (a whole serving request), `step`
    (one training or inference step), or "" when no metric says (`period_of`)."""
    time_by_phase_s: tuple[Figure, ...] = ()
    """The same time by phase (prefill, decode; forward, backward, optimizer, ...) and
    the evaluator's added terms (host wait, pipeline bubble); filled by
    `dse.browse.breakdown.with_breakdowns` (evaluated again), else empty."""
    time_by_operator_class_s: tuple[Figure, ...] = ()
    """The same time by operator class (gemm, attention, elementwise, collective, ...)."""
    breakdown_matches: bool | None = None
    """Whether the breakdowns, evaluated now, add up to the stored request or step time
    (False: the dse or the space changed since the search); None: not evaluated."""


@dataclass(frozen=True, slots=True)
class DesignDetail:
    """A trial or a reference chip, everything recorded about it."""

    label: str
    """`trial 17` or the reference preset's name."""
    trial_number: int
    reference: str
    """Preset name for a reference chip, "" for a searched design."""
    state: str
    feasible: bool
    infeasible_reason: str
    error: str
    parameters: tuple[Figure, ...]
    derived: tuple[Figure, ...]
    objectives: tuple[Figure, ...]
    constraints: tuple[Figure, ...]
    workloads: tuple[WorkloadDetail, ...]
    versus: tuple[Versus, ...] = ()
    """Each objective against each reference chip compared with (`with_comparisons`)."""
    inert_parameters: tuple[str, ...] = ()
    """Parameters sampled for this trial that do not act on its design (moving them
    builds the same hardware, `dse.distinct`): left out of `parameters`."""
    same_design_trials: tuple[int, ...] = ()
    """Every trial that built this design, itself included (with `only_acting`)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (NaN becomes None)."""
        return _json_safe(asdict(self))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _figures(results: Results, row: dict[str, Any], prefix: str) -> tuple[Figure, ...]:
    return tuple(
        Figure(column.removeprefix(prefix), unit_of_column(results, column), value)
        for column, value in row.items()
        if column.startswith(prefix)
    )


def _ordered_figures(
    results: Results, row: dict[str, Any], prefix: str, names: Sequence[str]
) -> tuple[Figure, ...]:
    """Figures for `names` first (in metadata order), then any other `prefix` columns."""
    seen = [f"{prefix}{name}" for name in names if f"{prefix}{name}" in row]
    rest = [c for c in row if c.startswith(prefix) and c not in seen]
    return tuple(
        Figure(c.removeprefix(prefix), unit_of_column(results, c), row[c]) for c in seen + rest
    )


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _objective_figures(results: Results, row: dict[str, Any]) -> tuple[Figure, ...]:
    """Objectives with their error bands; the band columns are not figures of their own."""
    bands = set(band_columns(results, list(row), results.objective_names))
    figures = []
    for figure in _ordered_figures(results, {k: v for k, v in row.items() if k not in bands},
                                   "objective_", results.objective_names):
        low = _finite(row.get(f"objective_{figure.name}_low"))
        high = _finite(row.get(f"objective_{figure.name}_high"))
        figures.append(Figure(figure.name, figure.unit, figure.value, low, high)
                       if low is not None and high is not None else figure)
    return tuple(figures)


def metric_figure(column: str, value: Any, ratios: tuple[float | None, float | None]
                   ) -> Figure:
    """A workload metric, with its band where the row has one and the metric moves with
    time (`metric_time_exponent`)."""
    from dse.validation.bands import metric_time_exponent

    name = column.removeprefix("metric_")
    exponent = metric_time_exponent(name)
    number = _finite(value)
    low_ratio, high_ratio = ratios
    if exponent == 0 or number is None or low_ratio is None or high_ratio is None:
        return Figure(name, unit_from_name(column), value)
    ends = sorted((number * low_ratio ** exponent, number * high_ratio ** exponent))
    return Figure(name, unit_from_name(column), value, ends[0], ends[1])


def bound_by(time_by_bound_s: Mapping[str, float | None]) -> str:
    """The bound that takes the most time; "" when no time was attributed."""
    timed = {k: v for k, v in time_by_bound_s.items() if v is not None and math.isfinite(v)}
    if not timed:
        return ""
    name = max(timed, key=lambda k: timed[k])
    return name if timed[name] > 0 else ""


_PERIODS = (("request", "request_latency_s"), ("step", "step_time_s"))
"""Which metric is the duration of which period."""


def period_of(bounds: Sequence[Figure], metrics: Sequence[Figure]) -> str:
    """The period the bound times add up to: the one whose duration metric they sum to.

    # NOTE: read from the numbers rather than from the evaluator's name: a serving
    # workload attributes a whole request (prefill and every decode step, e.g. 329.8 s)
    # while a training one attributes one step, and an evaluator may report either.
    """
    total = sum(b.value for b in bounds if b.value is not None and math.isfinite(b.value))
    if total <= 0:
        return ""
    values = {m.name: m.value for m in metrics}
    for period, metric in _PERIODS:
        value = values.get(metric)
        if isinstance(value, float) and math.isfinite(value) and value > 0 and (
            abs(total - value) <= 0.05 * value
        ):
            return period
    return ""


def _workloads(rows: list[dict[str, Any]]) -> tuple[WorkloadDetail, ...]:
    details = []
    for row in rows:
        ratios = (_finite(row.get("band_low_ratio")), _finite(row.get("band_high_ratio")))
        metrics = tuple(metric_figure(c, row[c], ratios) for c in row if c.startswith("metric_"))
        bound_columns = [f"bound_{b}_s" for b in BOUND_NAMES if f"bound_{b}_s" in row]
        bound_columns += [
            c for c in row if c.startswith("bound_") and c.endswith("_s") and c not in bound_columns
        ]
        bounds = tuple(
            Figure(c.removeprefix("bound_").removesuffix("_s"), "s",
                   float(row[c]) if row[c] is not None else None)
            for c in bound_columns
        )
        details.append(
            WorkloadDetail(
                period=period_of(bounds, metrics),
                workload=str(row.get("workload") or ""),
                evaluator=str(row.get("evaluator") or ""),
                feasible=bool(row.get("feasible")),
                infeasible_reason=str(row.get("infeasible_reason") or ""),
                metrics=metrics,
                time_by_bound_s=bounds,
                bound_by=bound_by({b.name: b.value for b in bounds}),
                band_kind=str(row.get("band_kind") or ""),
            )
        )
    return tuple(details)


def _detail(results: Results, row: dict[str, Any], evals: list[dict[str, Any]],
            only_acting: bool = False, con: duckdb.DuckDBPyConnection | None = None
            ) -> DesignDetail:
    reference = str(row.get("reference") or "")
    number = int(row["trial_number"])
    parameters = _ordered_figures(results, row, "param_", results.parameter_names)
    inert: tuple[str, ...] = ()
    same: tuple[int, ...] = ()
    if only_acting and not reference and parameters:
        values = {f.name: f.value for f in parameters}
        acting = acting_parameters(results, values)
        if acting is not None:
            inert = tuple(f.name for f in parameters if f.name not in acting)
            parameters = tuple(f for f in parameters if f.name in acting)
            if con is not None:
                same = same_design_trials(results, con, number, values, acting)
    return DesignDetail(
        inert_parameters=inert,
        same_design_trials=same,
        label=reference or f"trial {number}",
        trial_number=number,
        reference=reference,
        state=str(row.get("state") or ""),
        feasible=bool(row.get("feasible")),
        infeasible_reason=str(row.get("infeasible_reason") or ""),
        error=str(row.get("error") or ""),
        parameters=parameters,
        derived=tuple(
            f for f in _figures(results, row, "derived_") if f.name not in results.objective_names
        ),
        objectives=_objective_figures(results, row),
        constraints=_figures(results, row, "constraint_"),
        workloads=_workloads(evals),
    )


def _fetch_dicts(
    results: Results, con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    cursor = run_query(results, con, sql, params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _evaluations_by_trial(
    results: Results, con: duckdb.DuckDBPyConnection, numbers: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    if not numbers:
        return {}
    listed = ", ".join(str(int(n)) for n in numbers)
    rows = _fetch_dicts(
        results,
        con,
        f"SELECT * FROM evaluations WHERE trial_number IN ({listed}) "
        "ORDER BY trial_number, workload",
    )
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(int(row["trial_number"]), []).append(row)
    return grouped


def design_details(
    results: Results,
    trial_numbers: Sequence[int],
    con: duckdb.DuckDBPyConnection | None = None,
    only_acting: bool = False,
) -> list[DesignDetail]:
    """Details of several trials in two queries; a missing trial is a ConfigError.

    `only_acting`: leave out the parameters that do not act on each design (listed in
    `inert_parameters`); it rebuilds each design a few times (about 25 ms a trial), so
    `dse show` / `compare` ask for it and the page's bulk details do not.
    """
    numbers = [int(n) for n in dict.fromkeys(trial_numbers)]
    if not numbers:
        return []
    own = con is None
    # NOTE: only the parts whose recorded trial numbers can hold these trials are read
    # (`dse show` on a million-trial folder read all ~300 parts' footers twice).
    con = con or connect(results.holding(numbers))
    try:
        listed = ", ".join(str(n) for n in numbers)
        rows = {
            int(row["trial_number"]): row
            for row in _fetch_dicts(
                results, con, f"SELECT * FROM trials WHERE trial_number IN ({listed})"
            )
        }
        missing = [n for n in numbers if n not in rows]
        if missing:
            whole = connect(results)
            try:
                span = run_query(
                    results, whole,
                    "SELECT count(*), min(trial_number), max(trial_number) FROM trials",
                ).fetchall()[0]
            finally:
                whole.close()
            count = int(span[0]) if span else 0
            known = f"trials {span[1]}..{span[2]}" if span and count else "no trials"
            status = results.metadata.status
            raise ConfigError(
                [
                    Problem(
                        str(results.root),
                        f"trial {n}",
                        f"no such finished trial ({count} finished so far: {known}; "
                        f"search {status})",
                    )
                    for n in missing
                ]
            )
        evals = _evaluations_by_trial(results, con, numbers)
        return [_detail(results, rows[n], evals.get(n, []), only_acting, con) for n in numbers]
    finally:
        if own:
            con.close()


def design_detail(results: Results, trial_number: int) -> DesignDetail:
    """One trial in full (see `design_details`)."""
    return design_details(results, [trial_number])[0]


def reference_names(results: Results, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Reference chips evaluated beside the search, in file order."""
    own = con is None
    con = con or connect(results.holding(range(-len(results.metadata.references), 0)))
    try:
        if "reference" not in columns_of(con, "refs"):
            return []
        rows = run_query(results, con, "SELECT reference FROM refs ORDER BY trial_number DESC")
        return [str(r[0]) for r in rows.fetchall()]
    finally:
        if own:
            con.close()


def reference_details(
    results: Results,
    names: Sequence[str],
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[DesignDetail]:
    """Reference chips by preset name, in the order given.

    A chip the search evaluated comes from references.parquet; any other hardware preset
    is evaluated now on the same suite (`dse.browse.presets`). A name that is neither is
    a ConfigError listing both.
    """
    own = con is None
    # the reference chips are trials -1, -2, ...: no search part needs to be read
    con = con or connect(results.holding(range(-len(results.metadata.references), 0)))
    try:
        known = reference_names(results, con)
        stored = [n for n in names if n in known]
        found: dict[str, DesignDetail] = {}
        if stored:
            quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in stored)
            rows = {
                str(row["reference"]): row
                for row in _fetch_dicts(
                    results, con, f"SELECT * FROM refs WHERE reference IN ({quoted})"
                )
            }
            numbers = [int(rows[n]["trial_number"]) for n in stored]
            evals = _evaluations_by_trial(results, con, numbers)
            for n in stored:
                found[n] = _detail(results, rows[n], evals.get(int(rows[n]["trial_number"]), []))
    finally:
        if own:
            con.close()
    others = [n for n in dict.fromkeys(names) if n not in found]
    if others:
        from dse.browse.presets import evaluate_presets

        try:
            for n, detail in zip(others, evaluate_presets(results, others), strict=True):
                found[n] = detail
        except ConfigError as exc:
            offered = ", ".join(known) if known else "none (no references.parquet)"
            raise ConfigError(
                [*exc.problems, Problem("hardware", "", f"references of this search: {offered}")]
            ) from None
    return [found[n] for n in names]


def versus(design: DesignDetail, reference: DesignDetail) -> tuple[Versus, ...]:
    """Each objective of `design` against `reference`'s, flagged where the difference is
    inside the error band."""
    from dse.validation.bands import objectives_distinguishable

    out = []
    for figure in design.objectives:
        other = next((f for f in reference.objectives if f.name == figure.name), None)
        value = _finite(figure.value)
        base = _finite(other.value) if other is not None else None
        if value is None or base is None or value <= 0 or base <= 0:
            out.append(Versus(reference.label, figure.name, None, None))
            continue
        assert other is not None
        flag = None
        if None not in (figure.low, figure.high, other.low, other.high):
            flag = objectives_distinguishable(
                (value, float(figure.low), float(figure.high)),  # type: ignore[arg-type]
                (base, float(other.low), float(other.high)))  # type: ignore[arg-type]
        out.append(Versus(reference.label, figure.name, value / base, flag))
    return tuple(out)


def with_comparisons(details: Sequence[DesignDetail]) -> list[DesignDetail]:
    """`details` with each searched design's `versus` every reference chip among them."""
    from dataclasses import replace

    references = [d for d in details if d.reference]
    return [d if d.reference or not references else
            replace(d, versus=tuple(v for r in references for v in versus(d, r)))
            for d in details]


def reference_detail(results: Results, name: str) -> DesignDetail:
    """One reference chip in full."""
    return reference_details(results, [name])[0]


__all__ = [
    "DesignDetail",
    "Figure",
    "Versus",
    "WorkloadDetail",
    "design_detail",
    "design_details",
    "reference_detail",
    "reference_details",
    "reference_names",
    "versus",
    "with_comparisons",
]
