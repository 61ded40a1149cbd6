"""Hardware presets that the search did not evaluate, evaluated now for `--hardware`.

`dse compare RESULTS 12 --hardware google-tpu-v4` should work even when the search's
references were only an A100 and an H100: the preset is run through the same space file
(from the results folder), suite, objectives and constraints as the search's reference
chips (`dse.search.evaluation.evaluate_references`), in this process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dse.browse.detail import DesignDetail, Figure, WorkloadDetail, bound_by, metric_figure
from dse.browse.results import Results, unit_from_name
from dse.errors import ConfigError, Problem

if TYPE_CHECKING:
    from dse.space import SearchSpace


def _space_dir(results: Results) -> Path:
    """Where the original space file lived (for a `base:` given as a relative path)."""
    original = Path(results.metadata.space_file)
    if original.parent.is_dir():
        return original.parent.resolve()
    return results.root.resolve()


def results_space(results: Results) -> SearchSpace:
    """The search's space, from the copies of its files in the results folder.

    # NOTE: a folder written before the copies existed (no inputs/space.yaml) falls back
    # to OUT/space.yaml read beside the original space file, which works only where that
    # file's folder still is.
    """
    from dse.results.inputs import has_copies, load_results_space
    from dse.space import space_from_text

    if has_copies(results.root):
        return load_results_space(results.root)
    if results.space_text is None:
        raise ConfigError(
            "no space.yaml in the results folder: cannot evaluate other presets on its suite",
            str(results.root),
        )
    return space_from_text(
        results.space_text, str(results.root / "space.yaml"), space_dir=_space_dir(results)
    )


def evaluate_presets(results: Results, names: Sequence[str]) -> list[DesignDetail]:
    """Evaluate hardware presets on the results' suite; labels say they were run now."""
    if not names:
        return []
    from dse.config import list_presets, load_hardware
    from dse.search.evaluation import evaluate_references
    known = list_presets()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            [
                Problem(
                    "hardware",
                    name,
                    "neither a reference chip of this search nor a hardware preset; presets: "
                    + ", ".join(known),
                )
                for name in unknown
            ]
        )
    # NOTE: evaluated with the dse installed now, which may differ from the one that ran
    # the search (metadata dse_version); the label says so rather than hiding it.
    space = results_space(results)
    outcomes = evaluate_references(space, [load_hardware(name) for name in names])
    details = []
    for name, outcome in zip(names, outcomes, strict=True):
        workloads = tuple(
            WorkloadDetail(
                workload=row.workload,
                evaluator=row.evaluator,
                feasible=row.feasible,
                infeasible_reason=row.infeasible_reason,
                metrics=tuple(
                    metric_figure(f"metric_{k}", float(v), row.band[1:])
                    for k, v in row.metrics.items()
                ),
                time_by_bound_s=tuple(
                    Figure(k, "s", float(v)) for k, v in row.time_by_bound_s.items()
                ),
                bound_by=bound_by(row.time_by_bound_s),
                band_kind=row.band[0],
            )
            for row in outcome.workloads
        )
        objective_units = {o.name: o.unit for o in results.metadata.objectives}
        details.append(
            DesignDetail(
                label=f"{name} (evaluated now)",
                trial_number=outcome.trial_number,
                reference=name,
                state=outcome.state,
                feasible=outcome.feasible,
                infeasible_reason=outcome.infeasible_reason,
                error=outcome.error,
                parameters=(),
                derived=tuple(
                    Figure(k, unit_from_name(k), float(v))
                    for k, v in outcome.derived.items()
                    if k not in objective_units
                ),
                objectives=tuple(
                    Figure(k, objective_units.get(k, ""), float(v),
                           *_band(outcome.objective_bands.get(k, (math.nan, math.nan))))
                    for k, v in outcome.objectives.items()
                ),
                constraints=tuple(Figure(k, "", float(v)) for k, v in outcome.constraints.items()),
                workloads=workloads,
            )
        )
    return details


def _band(ends: tuple[float, float]) -> tuple[float | None, float | None]:
    low, high = ends
    return (low, high) if math.isfinite(low) and math.isfinite(high) else (None, None)
