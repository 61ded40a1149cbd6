"""Whole search versus evaluation only, at 1 and 2 Ray workers, in one run.

Targets (issue 9): the whole search reaches >= 85 % of the evaluation-only throughput of
the same workers at 1 and at 2 workers, and scales >= 1.7x from 1 to 2 workers.

For each worker count, one fresh embedded Ray with that many CPUs, warmed up with one
task per worker (imports, suite reference throughputs), then:
- evaluation only: random points of the space sent to the workers in chunks
  (`dse.runtime.worker.evaluate_chunk`, rows built as in a search), median of
  `--repeats`; what the workers can do;
- whole search: `run_search` with the space's default sampler (async_nsga2) on the same
  warm cluster and the same chunk size: references, sampler, Parquet commits, journal
  records, all of it; what a user gets. Designs per second = trials / elapsed.

Run on demand (not in CI):  .venv/bin/python benchmarks/search_throughput.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import ray

from dse.runtime import SearchOptions, run_search
from dse.runtime.worker import evaluate_chunk
from dse.search.evaluation import PointToEvaluate
from dse.space import SearchSpace, load_space

ROOT = Path(__file__).resolve().parents[1]


def random_points(space: SearchSpace, count: int, seed: int) -> list[PointToEvaluate]:
    rng = random.Random(seed)
    axes = {name: p.grid_values(9) for name, p in space.parameters.items()}
    return [PointToEvaluate(i, {n: rng.choice(v) for n, v in axes.items()})
            for i in range(count)]


def _remote(space_ref: object, points: list[PointToEvaluate]) -> object:
    columns = {n: [p.params[n] for p in points] for n in points[0].params}
    return evaluate_chunk.remote(space_ref, [p.trial_number for p in points], columns)


def _start_ray(workers: int) -> None:
    ray.init(address="local", num_cpus=workers, include_dashboard=False,
             logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})


def warm_up(space_ref: object, space: SearchSpace, workers: int, chunk: int) -> None:
    warm = random_points(space, chunk * workers, seed=99)
    ray.get([_remote(space_ref, warm[i : i + chunk]) for i in range(0, len(warm), chunk)])


def evaluation_rate(space: SearchSpace, space_ref: object, designs: int, chunk: int,
                    repeats: int) -> float:
    rates = []
    for repeat in range(repeats):
        points = random_points(space, designs, seed=repeat)
        started = time.perf_counter()
        ray.get([_remote(space_ref, points[i : i + chunk])
                 for i in range(0, len(points), chunk)])
        rates.append(designs / (time.perf_counter() - started))
    return statistics.median(rates)


def search_rate(space: SearchSpace, trials: int, chunk: int, sampler: str) -> float:
    spec = space.spec.model_copy(update={"sampler": space.spec.sampler.model_copy(
        update={"name": sampler, "settings": {}})})
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_search(
            dataclasses.replace(space, spec=spec),
            SearchOptions(out=str(Path(tmp) / "out"), trials=trials, designs_per_task=chunk),
        )
    return summary.done / summary.elapsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "sram_vs_hbm.yaml"))
    parser.add_argument("--designs", type=int, default=4096)
    parser.add_argument("--chunk", type=int, default=64, help="designs per Ray task (both)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6000)
    parser.add_argument("--sampler", default="async_nsga2")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    space = load_space(args.space)

    figures: dict[str, dict[int, float]] = {"evaluation": {}, "search": {}}
    for workers in (1, 2):
        _start_ray(workers)
        try:
            space_ref = ray.put(space)
            warm_up(space_ref, space, workers, args.chunk)
            figures["evaluation"][workers] = evaluation_rate(
                space, space_ref, args.designs, args.chunk, args.repeats)
            figures["search"][workers] = search_rate(space, args.trials, args.chunk,
                                                     args.sampler)
        finally:
            ray.shutdown()
        share = figures["search"][workers] / figures["evaluation"][workers]
        print(f"{workers} worker(s): {figures['evaluation'][workers]:8.0f} designs/s evaluated, "
              f"{figures['search'][workers]:6.0f} designs/s in a whole search "
              f"({share:.0%} of evaluation; target >= 85 %: "
              f"{'met' if share >= 0.85 else 'NOT met'})", flush=True)
    scaling = figures["evaluation"][2] / figures["evaluation"][1]
    search_scaling = figures["search"][2] / figures["search"][1]
    print(f"\nscaling 1 -> 2 workers: evaluation {scaling:.2f}x, whole search "
          f"{search_scaling:.2f}x (target >= 1.7x: "
          f"{'met' if search_scaling >= 1.7 else 'NOT met'})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
