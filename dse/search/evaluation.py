"""Sampled points -> designs -> suite results -> objective and constraint values.

A pure function of the search space and a batch of points: what a Ray worker runs and
what benchmarks call directly. Imports neither ray nor optuna.

Three outcomes for a point:
- complete and feasible: built, evaluated, every workload runs, every constraint <= 0;
- complete and infeasible: unbuildable (e.g. the area budget leaves no compute units),
  a workload does not fit, or a constraint is violated; recorded with the reason;
- failed: the evaluator raised; recorded with the error, the search goes on.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dse.core.calibration import using_calibration
from dse.errors import ConfigError
from dse.hardware import Hardware
from dse.search.expressions import ExpressionError, Value
from dse.space import SUITE_METRICS, SearchSpace, sanitize_name
from dse.validation.bands import (
    ErrorBand,
    band_ratios,
    metric_time_exponent,
    objective_interval,
    suite_workload_bands,
)
from evaluators.api import SuiteResult

SuiteEvaluator = Callable[[Sequence[Hardware], str], list[SuiteResult]]
Economics = Callable[[Sequence[Hardware], Sequence[float | None] | None], list["ChipFigures"]]
"""Designs and each one's volume (None: the economics default) -> their `ChipFigures`."""

UNBUILDABLE_VIOLATION = 1.0e6
"""Constraint value told to Optuna for a point that could not be built at all.

# NOTE: Optuna ranks infeasible trials by the sum of their violations; relative
# violations of real designs are O(0.01-10), so an unbuildable point must rank below
# every buildable one, which 1e6 per constraint guarantees."""

PENALTY_MAGNITUDE = 1.0e30
"""Objective value told to Optuna for an unbuildable point (sign set by direction).

# NOTE: Optuna refuses NaN objectives (it would record the trial as failed, and the
# sampler would forget the point and may propose it again). A finite worst value keeps
# the point in the history; it never reaches the Pareto front, which is feasible-only."""


@dataclass(frozen=True, slots=True)
class PointToEvaluate:
    trial_number: int
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    """One (trial, workload) row of `evaluations/`."""

    workload: str
    evaluator: str
    feasible: bool
    infeasible_reason: str
    metrics: Mapping[str, float]
    time_by_bound_s: Mapping[str, float]
    band: tuple[str, float, float] = ("", math.nan, math.nan)
    """Error band of the workload's step (`dse.validation.bands`): kind and measured /
    predicted time at its two ends; a time metric t lies in [t x low, t x high], a rate
    r in [r / high, r / low]. Empty kind, NaN: no band (a workload the suite does not name)."""


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """One row of `trials/` plus its workload rows; crosses from workers to the driver."""

    trial_number: int
    state: Literal["complete", "failed"]
    feasible: bool
    infeasible_reason: str
    error: str
    params: Mapping[str, Any]
    derived: Mapping[str, float]
    objectives: Mapping[str, float]
    """NaN where the value could not be computed (unbuildable point, failed trial)."""
    constraints: Mapping[str, float]
    """Relative violation: (value - max) / |max| or (min - value) / |min|; <= 0 satisfied."""
    workloads: tuple[WorkloadRow, ...] = field(default=())
    objective_bands: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """(low, high) of each objective over the error bands of the workloads it reads;
    NaN, NaN where it reads no predicted time (cost, area, power) or was not computed."""

    def optuna_values(self, directions: Sequence[str]) -> list[float]:
        """Objective values to tell Optuna: NaN replaced by the worst finite value."""
        values = []
        for (_name, value), direction in zip(self.objectives.items(), directions, strict=True):
            if math.isfinite(value):
                values.append(value)
            else:
                values.append(-PENALTY_MAGNITUDE if direction == "maximize" else PENALTY_MAGNITUDE)
        return values

    def optuna_constraints(self) -> dict[str, float]:
        return {
            name: value if math.isfinite(value) else UNBUILDABLE_VIOLATION
            for name, value in self.constraints.items()
        }


def default_suite_evaluator(designs: Sequence[Hardware], suite: str) -> list[SuiteResult]:
    """The real evaluators, found by suite name through `evaluators.evaluate_suite`."""
    import evaluators

    return evaluators.evaluate_suite(designs, suite)


@dataclass(frozen=True, slots=True)
class ChipFigures:
    """What the economics model says about one design."""

    die_area_mm2: float
    unit_cost_usd: float
    """manufacturing_cost_usd + nre_per_unit_usd; inf when the die cannot be made (larger
    than the usable wafer)."""
    infeasible_reasons: tuple[str, ...] = ()
    manufacturing_cost_usd: float = math.nan
    """Good dies + memory + packaging of one chip, no NRE."""
    nre_usd: float = math.nan
    nre_per_unit_usd: float = math.nan
    """nre_usd / volume_units."""
    volume_units: float = math.nan


def default_economics(
    designs: Sequence[Hardware], volumes: Sequence[float | None] | None = None
) -> list[ChipFigures]:
    """Die area and costs per design from `dse.core.economics`, as one array batch.

    The design's own `technology.die_area_mm2` is used when it has one (search spaces
    set it from their area budget); otherwise the economics model estimates it. NRE is
    amortised over each design's volume (None: `tco.default_volume` of the economics
    file).
    """
    from dse.core import economics
    from dse.units import MM2

    params = economics.default_economics_parameters()
    volume = None
    if volumes is not None and any(v is not None for v in volumes):
        volume = [params.default_volume if v is None else v for v in volumes]
    batch = economics.chip_economics_batch(
        economics.EconomicsInputs.from_hardware(designs), volume, params
    )
    figures = []
    for i in range(len(designs)):
        reasons: tuple[str, ...] = ()
        if not bool(batch.feasible[i]):
            reasons = batch.design(i).infeasible_reasons
        figures.append(
            ChipFigures(
                die_area_mm2=float(batch.die_area_m2[i] / MM2),
                unit_cost_usd=float(batch.unit_cost_usd[i]),
                infeasible_reasons=tuple(reasons),
                manufacturing_cost_usd=float(batch.manufacturing_cost_usd[i]),
                nre_usd=float(batch.nre_usd[i]),
                nre_per_unit_usd=float(batch.nre_per_unit_usd[i]),
                volume_units=float(batch.volume[i]),
            )
        )
    return figures


def _relative_violation(value: float, low: float | None, high: float | None) -> float:
    # NOTE: constraints are told to Optuna relative to their bound, so a 10 % power
    # overrun and a 10 % cost overrun weigh the same when NSGA-II ranks infeasible
    # points by their summed violation (raw W and USD differ by 1e4).
    violations = []
    if high is not None:
        violations.append((value - high) / (abs(high) if high != 0 else 1.0))
    if low is not None:
        violations.append((low - value) / (abs(low) if low != 0 else 1.0))
    return max(violations)


def _suite_namespace(result: SuiteResult, chip: ChipFigures,
                     ends: Mapping[str, tuple[float, float]] | None = None) -> dict:
    """What objective and constraint expressions read. With `ends` (per workload: measured
    / predicted time at one end of its error band, and its share of the score's weight),
    the same namespace as if every workload's time were off by that ratio."""
    ends = ends or {}
    score = float(result.score)
    for workload in result.workloads:
        ratio, share = ends.get(workload.workload, (1.0, 0.0))
        score *= ratio ** -share  # the score is a weighted geometric mean of throughputs
    namespace: dict[str, Value] = {
        "score": score,
        "power_w": float(result.power_w),
        "unit_cost_usd": float(chip.unit_cost_usd),
        "manufacturing_cost_usd": float(chip.manufacturing_cost_usd),
        "nre_per_unit_usd": float(chip.nre_per_unit_usd),
        "nre_usd": float(chip.nre_usd),
        "volume_units": float(chip.volume_units),
        "die_area_mm2": float(chip.die_area_mm2),
        "infeasible_workloads": float(sum(1 for w in result.workloads if not w.feasible)),
    }
    sums: dict[str, list[float]] = {}
    for workload in result.workloads:
        prefix = f"workloads.{sanitize_name(workload.workload)}"
        ratio = ends.get(workload.workload, (1.0, 0.0))[0]
        for metric, value in workload.metrics.items():
            value = float(value) * ratio ** metric_time_exponent(metric) if ends else value
            namespace[f"{prefix}.{sanitize_name(metric)}"] = float(value)
            if workload.feasible:
                sums.setdefault(sanitize_name(metric), []).append(float(value))
    for metric, values in sums.items():
        namespace[f"mean.{metric}"] = sum(values) / len(values)
    return namespace


def _workload_rows(result: SuiteResult, bands: Mapping[str, tuple[ErrorBand, float]]
                   ) -> tuple[WorkloadRow, ...]:
    rows = []
    for w in result.workloads:
        band = bands.get(w.workload, (None, 0.0))[0]
        rows.append(WorkloadRow(
            workload=w.workload,
            evaluator=w.evaluator,
            feasible=bool(w.feasible),
            infeasible_reason="; ".join(w.infeasible_reasons),
            metrics={k: float(v) for k, v in w.metrics.items()},
            time_by_bound_s={k: float(v) for k, v in w.time_by_bound_s.items()},
            band=(band.kind, band.low_ratio, band.high_ratio) if band else ("", math.nan,
                                                                             math.nan),
        ))
    return tuple(rows)


def _objective_bands(space: SearchSpace, values: Mapping[str, Value], result: SuiteResult,
                     chip: ChipFigures, objectives: Mapping[str, float],
                     bands: Mapping[str, tuple[ErrorBand, float]]
                     ) -> dict[str, tuple[float, float]]:
    """Each objective evaluated with every workload at the fast, then the slow, end of its
    band.

    NOTE: all workloads at the same end together is the fully-correlated reading (one
    kernel library off the same way everywhere), as for an operator program's total
    (`operator_interval_s`); the reference chip a score is relative to is held fixed."""
    at_ends: list[dict[str, float]] = []
    for end in (0, 1):
        ratios = {name: (band_ratios(band)[end], share) for name, (band, share) in bands.items()}
        namespace = {**values, **_suite_namespace(result, chip, ratios)}
        figures: dict[str, float] = {}
        for name, expression in space.objective_expressions.items():
            try:
                figures[name] = float(expression.evaluate(namespace))
            except (ExpressionError, TypeError, ValueError):
                figures[name] = math.nan
        at_ends.append(figures)
    return {name: objective_interval(value, [at_ends[0][name], at_ends[1][name]])
            for name, value in objectives.items()}


def _suite_bands(suite: str) -> Mapping[str, tuple[ErrorBand, float]]:
    try:
        return suite_workload_bands(suite)
    except ConfigError:  # a suite that does not load has no results to band either
        return {}


def _outcome_from_result(
    space: SearchSpace,
    point: PointToEvaluate,
    values: Mapping[str, Value],
    derived: Mapping[str, float],
    result: SuiteResult,
    chip: ChipFigures,
) -> TrialOutcome:
    namespace: dict[str, Value] = {
        **values,
        **_suite_namespace(result, chip),
    }
    reasons: list[str] = list(result.infeasible_reasons) if not result.feasible else []
    if not result.feasible and not reasons:
        reasons.append("a workload does not run on this design")
    reasons.extend(chip.infeasible_reasons)
    objectives: dict[str, float] = {}
    for name, expression in space.objective_expressions.items():
        try:
            objectives[name] = float(expression.evaluate(namespace))
        except (ExpressionError, TypeError, ValueError) as exc:
            objectives[name] = math.nan
            reasons.append(f"objective {name}: {exc}")
    constraints: dict[str, float] = {}
    for name, expression in space.constraint_expressions.items():
        spec = space.constraints[name]
        try:
            value = float(expression.evaluate(namespace))
        except (ExpressionError, TypeError, ValueError) as exc:
            constraints[name] = math.nan
            reasons.append(f"constraint {name}: {exc}")
            continue
        constraints[name] = _relative_violation(value, spec.min, spec.max)
        if constraints[name] > 0:
            bound = f"<= {spec.max:g}" if spec.max is not None and value > spec.max else (
                f">= {spec.min:g}"
            )
            reasons.append(f"{name}: {value:.4g} {spec.unit} not {bound}".replace("  ", " "))
    bands = _suite_bands(space.suite)
    suite_derived = {
        key: float(v) for key, v in namespace.items() if key in _SUITE_KEYS and isinstance(v, float)
    }
    return TrialOutcome(
        trial_number=point.trial_number,
        state="complete",
        feasible=not reasons,
        infeasible_reason="; ".join(reasons),
        error="",
        params=dict(point.params),
        derived={**derived, **suite_derived},
        objectives=objectives,
        constraints=constraints,
        workloads=_workload_rows(result, bands),
        objective_bands=_objective_bands(space, values, result, chip, objectives, bands),
    )


_SUITE_KEYS = frozenset(SUITE_METRICS)


def _nan_map(names: Sequence[str]) -> dict[str, float]:
    return {name: math.nan for name in names}


def _unbuildable(space: SearchSpace, point: PointToEvaluate, derived: Mapping[str, float],
                 reasons: Sequence[str]) -> TrialOutcome:
    return TrialOutcome(
        trial_number=point.trial_number,
        state="complete",
        feasible=False,
        infeasible_reason="unbuildable: " + "; ".join(reasons),
        error="",
        params=dict(point.params),
        derived=dict(derived),
        objectives=_nan_map(list(space.objective_expressions)),
        constraints=_nan_map(list(space.constraint_expressions)),
    )


def _failed(space: SearchSpace, point: PointToEvaluate, derived: Mapping[str, float],
            error: str) -> TrialOutcome:
    return TrialOutcome(
        trial_number=point.trial_number,
        state="failed",
        feasible=False,
        infeasible_reason="",
        error=error,
        params=dict(point.params),
        derived=dict(derived),
        objectives=_nan_map(list(space.objective_expressions)),
        constraints=_nan_map(list(space.constraint_expressions)),
    )


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def evaluate_hardware(
    space: SearchSpace,
    points: Sequence[PointToEvaluate],
    designs: Sequence[Hardware],
    values: Sequence[Mapping[str, Value]],
    derived: Sequence[Mapping[str, float]],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
) -> list[TrialOutcome]:
    """Evaluate built designs as one vectorised batch; isolate a design that raises.
    The space's calibration (its `calibration:` file) is in use throughout."""
    suite_evaluator = suite_evaluator or default_suite_evaluator
    economics = economics or default_economics
    if not designs:
        return []
    try:
        with using_calibration(space.calibration):
            results = suite_evaluator(designs, space.suite)
        figures = economics(designs, [_volume(space, v) for v in values])
        batch = list(zip(results, figures, strict=True))
    except Exception:
        # NOTE: one bad design must not fail its whole batch: re-run one by one so the
        # error lands on the design that raised and the others are still evaluated.
        outcomes = []
        for i in range(len(designs)):
            outcomes.extend(
                evaluate_hardware(
                    space, points[i : i + 1], designs[i : i + 1], values[i : i + 1],
                    derived[i : i + 1], suite_evaluator, economics,
                )
                if len(designs) > 1
                else [_evaluate_single_or_fail(space, points[i], designs[i], values[i],
                                               derived[i], suite_evaluator, economics)]
            )
        return outcomes
    return [
        _outcome_from_result(space, point, value, der, result, chip)
        for point, value, der, (result, chip) in zip(
            points, values, derived, batch, strict=True
        )
    ]


def _volume(space: SearchSpace, values: Mapping[str, Value]) -> float | None:
    """The space's `economics.volume_units` for one design; None (the economics default)
    when the space sets none or it reads a parameter a reference chip does not have."""
    # NOTE: a reference chip has constants but no parameters: a volume given as a number
    # or over constants applies to it too, so both sides amortise NRE alike.
    try:
        return space.volume_units(values)
    except (ExpressionError, KeyError, TypeError, ValueError):
        return None


def _evaluate_single_or_fail(
    space: SearchSpace,
    point: PointToEvaluate,
    design: Hardware,
    values: Mapping[str, Value],
    derived: Mapping[str, float],
    suite_evaluator: SuiteEvaluator,
    economics: Economics,
) -> TrialOutcome:
    try:
        # The space's calibration, as for the batch (`evaluate_hardware`): a retried
        # design must get the figures it would have got in a batch that did not raise.
        with using_calibration(space.calibration):
            (result,) = suite_evaluator([design], space.suite)
        (chip,) = economics([design], [_volume(space, values)])
    except Exception as exc:
        return _failed(space, point, derived, _describe(exc))
    return _outcome_from_result(space, point, values, derived, result, chip)


def evaluate_points(
    space: SearchSpace,
    points: Sequence[PointToEvaluate],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
) -> list[TrialOutcome]:
    """Build and evaluate a batch of sampled points; outcomes in the order of `points`."""
    outcomes: dict[int, TrialOutcome] = {}
    built_points: list[PointToEvaluate] = []
    designs: list[Hardware] = []
    values: list[Mapping[str, Value]] = []
    derived: list[Mapping[str, float]] = []
    for index, point in enumerate(points):
        try:
            built = space.build(point.params, f"{space.name}-trial-{point.trial_number}")
        except Exception as exc:
            outcomes[index] = _failed(space, point, {}, _describe(exc))
            continue
        if built.hardware is None:
            outcomes[index] = _unbuildable(space, point, built.derived, built.infeasible_reasons)
            continue
        built_points.append(point)
        designs.append(built.hardware)
        values.append(built.values)
        derived.append(built.derived)
    evaluated = iter(
        evaluate_hardware(space, built_points, designs, values, derived, suite_evaluator, economics)
    )
    return [outcomes[i] if i in outcomes else next(evaluated) for i in range(len(points))]


def evaluate_references(
    space: SearchSpace,
    designs: Sequence[Hardware],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
) -> list[TrialOutcome]:
    """Reference chips on the same suite, objectives and constraints; trial -1 - i.

    Parameters and space-derived quantities do not exist for a preset: objectives that
    read them come out NaN, with the reason.
    """
    points = [PointToEvaluate(-1 - i, {}) for i in range(len(designs))]
    constants: dict[str, Value] = {k: c.value for k, c in space.spec.constants.items()}
    return evaluate_hardware(
        space, points, designs, [constants] * len(designs), [{}] * len(designs),
        suite_evaluator, economics,
    )
