"""The checks `dse space check` makes beyond the schema, all before anything starts.

- `suite_problems`: the suite loads and every `workloads.<w>.<metric>` name exists on it;
- `structural_problems`: the midpoint design builds (unknown hardware keys, type errors
  and failing expressions are file mistakes, named by key path);
- `sampler_problems`: sampler settings are known and typed; a grid is bounded;
- `searchable_problems`: the Optuna sampler builds with the file's settings, and every
  objective and constraint can be met by a checked design. Only worth making before a
  search (`load_space`), not when a results folder's recorded space is re-read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from dse.config import hardware_from_dict
from dse.config._problems import closest, did_you_mean, shown
from dse.errors import ConfigError, Problem
from dse.hardware import Hardware
from dse.search.expressions import Expression, ExpressionError, Value
from dse.space import (
    MAX_GRID_POINTS,
    MAX_POINTS_PER_FLOAT,
    ParameterSpec,
    SamplerName,
    ScalarChoice,
    SearchSpace,
    SpaceFile,
    sanitize_name,
)


def searchable_problems(space: SearchSpace) -> list[Problem]:
    """What would make a search of `space` fail or find nothing, found before it starts."""
    return _sampler_build_problems(space) + _reachability_problems(space)


def _sampler_build_problems(space: SearchSpace) -> list[Problem]:
    """Build the Optuna sampler now, so settings it refuses stop the check, not the search.

    NOTE: `population_size: 1` or `mutation_prob: 5` used to pass the check and fail only
    after Ray had started and the results folder existed, which then blocked a rerun.
    """
    import warnings

    from dse.search.study import make_sampler

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_sampler(space)
    except (ValueError, TypeError, ArithmeticError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [Problem(space.source, "sampler", f"{space.spec.sampler.name} refuses its "
                        f"settings: {message[:200]}")]
    return []


def _probe_points(space: SearchSpace) -> list[tuple[str, dict[str, ScalarChoice]]]:
    """The midpoint and the two corners of the space (every parameter low, every high)."""
    low: dict[str, ScalarChoice] = {}
    high: dict[str, ScalarChoice] = {}
    for name, parameter in space.parameters.items():
        if parameter.kind == "categorical":
            assert parameter.choices is not None
            low[name], high[name] = parameter.choices[0], parameter.choices[-1]
        else:
            assert parameter.low is not None
            first: ScalarChoice = int(parameter.low) if parameter.kind == "int" else parameter.low
            low[name], high[name] = first, _last_value(parameter)
    return [("midpoint", space.midpoint()), ("low corner", low), ("high corner", high)]


def _last_value(parameter: ParameterSpec) -> ScalarChoice:
    assert parameter.low is not None and parameter.high is not None
    step = parameter.step or (1.0 if parameter.kind == "int" else None)
    if step is None:
        return parameter.high
    value = parameter.low + math.floor((parameter.high - parameter.low) / step + 1e-9) * step
    return int(value) if parameter.kind == "int" else value


def _reachability_problems(space: SearchSpace) -> list[Problem]:
    """Objectives and constraints that no checked design can meet are file mistakes.

    The designs checked: the base design and the references (the brief's "at least the
    base design or a reference") and, so that a space exploring away from its base is
    not refused, the midpoint and both corners of the space. An objective must be a
    number for one of them; each constraint must be met by one of them. Evaluating
    them costs one vectorised suite call (a fraction of a second).
    """
    if not space.objective_expressions and not space.constraint_expressions:
        return []
    from dse.search.evaluation import PointToEvaluate, evaluate_points, evaluate_references

    probes = _probe_points(space)
    outcomes = evaluate_points(
        space, [PointToEvaluate(i, params) for i, (_, params) in enumerate(probes)]
    )
    labels = [label for label, _ in probes]
    designs: list[Hardware] = [hardware_from_dict(dict(space.base_hardware), "base")]
    labels_of_designs = ["base design"]
    for name, hardware in space.reference_designs():
        designs.append(hardware)
        labels_of_designs.append(f"reference {name}")
    outcomes += evaluate_references(space, designs)
    labels += labels_of_designs

    problems: list[Problem] = []
    for index, objective in enumerate(space.objectives):
        values = [o.objectives.get(objective.name, math.nan) for o in outcomes]
        if not any(math.isfinite(v) for v in values):
            why = _first_reason(outcomes, f"objective {objective.name}:")
            problems.append(Problem(space.source, f"objectives[{index}].expression",
                                    f"not a finite number for any design checked ("
                                    f"{', '.join(labels)}){why}"))
    for name, constraint in space.constraints.items():
        violations = [o.constraints.get(name, math.nan) for o in outcomes]
        if any(math.isfinite(v) and v <= 0 for v in violations):
            continue
        if not any(math.isfinite(v) for v in violations):
            why = _first_reason(outcomes, f"constraint {name}:")
            problems.append(Problem(space.source, f"constraints.{name}",
                                    f"not a finite number for any design checked{why}"))
            continue
        closest, label = min(
            (v, label) for v, label in zip(violations, labels, strict=True) if math.isfinite(v)
        )
        bounds = " and ".join(b for b in (
            f">= {constraint.min:g}" if constraint.min is not None else "",
            f"<= {constraint.max:g}" if constraint.max is not None else "") if b)
        problems.append(Problem(space.source, f"constraints.{name}",
                                f"no design checked meets {bounds} {constraint.unit}".rstrip()
                                + f" (closest: {label}, {closest:.1%} beyond the bound; "
                                f"checked: {', '.join(labels)})"))
    return problems


def _first_reason(outcomes: Sequence[Any], prefix: str) -> str:
    for outcome in outcomes:
        for reason in outcome.infeasible_reason.split("; "):
            if reason.startswith(prefix):
                return ": " + reason[len(prefix):].strip()[:200]
    return ""


def suite_problems(
    suite: str,
    base_hardware: Mapping[str, Any],
    objectives: Mapping[str, Expression],
    constraints: Mapping[str, Expression],
    spec: SpaceFile,
    source: str,
) -> list[Problem]:
    """The suite must exist; `workloads.<w>.<metric>` names must exist on it.

    Metric names are checked by evaluating the base design once (a fraction of a
    second): a typo would otherwise make every trial's objective NaN.
    """
    from evaluators import evaluate_suite, load_suite

    try:
        load_suite(suite)
    except ConfigError as exc:
        return [Problem(source, "suite", "; ".join(p.message for p in exc.problems))]
    used: list[tuple[str, str]] = []
    for index, objective in enumerate(spec.objectives):
        if objective.name in objectives:
            key = f"objectives[{index}].expression"
            used += [(key, n) for n in objectives[objective.name].names]
    for name, expression in constraints.items():
        used += [(f"constraints.{name}.expression", n) for n in expression.names]
    wanted = [(key, n) for key, n in used if n.startswith(("workloads.", "mean."))]
    if not wanted or not base_hardware:
        return []
    (result,) = evaluate_suite([hardware_from_dict(base_hardware, "base")], suite)
    workloads = {sanitize_name(w.workload): w for w in result.workloads}
    metrics = {sanitize_name(m) for w in result.workloads for m in w.metrics}
    problems = []
    for key, name in wanted:
        parts = name.split(".")
        if parts[0] == "mean":
            if len(parts) != 2 or parts[1] not in metrics:
                problems.append(Problem(source, key, f"unknown metric in {name!r}; the suite's "
                                        f"metrics: {', '.join(sorted(metrics))}"))
            continue
        if len(parts) != 3 or parts[1] not in workloads:
            problems.append(Problem(source, key, f"unknown workload in {name!r}; the suite's "
                                    f"workloads: {', '.join(sorted(workloads))}"))
            continue
        reported = {sanitize_name(m) for m in workloads[parts[1]].metrics}
        if reported and parts[2] not in reported:
            close = closest(parts[2], sorted(reported))
            listed = f"{parts[1]} reports: {', '.join(sorted(reported))}"
            hint = f"did you mean {close!r}? {listed}" if close else listed
            problems.append(Problem(source, key, f"unknown metric in {name!r}; {hint}"))
    return problems


def _failing_expression(space: SearchSpace) -> str:
    """The key path of the first expression that fails at the midpoint design."""
    namespace: dict[str, Value] = dict(space.base_names)
    namespace.update({name: c.value for name, c in space.spec.constants.items()})
    namespace.update(space.midpoint())
    expressions = [
        *((f"derived.{name}", name, e) for name, e in space.derived_expressions.items()),
        *((f"hardware.{path}", None, e) for path, e in space.hardware_expressions.items()),
        *((f"remove.{path}", None, e) for path, e in space.remove_conditions.items()),
    ]
    for key, name, expression in expressions:
        try:
            value = expression.evaluate(namespace)
        except ExpressionError:
            return key
        if name is not None:
            namespace[name] = value
    return "derived"


def structural_problems(space: SearchSpace) -> list[Problem]:
    """Build the midpoint design: unknown hardware keys or type errors are file mistakes.

    Value-range failures (e.g. an area budget leaving no compute units) are not: they
    are infeasible designs, reported by `dse space check` as information only.
    """
    try:
        namespace = space.values(space.midpoint())
        document = space.hardware_dict(namespace)
    except ExpressionError as exc:
        return [Problem(space.source, _failing_expression(space), f"at the midpoint design: {exc}")]
    document["name"] = "midpoint"
    try:
        hardware_from_dict(document, source="midpoint")
    except ConfigError as exc:
        problems = []
        for problem in exc.problems:
            message = problem.message
            structural = (
                message in ("unknown key", "required")
                or message.startswith((
                    "unknown key", "must be a whole number", "must be a number",
                    "must be true or false", "must be a string", "must be a list",
                ))
                or "mapping" in message
                or "got '" in message
            )
            if structural:
                problems.append(
                    Problem(space.source, f"hardware.{problem.key_path}", problem.message)
                )
        return problems
    return []


_SAMPLER_SETTINGS: Mapping[str, Mapping[str, type | tuple[type, ...]]] = {
    "async_nsga2": {
        "population_size": int,
        "startup_trials": int,
        "mutation_prob": (float, int),
        "crossover_prob": (float, int),
    },
    "nsga2": {
        "population_size": int,
        "mutation_prob": (float, int),
        "crossover_prob": (float, int),
        "swapping_prob": (float, int),
    },
    "nsga3": {
        "population_size": int,
        "mutation_prob": (float, int),
        "crossover_prob": (float, int),
        "swapping_prob": (float, int),
        "dividing_parameter": int,
    },
    "tpe": {"n_startup_trials": int, "n_ei_candidates": int, "multivariate": bool},
    "gp": {"n_startup_trials": int},
    "random": {},
    "grid": {"points_per_float": int},
}
assert set(_SAMPLER_SETTINGS) == set(get_args(SamplerName)), "keep in step with dse.space"


_SETTING_RANGES: Mapping[str, tuple[float, float]] = {
    "population_size": (2, 100_000),
    "mutation_prob": (0, 1),
    "crossover_prob": (0, 1),
    "swapping_prob": (0, 1),
    "n_ei_candidates": (1, 100_000),
    "dividing_parameter": (1, 1_000),
    "n_startup_trials": (0, 10_000_000),
}
"""Ranges of the sampler settings, checked for every sampler alike.

NOTE: not every sampler checks its own settings when it is built (a steady-state
NSGA-II took `mutation_prob: 5` and would only have failed mid-search), so the ranges
Optuna documents are enforced here as well as by building the sampler."""


def sampler_problems(spec: SpaceFile, source: str) -> list[Problem]:
    problems: list[Problem] = []
    allowed = _SAMPLER_SETTINGS[spec.sampler.name]
    for key, value in spec.sampler.settings.items():
        path = f"sampler.settings.{key}"
        if key not in allowed:
            hint = did_you_mean(key, sorted(allowed)) or "; allowed: none"
            problems.append(Problem(source, path, f"unknown setting for {spec.sampler.name}{hint}"))
        elif isinstance(value, bool) and allowed[key] is not bool:
            problems.append(Problem(source, path, f"must be a number, got {value!r}"))
        elif not isinstance(value, allowed[key]):
            kind = allowed[key]
            wanted = "true or false" if kind is bool else (
                "a whole number" if kind is int else "a number"
            )
            problems.append(Problem(source, path, f"must be {wanted}, got {shown(value)}"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            low, high = _SETTING_RANGES.get(key, (0, math.inf))
            if not low <= value <= high:
                bounds = f"from {low:g} to {high:g}" if high < math.inf else f">= {low:g}"
                problems.append(Problem(source, path, f"must be {bounds}, got {value!r}"))
    if spec.sampler.name == "gp":
        try:
            import torch  # noqa: F401
        except ImportError:
            problems.append(
                Problem(source, "sampler.name", "the gp sampler needs torch, which is missing")
            )
    if spec.sampler.name == "grid":
        problems.extend(_grid_problems(spec, source))
    if spec.sampler.name == "nsga3" and len(spec.objectives) < 2:
        problems.append(Problem(source, "sampler.name", "nsga3 needs two or more objectives"))
    return problems


def _grid_problems(spec: SpaceFile, source: str) -> list[Problem]:
    """A grid is enumerated in memory: bound every axis and the product before building it."""
    problems: list[Problem] = []
    points = spec.sampler.settings.get("points_per_float")
    if points is not None and (
        not isinstance(points, int) or isinstance(points, bool)
        or not 2 <= points <= MAX_POINTS_PER_FLOAT
    ):
        problems.append(Problem(source, "sampler.settings.points_per_float",
                                f"must be a whole number from 2 to {MAX_POINTS_PER_FLOAT}, "
                                f"got {points!r}"))
        return problems
    total = 1.0
    for name, parameter in spec.parameters.items():
        count = parameter.cardinality()
        if count == math.inf:
            if not points:
                problems.append(Problem(source, f"parameters.{name}",
                                        "grid needs a `step` or sampler.settings.points_per_float"))
                continue
            count = float(points)
        if count > MAX_GRID_POINTS:
            problems.append(Problem(source, f"parameters.{name}",
                                    f"a grid axis of {count:.3g} values; at most "
                                    f"{MAX_GRID_POINTS:,} (raise `step` or narrow low/high)"))
        total *= count
    if not problems and total > MAX_GRID_POINTS:
        problems.append(Problem(source, "sampler.name",
                                f"a grid of {total:.3g} points; at most {MAX_GRID_POINTS:,} "
                                "(use fewer values per parameter or another sampler)"))
    return problems
