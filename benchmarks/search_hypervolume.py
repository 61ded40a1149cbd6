"""Hypervolume reached by the default sampler versus random search on sram_vs_hbm.yaml.

Target (issue 4): at equal budgets the default sampler (NSGA-II) reaches >= 95 % of the
hypervolume of a reference front with <= 2,000 trials, and beats random search at every
budget reported. The reference front comes from evaluating every distinct design of the
space (the full grid, deduplicated by the hardware it builds: the dead dimension of the
route not taken adds nothing).

Run on demand (not in CI):  .venv/bin/python benchmarks/search_hypervolume.py
Each search is a real `run_search` (Ray, journal storage, Parquet); a budget's figure is
the hypervolume of the first N committed trials of a 2,000-trial search.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray

from dse.results import read_trials
from dse.runtime import SearchOptions, run_search
from dse.runtime.worker import evaluate_chunk
from dse.search.evaluation import PointToEvaluate, evaluate_references
from dse.search.pareto import default_reference, default_scale, hypervolume
from dse.space import SearchSpace, load_space, points_iter

ROOT = Path(__file__).resolve().parents[1]


def distinct_points(space: SearchSpace) -> list[dict]:  # type: ignore[type-arg]
    seen: set[str] = set()
    points = []
    for params in points_iter(space, points_per_float=9):
        key = json.dumps(space.hardware_dict(space.values(params)), sort_keys=True)
        if key not in seen:
            seen.add(key)
            points.append(params)
    return points


def objective_table(space: SearchSpace, outcomes) -> np.ndarray:  # type: ignore[no-untyped-def]
    rows = [[o.objectives[obj.name] for obj in space.objectives] for o in outcomes if o.feasible]
    return np.asarray(rows, dtype=float).reshape(-1, len(space.objectives))


def with_sampler(space: SearchSpace, name: str) -> SearchSpace:
    spec = space.spec.model_copy(
        update={"sampler": space.spec.sampler.model_copy(update={"name": name, "settings": {}})}
    )
    return dataclasses.replace(space, spec=spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "sram_vs_hbm.yaml"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", default="250,500,1000,2000")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    space = load_space(args.space)
    directions = [o.direction for o in space.objectives]

    ray.init(address="local", include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)
    space_ref = ray.put(space)

    started = time.perf_counter()
    points = distinct_points(space)
    chunks = [points[i : i + 256] for i in range(0, len(points), 256)]
    futures = [evaluate_chunk.remote(space_ref, [PointToEvaluate(-1, p) for p in chunk])
               for chunk in chunks]
    dense = [o for result in ray.get(futures) for o in result]
    dense_s = time.perf_counter() - started

    chips = [hardware for _, hardware in space.reference_designs()]
    chip_values = objective_table(space, evaluate_references(space, chips))
    given = [o.hypervolume_reference for o in space.objectives]
    reference_point = default_reference(chip_values, directions, given)
    scale = default_scale(chip_values, directions, reference_point)
    dense_values = objective_table(space, dense)
    reference_hv = hypervolume(dense_values, directions, reference_point, scale)
    print(f"reference front: {len(points)} distinct designs of {space.cardinality():,.0f} "
          f"grid points, {len(dense_values)} feasible, evaluated in {dense_s:.1f} s; "
          f"hypervolume {reference_hv:.5f}")

    ratios: dict[str, dict[int, list[float]]] = {}
    timings: dict[str, list[float]] = {}
    for sampler in ("nsga2", "random"):
        ratios[sampler] = {b: [] for b in budgets}
        timings[sampler] = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                summary = run_search(
                    with_sampler(space, sampler),
                    SearchOptions(out=str(Path(tmp) / "out"), trials=max(budgets), seed=seed),
                )
                trials = read_trials(Path(tmp) / "out").sort_values("trial_number")
            timings[sampler].append(summary.elapsed_s)
            names = [f"objective_{o.name}" for o in space.objectives]
            for budget in budgets:
                first = trials.head(budget)
                values = first.loc[first["feasible"], names].to_numpy(dtype=float)
                ratio = hypervolume(values, directions, reference_point, scale) / reference_hv
                ratios[sampler][budget].append(ratio)
            print(f"  {sampler} seed {seed}: {max(budgets)} trials in {summary.elapsed_s:.1f} s, "
                  + ", ".join(f"{b}: {ratios[sampler][b][-1]:.3f}" for b in budgets))

    print("\nhypervolume / reference hypervolume (mean over seeds, min in brackets)")
    print(f"{'trials':>8} {'nsga2':>16} {'random':>16}  nsga2 > random")
    beats_everywhere = True
    for budget in budgets:
        nsga, rand = np.array(ratios["nsga2"][budget]), np.array(ratios["random"][budget])
        beats = nsga.mean() > rand.mean()
        beats_everywhere &= bool(beats)
        print(f"{budget:>8} {nsga.mean():>9.3f} ({nsga.min():.3f}) {rand.mean():>9.3f} "
              f"({rand.min():.3f})  {'yes' if beats else 'NO'}")
    reached = float(np.mean(ratios["nsga2"][max(budgets)]))
    print(f"\ntarget >= 0.95 at <= 2000 trials: {'met' if reached >= 0.95 else 'NOT met'} "
          f"({reached:.3f}); beats random at every budget: "
          f"{'yes' if beats_everywhere else 'no'}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "space": args.space, "reference_hypervolume": reference_hv,
            "distinct_designs": len(points), "ratios": ratios, "elapsed_s": timings,
        }, indent=2))
    ray.shutdown()


if __name__ == "__main__":
    main()
