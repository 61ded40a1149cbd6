"""Where each workload's time goes by phase and by operator class, for `dse show` /
`dse compare`.

A search does not compute these (they cost per-design work it does not need) and the
results folder does not store them: the design is rebuilt from the search's space and the
trial's parameters, as `dse export` does (a reference chip: loaded by name), and its
suite evaluated again in this process under the space's calibration, with breakdowns on
(`evaluators.evaluate_suite(..., breakdown=True)`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from dse.browse.detail import DesignDetail, Figure, WorkloadDetail
from dse.browse.results import Results
from dse.errors import ConfigError

if TYPE_CHECKING:
    from dse.hardware import Hardware
    from dse.space import SearchSpace

Breakdowns = Mapping[str, tuple[Mapping[str, float], Mapping[str, float]]]
"""Per workload name: (seconds by phase, seconds by operator class)."""


def _hardware(results: Results, space: SearchSpace, detail: DesignDetail) -> Hardware | None:
    """The design a detail describes, built again; None where it cannot be."""
    from dse.config import load_hardware

    if detail.reference:
        known = dict(space.reference_designs())
        if detail.reference in known:
            return known[detail.reference]
        try:
            return load_hardware(detail.reference)
        except ConfigError:
            return None
    from dse.browse.export import _trial_params

    built = space.build(_trial_params(results, detail.trial_number),
                        f"{space.name}-trial-{detail.trial_number}")
    return built.hardware


def evaluate_breakdowns(space: SearchSpace, hardware: Hardware) -> Breakdowns:
    """One design's suite, evaluated now with breakdowns, under the space's calibration."""
    from dse.core.calibration import using_calibration
    from evaluators import evaluate_suite

    with using_calibration(space.calibration):
        (result,) = evaluate_suite([hardware], space.suite, breakdown=True)
    return {w.workload: (dict(w.time_by_phase_s), dict(w.time_by_operator_class_s))
            for w in result.workloads}


def _figures(seconds: Mapping[str, float]) -> tuple[Figure, ...]:
    return tuple(Figure(name, "s", float(value)) for name, value in seconds.items())


def _with(workload: WorkloadDetail, breakdowns: Breakdowns) -> WorkloadDetail:
    found = breakdowns.get(workload.workload)
    if found is None or not workload.feasible:
        return workload
    by_phase, by_class = found
    return replace(workload, time_by_phase_s=_figures(by_phase),
                   time_by_operator_class_s=_figures(by_class),
                   breakdown_matches=_matches(workload, by_phase))


def _matches(workload: WorkloadDetail, by_phase: Mapping[str, float]) -> bool | None:
    """Whether the re-evaluated time adds up to the stored row's request or step time
    (same dse, same design); None where the row has neither."""
    metrics = {m.name: m.value for m in workload.metrics}
    for name in ("request_latency_s", "step_time_s"):
        stored = metrics.get(name)
        if isinstance(stored, float) and math.isfinite(stored) and stored > 0:
            return abs(sum(by_phase.values()) - stored) <= 1e-6 * stored
    return None


def with_breakdowns(results: Results, details: Sequence[DesignDetail]) -> list[DesignDetail]:
    """`details` with each feasible workload's time by phase and by operator class.

    A design that cannot be rebuilt (a space that no longer loads, a reference file gone)
    keeps its details without them."""
    from dse.browse.presets import results_space

    try:
        space = results_space(results)
    except ConfigError:
        return list(details)
    out = []
    for detail in details:
        hardware = _hardware(results, space, detail)
        if hardware is None or not detail.workloads:
            out.append(detail)
            continue
        breakdowns = evaluate_breakdowns(space, hardware)
        out.append(replace(detail, workloads=tuple(_with(w, breakdowns)
                                                   for w in detail.workloads)))
    return out
