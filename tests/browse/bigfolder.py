"""A large results folder written in seconds by the real results writer.

`write_big_folder(out, trials)` writes a quickstart-space folder (search_spaces/
quickstart.yaml: the real `SearchSpace`, `metadata_document`, `trials_schema` and
`ResultsFolder.start / write_part / write_references / finish`, so the manifest, atomic
renames and column types are the search's own). Only the numbers are made up, vectorised:
log-uniform SRAM, HBM stacks and compute units as the space samples them, and objectives
that rise and fall together as the cost model's do, with noise. No per-workload rows are
written for the trials (a clicked design's breakdown says so), which keeps 100,000 trials to
a couple of seconds on 2 cores. Used by tests/browse/test_page.py and
benchmarks/page_first_paint.py.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from dse.results.schema import metadata_document, trials_schema
from dse.results.writer import ResultsFolder
from dse.search.evaluation import TrialOutcome
from dse.space import SearchSpace, load_space

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "search_spaces" / "quickstart.yaml"
PART_ROWS = 10_000


def _part(space: SearchSpace, first: int, n: int, rng: np.random.Generator) -> pa.Table:
    sram = np.exp(rng.uniform(math.log(32), math.log(512), n))
    stacks = rng.integers(2, 9, n)
    units = 66 + 6 * rng.integers(0, 23, n)
    unit_scale = units / 132
    speed = unit_scale * (0.55 + 0.06 * stacks) * (1 + 0.02 * np.log2(sram / 32))
    score = speed * rng.lognormal(0, 0.2, n)
    power = (180 + 300 * unit_scale + 25 * stacks + 0.05 * sram) * rng.lognormal(0, 0.15, n)
    cost = (14000 + 9000 * unit_scale + 900 * stacks + 6 * sram) * rng.lognormal(0, 0.15, n)
    die = 250 + 4.5 * units + 0.35 * sram
    misfits = (stacks < 3).astype(np.float64)
    failed = rng.random(n) < 0.01
    feasible = ~failed & (misfits == 0) & (die <= 858)
    nan = np.full(n, np.nan)
    objective = {k: np.where(failed, nan, v) for k, v in
                 (("score", score), ("power_w", power), ("unit_cost_usd", cost))}
    reason = np.where(failed, "evaluation failed", np.where(
        misfits > 0, "1 workload does not fit", np.where(die > 858, "die over the reticle", "")))
    start = datetime(2026, 12, 1, tzinfo=UTC)
    columns = {
        "trial_number": np.arange(first, first + n),
        "state": np.where(failed, "failed", "complete"),
        "feasible": feasible,
        "infeasible_reason": reason,
        "error": np.where(failed, "ValueError: made up for the test", ""),
        "param_sram_capacity_mib": sram,
        "param_hbm_stacks": stacks,
        "param_compute_units": units,
        "derived_unit_scale": unit_scale,
        "derived_score": objective["score"],
        "derived_power_w": objective["power_w"],
        "derived_unit_cost_usd": objective["unit_cost_usd"],
        "derived_die_area_mm2": die,
        "derived_infeasible_workloads": misfits,
        "objective_score": objective["score"],
        "objective_power_w": objective["power_w"],
        "objective_unit_cost_usd": objective["unit_cost_usd"],
        "constraint_fits_workloads": misfits,
        "constraint_reticle_die_area": (die - 858) / 858,
        "evaluated_at": np.datetime64(start.replace(tzinfo=None), "us")
        + np.arange(first, first + n) * np.timedelta64(1, "ms"),
    }
    # The score carries an error band (docs/cost-model.md), +-10 % here; the cost split
    # (manufacturing + NRE / volume) is left unknown (NaN), as is any column added later.
    columns["objective_score_low"] = objective["score"] / 1.1
    columns["objective_score_high"] = objective["score"] * 1.1
    schema = trials_schema(space)
    return pa.table(
        {f.name: pa.array(columns.get(f.name, nan), f.type) for f in schema}, schema=schema
    )


def _reference(space: SearchSpace, number: int, score: float, power: float,
               cost: float, units: int, stacks: int) -> TrialOutcome:
    values = {"score": score, "power_w": power, "unit_cost_usd": cost}
    return TrialOutcome(
        trial_number=number, state="complete", feasible=True, infeasible_reason="", error="",
        params={"sram_capacity_mib": 50.0, "hbm_stacks": stacks, "compute_units": units},
        derived={"unit_scale": units / 132, **values, "die_area_mm2": 814.0,
                 "infeasible_workloads": 0.0},
        objectives=values,
        constraints={"fits_workloads": 0.0, "reticle_die_area": (814 - 858) / 858},
    )


def write_big_folder(out: Path, trials: int, seed: int = 0) -> Path:
    """A finished quickstart-space results folder of `trials` made-up trials at `out`."""
    space = load_space(SPACE)
    folder = ResultsFolder.open(out)
    folder.start(space, metadata_document(
        space, dse_version="test", seed=seed, sampler="async_nsga2", trials_budget=trials,
        started_at=datetime(2026, 12, 1, tzinfo=UTC)))
    folder.write_references(space, [
        _reference(space, -1, 1.0, 400.0, 15000.0, 108, 5),
        _reference(space, -2, 2.4, 700.0, 30746.0, 132, 5),
    ], list(space.spec.references))
    rng = np.random.default_rng(seed)
    empty = pa.table({"trial_number": pa.array([], pa.int64())})
    for first in range(0, trials, PART_ROWS):
        folder.write_part(_part(space, first, min(PART_ROWS, trials - first), rng), empty)
    folder.finish("finished")
    return out
