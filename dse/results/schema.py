"""The Parquet columns and metadata.json of a results folder (format_version 1).

The folder's files are named in `dse.results.layout` (shared with `dse pareto`, `show`,
`compare`, `browse`).

Column names carry units; every part of one folder has the same trial columns.

Error bands (`dse.validation.bands`; written since bands were added, absent in older
folders, which read as no band): `objective_<name>_low` / `_high` in trials and
references, NaN for an objective that reads no predicted time; `band_kind`,
`band_low_ratio`, `band_high_ratio` in evaluations (measured / predicted time at the
band's two ends: a time metric t lies in [t x low, t x high], a rate in [r / high, r / low]).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from dse.results.layout import FORMAT_VERSION
from dse.search.evaluation import TrialOutcome
from dse.space import SUITE_METRICS, ParameterSpec, SearchSpace

SUITE_DERIVED: tuple[str, ...] = tuple(SUITE_METRICS)
"""Suite-level quantities stored as `derived_<name>` for every evaluated design."""

TIMESTAMP = pa.timestamp("us", tz="UTC")


def parameter_arrow_type(parameter: ParameterSpec) -> pa.DataType:
    if parameter.kind == "int":
        return pa.int64()
    if parameter.kind == "float":
        return pa.float64()
    choices = parameter.choices or []
    if all(isinstance(c, bool) for c in choices):
        return pa.bool_()
    if all(isinstance(c, int) and not isinstance(c, bool) for c in choices):
        return pa.int64()
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in choices):
        return pa.float64()
    return pa.string()


def derived_names(space: SearchSpace) -> list[str]:
    return [*space.spec.derived, *(n for n in SUITE_DERIVED if n not in space.spec.derived)]


def trials_schema(space: SearchSpace, with_reference: bool = False) -> pa.Schema:
    fields = [
        pa.field("trial_number", pa.int64(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("feasible", pa.bool_(), nullable=False),
        pa.field("infeasible_reason", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
    ]
    fields += [
        pa.field(f"param_{name}", parameter_arrow_type(p)) for name, p in space.parameters.items()
    ]
    fields += [pa.field(f"derived_{name}", pa.float64()) for name in derived_names(space)]
    fields += [pa.field(f"objective_{o.name}", pa.float64()) for o in space.objectives]
    fields += [pa.field(name, pa.float64()) for name in band_columns(space)]
    fields += [pa.field(f"constraint_{name}", pa.float64()) for name in space.constraints]
    fields.append(pa.field("evaluated_at", TIMESTAMP, nullable=False))
    if with_reference:
        fields.append(pa.field("reference", pa.string(), nullable=False))
    return pa.schema(fields)


def band_columns(space: SearchSpace) -> list[str]:
    """`objective_<name>_low`, `objective_<name>_high` per objective.

    NOTE: a space whose objectives are named `x` and `x_low` would give two columns of one
    name; the band of such an `x` is left out (its figure is still stored)."""
    taken = {f"objective_{o.name}" for o in space.objectives}
    return [f"objective_{o.name}_{end}" for o in space.objectives
            if not {f"objective_{o.name}_low", f"objective_{o.name}_high"} & taken
            for end in ("low", "high")]


def _param_value(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(arrow_type):
        return str(value)
    if pa.types.is_int64(arrow_type):
        return int(value)
    if pa.types.is_floating(arrow_type):
        return float(value)
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else math.nan


def trials_table(
    space: SearchSpace,
    outcomes: Sequence[TrialOutcome],
    evaluated_at: datetime | None = None,
    references: Sequence[str] | None = None,
) -> pa.Table:
    """One row per outcome, in the folder's fixed schema."""
    schema = trials_schema(space, with_reference=references is not None)
    stamp = evaluated_at or datetime.now(UTC)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for index, outcome in enumerate(outcomes):
        columns["trial_number"].append(int(outcome.trial_number))
        columns["state"].append(outcome.state)
        columns["feasible"].append(bool(outcome.feasible))
        columns["infeasible_reason"].append(outcome.infeasible_reason)
        columns["error"].append(outcome.error)
        for name, parameter in space.parameters.items():
            arrow_type = parameter_arrow_type(parameter)
            columns[f"param_{name}"].append(_param_value(outcome.params.get(name), arrow_type))
        for name in derived_names(space):
            columns[f"derived_{name}"].append(_number(outcome.derived.get(name)))
        for objective in space.objectives:
            columns[f"objective_{objective.name}"].append(
                _number(outcome.objectives.get(objective.name))
            )
        for objective in space.objectives:
            low, high = outcome.objective_bands.get(objective.name, (math.nan, math.nan))
            if f"objective_{objective.name}_low" in columns:
                columns[f"objective_{objective.name}_low"].append(_number(low))
                columns[f"objective_{objective.name}_high"].append(_number(high))
        for name in space.constraints:
            columns[f"constraint_{name}"].append(_number(outcome.constraints.get(name)))
        columns["evaluated_at"].append(stamp)
        if references is not None:
            columns["reference"].append(references[index])
    return pa.Table.from_pydict(columns, schema=schema)


def evaluation_metric_names(outcomes: Iterable[TrialOutcome]) -> tuple[list[str], list[str]]:
    """Sorted metric and bound names seen in `outcomes` (the evaluations schema)."""
    metrics: set[str] = set()
    bounds: set[str] = set()
    for outcome in outcomes:
        for row in outcome.workloads:
            metrics.update(row.metrics)
            bounds.update(row.time_by_bound_s)
    return sorted(metrics), sorted(bounds)


def evaluations_table(
    outcomes: Sequence[TrialOutcome],
    metric_names: Sequence[str] = (),
    bound_names: Sequence[str] = (),
) -> pa.Table:
    """One row per (trial, workload); columns for the given names plus any new ones."""
    seen_metrics, seen_bounds = evaluation_metric_names(outcomes)
    metrics = list(metric_names) + [m for m in seen_metrics if m not in metric_names]
    bounds = list(bound_names) + [b for b in seen_bounds if b not in bound_names]
    fields = [
        pa.field("trial_number", pa.int64(), nullable=False),
        pa.field("workload", pa.string(), nullable=False),
        pa.field("evaluator", pa.string(), nullable=False),
        pa.field("feasible", pa.bool_(), nullable=False),
        pa.field("infeasible_reason", pa.string(), nullable=False),
        pa.field("band_kind", pa.string(), nullable=False),
        pa.field("band_low_ratio", pa.float64()),
        pa.field("band_high_ratio", pa.float64()),
    ]
    fields += [pa.field(f"metric_{m}", pa.float64()) for m in metrics]
    fields += [pa.field(f"bound_{b}_s", pa.float64()) for b in bounds]
    schema = pa.schema(fields)
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for outcome in outcomes:
        for row in outcome.workloads:
            columns["trial_number"].append(int(outcome.trial_number))
            columns["workload"].append(row.workload)
            columns["evaluator"].append(row.evaluator)
            columns["feasible"].append(bool(row.feasible))
            columns["infeasible_reason"].append(row.infeasible_reason)
            columns["band_kind"].append(row.band[0])
            columns["band_low_ratio"].append(_number(row.band[1]))
            columns["band_high_ratio"].append(_number(row.band[2]))
            for m in metrics:
                columns[f"metric_{m}"].append(_number(row.metrics.get(m)))
            for b in bounds:
                columns[f"bound_{b}_s"].append(_number(row.time_by_bound_s.get(b)))
    return pa.Table.from_pydict(columns, schema=schema)


def metadata_document(
    space: SearchSpace,
    *,
    dse_version: str,
    seed: int,
    sampler: str,
    trials_budget: int,
    started_at: datetime,
) -> dict[str, Any]:
    """metadata.json at search start (status running, finished_at null)."""
    return {
        "format_version": FORMAT_VERSION,
        "dse_version": dse_version,
        "space_file": space.source,
        "space_sha256": space.sha256,
        "seed": seed,
        "sampler": sampler,
        "trials_budget": trials_budget,
        "suite": space.spec.suite,
        "objectives": [
            {"name": o.name, "direction": o.direction, "unit": o.unit} for o in space.objectives
        ],
        "parameters": [
            {"name": name, "unit": p.unit, "kind": p.kind} for name, p in space.parameters.items()
        ],
        "constraints": list(space.constraints),
        "references": list(space.spec.references),
        "started_at": started_at.isoformat(),
        "finished_at": None,
        "status": "running",
    }


def outcome_from_trial_row(space: SearchSpace, row: Mapping[Any, Any]) -> TrialOutcome:
    """A stored trials row back as an outcome (resume tells it without re-evaluating)."""
    def finite_or_nan(value: Any) -> float:
        return math.nan if value is None else float(value)

    return TrialOutcome(
        trial_number=int(row["trial_number"]),
        state="failed" if row["state"] == "failed" else "complete",
        feasible=bool(row["feasible"]),
        infeasible_reason=str(row["infeasible_reason"]),
        error=str(row["error"]),
        params={name: row.get(f"param_{name}") for name in space.parameters},
        derived={
            name: finite_or_nan(row.get(f"derived_{name}")) for name in derived_names(space)
        },
        objectives={
            o.name: finite_or_nan(row.get(f"objective_{o.name}")) for o in space.objectives
        },
        constraints={
            name: finite_or_nan(row.get(f"constraint_{name}")) for name in space.constraints
        },
        objective_bands={
            o.name: (finite_or_nan(row.get(f"objective_{o.name}_low")),
                     finite_or_nan(row.get(f"objective_{o.name}_high")))
            for o in space.objectives
        },
    )
