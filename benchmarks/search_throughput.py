"""Designs evaluated per second with 1 and 2 Ray workers (target: >= 1.7x from 1 to 2).

Two figures per worker count, each on a fresh embedded Ray with that many CPUs:
- evaluation throughput: random points of sram_vs_hbm.yaml sent to workers in
  vectorised chunks (`dse.runtime.worker.evaluate_chunk`), after a warm-up task per
  worker (imports, suite reference throughputs); what the workers can do;
- search throughput: a whole `run_search` (Optuna ask/tell on the driver, journal,
  Parquet commits), what a user sees; the driver's share does not scale with workers.

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


def evaluation_rate(space: SearchSpace, workers: int, designs: int, chunk: int,
                    repeats: int) -> float:
    ray.init(address="local", num_cpus=workers, include_dashboard=False,
             logging_level="ERROR", log_to_driver=False)
    try:
        space_ref = ray.put(space)
        warm = random_points(space, chunk * workers, seed=99)
        ray.get([_remote(space_ref, warm[i : i + chunk]) for i in range(0, len(warm), chunk)])
        rates = []
        for repeat in range(repeats):
            points = random_points(space, designs, seed=repeat)
            started = time.perf_counter()
            ray.get([_remote(space_ref, points[i : i + chunk])
                     for i in range(0, len(points), chunk)])
            rates.append(designs / (time.perf_counter() - started))
        return statistics.median(rates)
    finally:
        ray.shutdown()


def search_rate(space: SearchSpace, workers: int, trials: int) -> float:
    spec = space.spec.model_copy(update={"sampler": space.spec.sampler.model_copy(
        update={"name": "random", "settings": {}})})
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_search(
            dataclasses.replace(space, spec=spec),
            SearchOptions(out=str(Path(tmp) / "out"), trials=trials, num_cpus=workers,
                          batch_size=128, designs_per_task=64),
        )
    return summary.evaluated_here / summary.elapsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "sram_vs_hbm.yaml"))
    parser.add_argument("--designs", type=int, default=4096)
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    space = load_space(args.space)

    figures: dict[str, dict[int, float]] = {"evaluation": {}, "search": {}}
    for workers in (1, 2):
        figures["evaluation"][workers] = evaluation_rate(
            space, workers, args.designs, args.chunk, args.repeats
        )
        figures["search"][workers] = search_rate(space, workers, args.trials)
        print(f"{workers} worker(s): {figures['evaluation'][workers]:8.0f} designs/s evaluated, "
              f"{figures['search'][workers]:6.0f} designs/s in a whole search", flush=True)
    scaling = figures["evaluation"][2] / figures["evaluation"][1]
    search_scaling = figures["search"][2] / figures["search"][1]
    print(f"\nevaluation scaling 1 -> 2 workers: {scaling:.2f}x (target >= 1.7x: "
          f"{'met' if scaling >= 1.7 else 'NOT met'}); whole search: {search_scaling:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
