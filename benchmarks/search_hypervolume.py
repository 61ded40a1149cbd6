"""Sampler quality at scale: hypervolume of samplers x budgets x seeds on one space.

    .venv/bin/python benchmarks/search_hypervolume.py                 # whole_chip.yaml
    .venv/bin/python benchmarks/search_hypervolume.py --samplers nsga2,random \\
        --budgets 1000,5000 --seeds 0,1 --jobs 2 --work results/hv

Each run drives one Optuna sampler the way `dse.runtime.driver` does, without Ray:
trials are asked in chunks of `--batch-size`, up to an in-flight limit (one generation
for NSGA-II/III, two batches for the others, `--default-in-flight` for the default
sampler: a cluster's worth), the oldest chunk is evaluated with the real cost core
(`dse.search.evaluation.evaluate_points`) and told (`dse.search.study.tell`), and the
next chunk is asked. Hypervolume depends only on that order of asks and tells, so a run
is deterministic per seed; the driver's own speed is `benchmarks/search_throughput.py`'s
business. A budget's figure is the hypervolume of the first N trials of the longest run.

The reference front is the union of the feasible designs of every run (plus an optional
`--long-run`): a far longer search than any single run. The hypervolume reference point
and scale are the space's (reference chips, `dse.search.pareto`). Each finished run is
kept in `--work` (one .npz per run), so an interrupted study resumes and the table can
be printed again with `--table-only`; a run that has not finished is never read.

Targets (issue 9): the default sampler beats random at every budget and reaches at
least 98 % of the hypervolume of NSGA-II with one generation in flight.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

import optuna

from dse.search import study as studies
from dse.search.evaluation import (
    PointToEvaluate,
    TrialOutcome,
    evaluate_points,
    evaluate_references,
)
from dse.search.evolution import minimised_objectives, total_violation
from dse.search.pareto import default_reference, default_scale, hypervolume, pareto_mask
from dse.space import SearchSpace, load_space, points_iter

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABEL = "default"
"""Label of `dse.search.study.DEFAULT_SAMPLER` in the table (whatever it names)."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    label: str
    sampler: str
    seed: int
    trials: int
    batch_size: int
    in_flight: int
    max_sampler_s: float

    def key(self, space_sha: str) -> str:
        return (f"{self.label}-{self.sampler}-seed{self.seed}-n{self.trials}-b{self.batch_size}"
                f"-f{self.in_flight}-{space_sha[:12]}")


DEFAULT_OVERRIDE: list[str] = []


def sampler_name(label: str) -> str:
    """`default@256` is the default sampler with 256 trials in flight."""
    label = label.split("@")[0]
    if label == DEFAULT_LABEL:
        return DEFAULT_OVERRIDE[0] if DEFAULT_OVERRIDE else studies.DEFAULT_SAMPLER
    return label


def with_sampler(space: SearchSpace, name: str) -> SearchSpace:
    spec = space.spec.model_copy(
        update={"sampler": space.spec.sampler.model_copy(update={"name": name, "settings": {}})}
    )
    return dataclasses.replace(space, spec=spec)


def objective_rows(space: SearchSpace, outcomes: Sequence[TrialOutcome]) -> np.ndarray:
    """(N, M) objective table, NaN rows for infeasible or failed trials."""
    table = np.full((len(outcomes), len(space.objectives)), np.nan)
    for i, outcome in enumerate(outcomes):
        if outcome.feasible:
            table[i] = [outcome.objectives[o.name] for o in space.objectives]
    return table


class CachedEvaluator:
    """The cost core with a cache by parameter set: the model is deterministic, and
    NSGA-II re-proposes parameter sets on discrete spaces (the driver does the same)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.cache: dict[str, TrialOutcome] = {}

    def __call__(self, points: Sequence[PointToEvaluate]) -> list[TrialOutcome]:
        keys = [json.dumps(dict(p.params), sort_keys=True, default=str) for p in points]
        unique = list({k: p for k, p in zip(keys, points, strict=True)
                       if k not in self.cache}.items())
        for (k, _), outcome in zip(unique, evaluate_points(self.space, [p for _, p in unique]),
                                   strict=True):
            self.cache[k] = outcome
        return [self.cache[k] for k in keys]


def make_sampler(space: SearchSpace, seed: int, batch_size: int) -> Any:
    """`dse.search.study.make_sampler`; for `async_nsga2` in a source tree older than
    it (`--default-sampler`, to keep a study on one cost model), the same construction."""
    try:
        return studies.make_sampler(space, seed, batch_size)
    except ValueError:
        if space.spec.sampler.name != "async_nsga2":
            raise
        from dse.search.evolution import AsyncNSGA2Sampler

        return AsyncNSGA2Sampler(studies.distributions(space),
                                 directions=[o.direction for o in space.objectives],
                                 seed=seed, population_size=max(batch_size, 8))


class Run:
    """One sampler's study, asked and told as the driver does, one chunk at a time."""

    def __init__(self, space: SearchSpace, spec: RunSpec, sampler: Any) -> None:
        self.spec = spec
        self.space = with_sampler(space, spec.sampler)
        self.directions = [o.direction for o in space.objectives]
        self.sampler = sampler
        self.study = optuna.create_study(directions=self.directions, sampler=sampler)
        self.dists = studies.distributions(self.space)
        self.in_flight: collections.deque[list[Any]] = collections.deque()
        self.asked = 0
        self.pending = 0
        self.sampler_s = 0.0
        self.evaluation_s = 0.0
        self.stopped_early = False
        self.values = np.full((spec.trials, len(self.directions)), np.nan)
        self.distinct: set[str] = set()

    def fill(self) -> None:
        """Ask chunks until the in-flight limit (or the budget, or the time limit)."""
        spec = self.spec
        while (self.asked < spec.trials and self.pending < spec.in_flight
               and not self.stopped_early):
            count = min(spec.batch_size, spec.trials - self.asked, spec.in_flight - self.pending)
            started = time.perf_counter()
            self.in_flight.append(studies.ask_batch(self.study, self.dists, count))
            self.sampler_s += time.perf_counter() - started
            self.asked += count
            self.pending += count
            if spec.max_sampler_s and self.sampler_s > spec.max_sampler_s:
                self.stopped_early = True

    def oldest(self) -> list[Any]:
        """The chunk to evaluate next: the first one asked (the first back from a worker)."""
        trials = self.in_flight.popleft()
        self.pending -= len(trials)
        return trials

    def tell(self, trials: Sequence[Any], outcomes: Sequence[TrialOutcome]) -> None:
        started = time.perf_counter()
        for trial, outcome in zip(trials, outcomes, strict=True):
            studies.tell(self.study, trial, outcome, self.directions)
        self.sampler_s += time.perf_counter() - started
        self.values[[t.number for t in trials]] = objective_rows(self.space, outcomes)


@dataclasses.dataclass(frozen=True)
class ProposedPoint:
    number: int
    params: dict[str, Any]


class BulkRun(Run):
    """A sampler with a batch interface (`propose`, `tell_batch`: the default), driven as
    `dse.runtime.steady` drives it: propose whatever the in-flight limit allows, split
    it into chunks of `designs_per_task`, tell each chunk as it comes back (two chunks
    come back per step here, as several are ready at once on a busy cluster)."""

    def __init__(self, space: SearchSpace, spec: RunSpec, sampler: Any) -> None:
        super().__init__(space, spec, sampler)
        self.chunk_size = max(1, min(space.spec.budget.designs_per_task, spec.batch_size))
        self.objective_names = [o.name for o in space.objectives]
        self.constraint_names = list(space.constraints)
        self.units: collections.deque[np.ndarray] = collections.deque()
        self.popped: list[np.ndarray] = []

    def fill(self) -> None:
        limit = self.spec.in_flight
        if hasattr(self.sampler, "in_flight_limit"):  # the driver's ramp, where it has one
            limit = self.sampler.in_flight_limit(limit)
        want = min(limit - self.pending, self.spec.trials - self.asked)
        if want <= 0:
            return
        started = time.perf_counter()
        unit = self.sampler.propose(want)
        columns = self.sampler.codec.decode(unit)
        self.sampler_s += time.perf_counter() - started
        for start in range(0, want, self.chunk_size):
            rows = range(start, min(start + self.chunk_size, want))
            self.in_flight.append([ProposedPoint(self.asked + i, {n: v[i] for n, v in
                                                                 columns.items()})
                                   for i in rows])
            self.units.append(unit[rows.start : rows.stop])
        self.asked += want
        self.pending += want

    def oldest(self) -> list[Any]:
        points: list[Any] = []
        self.popped = []
        while self.in_flight and len(points) < self.spec.batch_size:
            points.extend(self.in_flight.popleft())
            self.popped.append(self.units.popleft())
        self.pending -= len(points)
        return points

    def tell(self, trials: Sequence[Any], outcomes: Sequence[TrialOutcome]) -> None:
        started = time.perf_counter()
        done = 0
        for unit in self.popped:
            chunk = outcomes[done : done + len(unit)]
            done += len(unit)
            objectives = np.array([[o.objectives[n] for n in self.objective_names]
                                   for o in chunk], dtype=float)
            constraints = np.array([[o.constraints[n] for n in self.constraint_names]
                                    for o in chunk], dtype=float).reshape(len(chunk), -1)
            failed = np.array([o.state == "failed" for o in chunk])
            self.sampler.tell_batch(unit, minimised_objectives(objectives, self.directions),
                                    np.where(failed, np.inf, total_violation(constraints)))
        self.sampler_s += time.perf_counter() - started
        self.values[[t.number for t in trials]] = objective_rows(self.space, outcomes)


def new_run(space: SearchSpace, spec: RunSpec) -> Run:
    named = with_sampler(space, spec.sampler)
    sampler = make_sampler(named, spec.seed, spec.batch_size)
    if hasattr(sampler, "propose") and hasattr(sampler, "tell_batch"):
        return BulkRun(space, spec, sampler)
    return Run(space, spec, sampler)


def save_run(run: Run, path: str, elapsed_s: float, told: int) -> None:
    tmp = path + ".tmp.npz"
    np.savez(tmp, values=run.values[:told], reached=told, elapsed_s=elapsed_s,
             sampler_s=run.sampler_s, evaluation_s=run.evaluation_s,
             distinct=len(run.distinct))
    os.replace(tmp, path)


def partial_path(path: str) -> str:
    return path.replace(".npz", ".partial.npz")


def run_group(space_path: str, specs: Sequence[RunSpec], out_paths: Sequence[str],
              milestones: Sequence[int] = ()) -> list[str]:
    """Runs in lockstep in one process; each writes its .npz when it has finished.

    # NOTE: the cost core is vectorised over designs (3.8 ms per design in batches of
    # 1,024 against 14 ms in batches of 16, measured here on this space), so the chunks
    # of several runs are evaluated in one call. A design's result does not depend on
    # its batch-mates, so every run sees exactly what it would see alone.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(space_path)
    evaluate = CachedEvaluator(space)
    runs = [new_run(space, spec) for spec in specs]
    started = time.perf_counter()
    active = list(zip(runs, out_paths, strict=True))
    told = dict.fromkeys(range(len(runs)), 0)
    last_report = started
    while active:
        for run, _ in active:
            run.fill()
        chunks = [(run, run.oldest()) for run, _ in active if run.in_flight]
        points = [PointToEvaluate(t.number, t.params) for _, trials in chunks for t in trials]
        t0 = time.perf_counter()
        outcomes = iter(evaluate(points))
        share = (time.perf_counter() - t0) / max(len(points), 1)
        for run, trials in chunks:
            got = [next(outcomes) for _ in trials]
            run.evaluation_s += share * len(trials)
            run.distinct.update(json.dumps(dict(t.params), sort_keys=True, default=str)
                                for t in trials)
            run.tell(trials, got)
            # NOTE: chunks are told in the order they were asked, so after this tell
            # every trial below `told` has its result: a budget reached is a snapshot
            # the table can use if the study is stopped before the run ends.
            index = runs.index(run)
            before, told[index] = told[index], told[index] + len(trials)
            if any(before < m <= told[index] for m in milestones):
                save_run(run, partial_path(out_paths[index]),
                         time.perf_counter() - started, told[index])
        if time.perf_counter() - last_report > 120:
            last_report = time.perf_counter()
            print(f"    [{time.perf_counter() - started:.0f} s] " + ", ".join(
                f"{r.spec.label}/{r.spec.seed}: {told[i]}" for i, r in enumerate(runs)),
                flush=True)
        still = []
        for run, path in active:
            if run.in_flight or (run.asked < run.spec.trials and not run.stopped_early):
                still.append((run, path))
                continue
            save_run(run, path, time.perf_counter() - started, run.asked)
        active = still
    return list(out_paths)


def dense_values(space: SearchSpace) -> np.ndarray:
    """Objectives of every distinct design of a small space (the grid, deduplicated by
    the hardware it builds: the dead dimension of a route not taken adds nothing)."""
    seen: set[str] = set()
    points = []
    for params in points_iter(space, points_per_float=9):
        key = json.dumps(space.hardware_dict(space.values(params)), sort_keys=True)
        if key not in seen:
            seen.add(key)
            points.append(PointToEvaluate(len(points), params))
    print(f"dense reference: {len(points):,} distinct designs", flush=True)
    outcomes = [o for i in range(0, len(points), 1024)
                for o in evaluate_points(space, points[i : i + 1024])]
    return objective_rows(space, outcomes)


def reference_frame(space: SearchSpace) -> tuple[list[str], list[float], list[float]]:
    directions = [o.direction for o in space.objectives]
    chips = [hardware for _, hardware in space.reference_designs()]
    chip_values = objective_rows(space, evaluate_references(space, chips))
    chip_values = chip_values[np.all(np.isfinite(chip_values), axis=1)]
    given = [o.hypervolume_reference for o in space.objectives]
    point = default_reference(chip_values, directions, given)
    return directions, point, default_scale(chip_values, directions, point)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces" / "whole_chip.yaml"))
    parser.add_argument("--samplers", default=f"{DEFAULT_LABEL},nsga2,nsga3,tpe,random",
                        help=f"'{DEFAULT_LABEL}' is dse.search.study.DEFAULT_SAMPLER; "
                             "NAME@N runs NAME with N trials in flight")
    parser.add_argument("--budgets", default="1000,5000,20000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--default-sampler", default="",
                        help="what 'default' means (default: dse.search.study.DEFAULT_SAMPLER)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--default-in-flight", type=int, default=1024,
                        help="trials in flight for the default sampler (a cluster's worth)")
    parser.add_argument("--max-sampler-s", default="tpe=600",
                        help="per-run limit on time spent in the sampler, e.g. tpe=600; a "
                             "run that reaches it stops asking and reports the budget reached")
    parser.add_argument("--long-run", default="",
                        help="SAMPLER:TRIALS, one more run whose designs join the reference front")
    parser.add_argument("--dense", action="store_true",
                        help="small spaces: add every distinct grid point to the reference front")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes; runs are dealt round-robin to them and run in "
                             "lockstep (a time-limited sampler gets one of them to itself)")
    parser.add_argument("--work", default=str(ROOT / "results" / "hypervolume-benchmark"))
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing; print the table from the finished runs in --work")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args(argv)

    if args.default_sampler:
        DEFAULT_OVERRIDE.append(args.default_sampler)
    space = load_space(args.space)
    space_sha = hashlib.sha256(Path(args.space).read_bytes()).hexdigest()
    budgets = sorted(int(b) for b in args.budgets.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    labels = [s.strip() for s in args.samplers.split(",") if s.strip()]
    limits = {k: float(v) for k, v in (p.split("=") for p in args.max_sampler_s.split(",") if p)}
    generational = studies.GENERATIONAL_SAMPLERS

    def in_flight(label: str) -> int:
        if "@" in label:
            return int(label.split("@")[1])
        if label == DEFAULT_LABEL and sampler_name(label) not in generational:
            return args.default_in_flight
        if label == "random":
            # NOTE: random search never reads a result, so its points are the same
            # whatever is in flight; 1,024 lets the cost core take them in big batches
            # (3.8 against 9.5 ms per design in batches of 64, measured on whole_chip).
            return 1024
        return args.batch_size if sampler_name(label) in generational else 2 * args.batch_size

    specs = [RunSpec(label, sampler_name(label), seed, max(budgets), args.batch_size,
                     in_flight(label), limits.get(label, 0.0))
             for label in labels for seed in seeds]
    if args.long_run:
        name, trials = args.long_run.split(":")
        specs.append(RunSpec(f"long-{name}", sampler_name(name), 1000, int(trials),
                             args.batch_size, in_flight(name), 0.0))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    paths = {spec: str(work / f"{spec.key(space_sha)}.npz") for spec in specs}
    todo = [s for s in specs if not Path(paths[s]).exists()]
    if not args.table_only:  # a snapshot is only used when its run is not going to finish
        for spec in todo:
            Path(partial_path(paths[spec])).unlink(missing_ok=True)
    print(f"space {args.space}: {len(space.parameters)} parameters, "
          f"{space.cardinality():.3g} distinct designs; {len(specs)} runs, "
          f"{len(todo)} to do, {args.jobs} at a time; work folder {work}", flush=True)
    if todo and not args.table_only:
        # `--jobs` processes, the runs dealt round-robin (each process's runs in
        # lockstep); a sampler with a time limit (TPE) gets a process of its own
        limited = [s for s in todo if s.max_sampler_s]
        dealt: list[list[RunSpec]] = [[] for _ in range(max(args.jobs - bool(limited), 1))]
        for i, spec in enumerate(s for s in todo if not s.max_sampler_s):
            dealt[i % len(dealt)].append(spec)
        groups = [g for g in [*dealt, limited] if g]
        with concurrent.futures.ProcessPoolExecutor(max_workers=len(groups)) as pool:
            futures = {pool.submit(run_group, args.space, group, [paths[s] for s in group],
                                   budgets): group for group in groups}
            for future in concurrent.futures.as_completed(futures):
                future.result()
                for spec in futures[future]:
                    with np.load(paths[spec]) as run:
                        print(f"  done {spec.label} seed {spec.seed}: {int(run['reached'])} "
                              f"trials in {float(run['elapsed_s']):.0f} s (sampler "
                              f"{float(run['sampler_s']):.0f} s, cost core "
                              f"{float(run['evaluation_s']):.0f} s, "
                              f"{int(run['distinct'])} distinct designs)", flush=True)

    runs: dict[RunSpec, dict[str, Any]] = {}
    for spec in specs:
        # the longest run of this sampler and seed in the work folder, whatever budget it
        # was started with (a seed may have been run only to a smaller budget), finished
        # or a snapshot at the last budget it reached
        pattern = spec.key(space_sha).replace(f"-n{spec.trials}-", "-n*-")
        if spec.sampler == "random":  # its points do not depend on what is in flight
            pattern = pattern.replace(f"-f{spec.in_flight}-", "-f*-")
        best = 0
        found = sorted(work.glob(f"{pattern}.npz")) + sorted(work.glob(f"{pattern}.partial.npz"))
        for path in found:
            with np.load(path) as run:
                if int(run["reached"]) > best:
                    best = int(run["reached"])
                    runs[spec] = {k: run[k] for k in run.files}
    if not runs:
        print("no finished runs", file=sys.stderr)
        return 1
    directions, point, scale = reference_frame(space)
    union = np.concatenate([r["values"] for r in runs.values()]
                           + ([dense_values(space)] if args.dense else []))
    union = union[np.all(np.isfinite(union), axis=1)]
    front = union[pareto_mask(union, directions)]
    reference_hv = hypervolume(front, directions, point, scale)
    evaluated = sum(int(r["reached"]) for r in runs.values())
    if reference_hv <= 0:
        print("the reference front has no hypervolume: no feasible design beats the "
              "reference point", file=sys.stderr)
        return 1
    print(f"\nreference front: {len(front)} designs, non-dominated among {len(union):,} "
          f"feasible of {evaluated:,} trials of {len(runs)} runs; hypervolume "
          f"{reference_hv:.5f} (reference point {', '.join(f'{p:.4g}' for p in point)})")

    ratios: dict[str, dict[int, list[float]]] = {}
    reached: dict[str, list[int]] = {}
    timing: dict[str, list[dict[str, float]]] = {}
    for spec, run in runs.items():
        if spec.label.startswith("long-"):
            continue
        values = run["values"]
        ratios.setdefault(spec.label, {b: [] for b in budgets})
        reached.setdefault(spec.label, []).append(int(run["reached"]))
        timing.setdefault(spec.label, []).append(
            {k: float(run[k]) for k in ("elapsed_s", "sampler_s", "evaluation_s")})
        for budget in budgets:
            if int(run["reached"]) >= budget:
                first = values[:budget]
                first = first[np.all(np.isfinite(first), axis=1)]
                ratios[spec.label][budget].append(
                    hypervolume(first, directions, point, scale) / reference_hv)

    def cell(label: str, budget: int) -> str:
        got = ratios.get(label, {}).get(budget, [])
        if not got:
            return f"{'— (' + str(max(reached.get(label, [0]))) + ')':>21}"
        return f"{np.mean(got):.3f} [{min(got):.3f}-{max(got):.3f}] n{len(got)}"

    shown = [label for label in labels if label in ratios]
    print("\nhypervolume / reference hypervolume: mean over seeds [min-max] n<seeds>; "
          "— (N): budget not reached, N trials at most")
    print(f"{'trials':>7} " + " ".join(f"{lb:>26}" for lb in shown))
    for budget in budgets:
        print(f"{budget:>7} " + " ".join(f"{cell(lb, budget):>26}" for lb in shown))
    print("\nseconds per run (mean): whole run / in the sampler (ask + tell) / in the cost core")
    for label in shown:
        t = timing[label]
        print(f"  {label:>8}: " + " / ".join(
            f"{np.mean([x[k] for x in t]):.0f}" for k in ("elapsed_s", "sampler_s", "evaluation_s"))
            + f"  (trials reached: {', '.join(map(str, reached[label]))})")

    verdict: dict[str, Any] = {}
    if DEFAULT_LABEL in ratios:
        for other, rule in (("random", "beats random"), ("nsga2", ">= 98 % of nsga2")):
            if other not in ratios:
                continue
            rows = []
            for budget in budgets:
                d, o = ratios[DEFAULT_LABEL][budget], ratios[other][budget]
                if d and o:
                    rel = float(np.mean(d) / np.mean(o))
                    ok = rel > 1.0 if other == "random" else rel >= 0.98
                    rows.append((budget, rel, ok))
            verdict[rule] = rows
            print(f"\ndefault ({sampler_name(DEFAULT_LABEL)}) vs {other}, {rule}: " + "; ".join(
                f"{b}: {r:.3f} {'yes' if ok else 'NO'}" for b, r, ok in rows))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "space": args.space, "reference_hypervolume": reference_hv,
            "reference_point": point, "scale": scale, "front_size": len(front),
            "trials_in_reference": evaluated, "ratios": ratios, "reached": reached,
            "timing": timing, "verdict": verdict,
            "default_sampler": sampler_name(DEFAULT_LABEL),
        }, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
