"""One driver feeding a big cluster: 64 sleeping workers, the real driver, its CPU per trial.

Targets (issue 9): the driver keeps >= 80 % of 64 workers busy, and its CPU cost is
<= 100 us per trial amortised (>= 10,000 trials/s from one driver core).

An embedded Ray with `--workers` logical CPUs (64) runs a real `run_search`: the real
default sampler (async_nsga2), the real Optuna journal, real Parquet commits. Only the
evaluation is replaced (`SearchOptions.point_evaluator`): each chunk sleeps
`--sleep-s` and returns cheap synthetic objectives, so workers cost almost no CPU and
the driver's own cost shows. Reported, over the search loop (from the first progress
report, after Ray start-up, references and study creation, to the end):
- busy share: chunk sleep time over workers x loop time, for the whole loop and for the
  steady state (from one cluster width of trials in, after the in-flight ramp, to one
  width before the end);
- driver CPU per trial: the driver process's CPU time (its Ray threads included) over
  the trials of the loop; and the trials/s one core could drive at that cost;
- where the rest of the machine's CPU went: GCS, raylet and workers (the driver's
  descendant processes, from /proc), and every other process. Before the searches, the
  idle cluster's own CPU use is printed: Ray worker processes cost CPU while idle.

Worker processes are started before any timing (64 start-ups take minutes on 2 cores).

    .venv/bin/python benchmarks/driver_scaling.py             # 64 workers, 200,000 trials
    .venv/bin/python benchmarks/driver_scaling.py --sleep-s 1 4  # two searches, one cluster
    .venv/bin/python benchmarks/driver_scaling.py --workers 2 --chunk 1000 --sleep-s 0 \
        --trials 1000000 --out results/million   # a million-trial folder in ~3 min

`--out` keeps the results folder (e.g. to time `dse pareto/show/report` on it).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import ray

ROOT = Path(__file__).resolve().parents[1]
# this checkout's dse, here and on the workers (not whatever `dse` the venv has installed)
sys.path.insert(0, str(ROOT))

from dse.runtime import SearchOptions, SearchProgress, run_search  # noqa: E402
from dse.search.evaluation import PointToEvaluate, TrialOutcome  # noqa: E402
from dse.space import SearchSpace, load_space  # noqa: E402


class SleepingEvaluator:
    """Sleeps a fixed time per chunk; objectives from the parameters (no cost model).

    Three objectives in the directions of the space (score up, power and cost down):
    DTLZ2 over the parameters scaled to [0, 1], a curved front that most points miss;
    the constraints are violated by points far from it. Runs on the workers (pickled by
    value with this script)."""

    def __init__(self, sleep_s: float) -> None:
        self.sleep_s = sleep_s

    def __call__(
        self, space: SearchSpace, points: Sequence[PointToEvaluate], *_: object
    ) -> list[TrialOutcome]:
        time.sleep(self.sleep_s)
        names = [o.name for o in space.objectives]
        constraints = list(space.constraints)
        outcomes = []
        for point in points:
            u = [_unit(space.parameters[name], value) for name, value in point.params.items()]
            # DTLZ2 on the unit cube: a curved 3-objective front, most points dominated
            g = sum((v - 0.5) ** 2 for v in u[2:])
            a, b = u[0] * math.pi / 2, u[1] * math.pi / 2
            f = [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b),
                 (1 + g) * math.sin(a)]
            values = dict(zip(names, [10.0 - f[0], 100.0 * (1 + f[1]), 1000.0 * (1 + f[2])],
                              strict=False))
            violation = {c: (g - 0.5) / 0.5 for c in constraints}
            outcomes.append(TrialOutcome(
                trial_number=point.trial_number, state="complete",
                feasible=all(v <= 0 for v in violation.values()), infeasible_reason="",
                error="", params=dict(point.params), derived={}, objectives=values,
                constraints=violation,
            ))
        return outcomes


def _unit(parameter: object, value: object) -> float:
    choices = getattr(parameter, "choices", None)
    if choices:
        return (list(choices).index(value) + 0.5) / len(choices)
    low, high = float(getattr(parameter, "low")), float(getattr(parameter, "high"))  # noqa: B009
    return (float(value) - low) / (high - low)  # type: ignore[arg-type]


def _tree_cpu_s(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process `root` and of all its live descendants
    (an embedded Ray's GCS, raylet and worker processes are the driver's descendants)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    rest, stack = 0.0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        rest += cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return cpu.get(root, 0.0), rest


def _machine_busy_s() -> float:
    """CPU seconds all cores of the machine spent not idle since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _warm_up(seconds: float) -> int:
    # NOTE: a worker imports dse on its first chunk, about 0.7 s of CPU (cost core,
    # results schema, pyarrow compute); 64 first chunks on a 2-core machine then take
    # most of a short run's CPU, which the first measurements here counted as driver
    # waiting (26.7 % busy). Imported here, before timing, as a long-lived cluster would
    # have done long before; the sleep makes each call land on another worker process.
    import dse.runtime.worker
    import dse.search.evaluation  # noqa: F401

    time.sleep(seconds)
    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "sram_vs_hbm.yaml"))
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--trials", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=100, help="designs per Ray task")
    parser.add_argument("--sleep-s", type=float, nargs="+", default=[1.0],
                        help="per chunk; several values run one search each on one cluster")
    parser.add_argument("--sampler", default="async_nsga2")
    parser.add_argument("--out", default="", help="keep the results folder here")
    args = parser.parse_args()
    space = load_space(args.space)
    # the default sampler, whatever the file names (sram_vs_hbm keeps nsga2 for comparisons)
    spec = space.spec.model_copy(update={"sampler": space.spec.sampler.model_copy(
        update={"name": args.sampler, "settings": {}})})
    space = dataclasses.replace(space, spec=spec)

    ray.init(address="local", num_cpus=args.workers, include_dashboard=False,
             logging_level="ERROR", log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}})
    try:
        # start every worker process (and its imports) before timing: Ray starts at most
        # as many at once as the machine has cores, so 64 start-ups take minutes here
        pause = ray.remote(num_cpus=1)(_warm_up)
        started = time.perf_counter()
        while len(set(ray.get([pause.remote(0.5) for _ in range(args.workers)]))) < args.workers:
            pass
        print(f"{args.workers} worker processes up (dse imported) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        # NOTE: Ray worker processes cost CPU while idle (each ~0.9 % of a core here: gRPC
        # and periodic threads), so 64 of them take a share of a 2-core machine before any
        # task runs; measured so that the figures below can be read against it.
        _, cluster_s = _tree_cpu_s(os.getpid())
        time.sleep(10)
        _, idle_cluster_s = _tree_cpu_s(os.getpid())
        print(f"idle cluster: {(idle_cluster_s - cluster_s) / 10:.2f} cores for GCS, raylet "
              f"and {args.workers} idle workers", flush=True)
        for sleep_s in args.sleep_s:
            _one_search(space, args, sleep_s)
    finally:
        ray.shutdown()


def _one_search(space: SearchSpace, args: argparse.Namespace, sleep_s: float) -> None:
    marks: dict[str, float] = {}
    samples: list[tuple[float, int]] = []

    def on_progress(update: SearchProgress) -> None:
        samples.append((time.perf_counter(), update.done))
        if "loop_cpu_s" not in marks:
            marks["loop_cpu_s"] = time.process_time()
            marks["loop_wall_s"] = time.perf_counter()
            marks["done_at_loop"] = update.done
            marks["driver_s"], marks["cluster_s"] = _tree_cpu_s(os.getpid())
            marks["machine_s"] = _machine_busy_s()

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or str(Path(scratch) / "out")
        if args.out and len(args.sleep_s) > 1:
            out = f"{args.out}-{sleep_s:g}s"
        wall = time.perf_counter()
        summary = run_search(space, SearchOptions(
            out=out, trials=args.trials, designs_per_task=args.chunk,
            point_evaluator=SleepingEvaluator(sleep_s)), on_progress)
        end_wall, end_cpu = time.perf_counter(), time.process_time()
        driver_s, cluster_s = _tree_cpu_s(os.getpid())
        machine_s = _machine_busy_s()
    loop_s = end_wall - marks["loop_wall_s"]
    trials = summary.done - int(marks["done_at_loop"])
    chunks = math.ceil(trials / args.chunk)
    ideal = args.workers * args.chunk / sleep_s if sleep_s > 0 else math.inf
    busy = chunks * sleep_s / (args.workers * loop_s)
    cpu_per_trial_s = (end_cpu - marks["loop_cpu_s"]) / trials
    cluster_cores = (cluster_s - marks["cluster_s"]) / loop_s
    others_cores = ((machine_s - marks["machine_s"]) - (driver_s - marks["driver_s"])
                    - (cluster_s - marks["cluster_s"])) / loop_s
    # steady state: once the in-flight ramp has reached the cluster's width, until the
    # budget's last cluster-width of trials (the tail drains the pipeline)
    width = 3 * args.workers * args.chunk
    steady = [(t, n) for t, n in samples if width <= n <= summary.done - width]
    steady_busy = (
        (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0]) / ideal
        if len(steady) >= 2 and steady[-1][0] > steady[0][0] else math.nan
    )
    print(f"{trials:,} trials on {args.workers} workers ({args.chunk} designs/chunk, "
          f"{sleep_s:g} s sleep/chunk: at most {ideal:,.0f} trials/s): search loop "
          f"{loop_s:.1f} s ({trials / loop_s:,.0f} trials/s), whole run "
          f"{end_wall - wall:.1f} s; front {len(summary.front_trial_numbers):,}")
    if sleep_s > 0:
        print(f"  workers busy: {busy:.1%} over the loop, {steady_busy:.1%} in steady state "
              f"(from {width:,} trials in until {width:,} before the end; target >= 80 %: "
              f"{'met' if steady_busy >= 0.8 else 'NOT met'})")
    print(f"  driver CPU per trial: {cpu_per_trial_s * 1e6:.1f} us = "
          f"{1 / cpu_per_trial_s:,.0f} trials/s per driver core (target <= 100 us: "
          f"{'met' if cpu_per_trial_s <= 100e-6 else 'NOT met'}); driver "
          f"{(end_cpu - marks['loop_cpu_s']) / loop_s:.2f} cores")
    print(f"  rest of the cluster (GCS, raylet, workers): {cluster_cores:.2f} cores "
          f"({(cluster_s - marks['cluster_s']) / trials * 1e6:.0f} us per trial); other "
          f"processes on the machine: {others_cores:.2f} of its {os.cpu_count()} cores",
          flush=True)
    if args.out:
        print(f"  results folder kept: {out}")


if __name__ == "__main__":
    main()
