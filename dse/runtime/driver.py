"""The search driver: one Optuna study, Ray workers, a results folder that survives crashes.

Workers evaluate chunks of points (one Ray task each, a vectorised batch of designs)
and return their Parquet rows ready-made (`dse.runtime.worker.ChunkResult`); the driver
commits them in parts and records the trials in the study's Optuna journal. Two loops:

- steady state (`async_nsga2`, the default; `dse.runtime.steady`): several chunks per
  worker in flight, results told to the sampler as they arrive, trials numbered and
  recorded in bulk at commit (Parquet part first, then one journal record per trial);
- per trial (Optuna's own samplers: nsga2, nsga3, tpe, gp, random, grid; below):
  `study.ask` per trial, Parquet part written after the journal is fsynced, then
  `study.tell` per trial.

Either way, a driver killed at any moment loses no committed trial and duplicates none:
`--resume` goes on until `trials/` holds exactly the budget, each trial number once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pyarrow as pa
import ray
from ray.exceptions import RayError

from dse.distinct import DesignKeys, group_by_design
from dse.results.front import write_front
from dse.results.layout import METADATA_FILE
from dse.results.reader import read_trials
from dse.results.schema import evaluation_metric_names, metadata_document
from dse.results.schema import outcome_from_trial_row as _row_outcome
from dse.results.verify import check_journal_agrees, verify_resumable
from dse.results.writer import FolderExists, ResultsFolder
from dse.runtime.cluster import RayConnection, ray_connection
from dse.runtime.worker import (
    ChunkResult,
    PointEvaluator,
    SearchContext,
    chunk_result,
    evaluate_in_context,
    failed_outcomes,
    points_from_columns,
)
from dse.search import study as studies
from dse.search.evaluation import (
    Economics,
    PointToEvaluate,
    SuiteEvaluator,
    TrialOutcome,
    evaluate_references,
)
from dse.search.pareto import default_reference, default_scale, hypervolume, pareto_mask
from dse.space import SearchSpace

FLUSH_INTERVAL_S = 2.0
"""Longest time an evaluated outcome waits in memory before it is committed."""

REPORT_INTERVAL_S = 0.5
"""Progress (front, hypervolume) is recomputed for the callback at most this often."""

CHUNKS_PER_WORKER = 3
"""Steady-state loop: chunks in flight per worker (see _Driver.__init__)."""


def dse_version() -> str:
    try:
        return version("dse")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class SearchOptions:
    out: str
    trials: int | None = None
    """Budget override (finished trials); default: the file's budget.trials, or on
    resume the budget the search was started with (metadata.json)."""
    address: str | None = None
    resume: bool = False
    num_cpus: int | None = None
    """CPUs of an embedded local cluster (default: all)."""
    batch_size: int | None = None
    designs_per_task: int | None = None
    max_in_flight: int | None = None
    """Trials asked but not yet committed (default: async_nsga2 three chunks per worker,
    NSGA-II/III one batch, others two batches)."""
    seed: int | None = None
    suite_evaluator: SuiteEvaluator | None = None
    """Default: `evaluators.evaluate_suite`. Tests inject faults through this."""
    economics: Economics | None = None
    point_evaluator: PointEvaluator | None = None
    """Replaces `evaluate_points` on the workers (benchmarks of the driver alone)."""


@dataclass(frozen=True, slots=True)
class SearchProgress:
    done: int
    budget: int
    elapsed_s: float
    trials_per_s: float
    feasible_share: float
    front_size: int
    hypervolume: float


@dataclass(frozen=True, slots=True)
class SearchSummary:
    out: str
    budget: int
    done: int
    complete: int
    failed: int
    feasible: int
    front_trial_numbers: tuple[int, ...]
    hypervolume: float
    hypervolume_reference: tuple[float, ...]
    hypervolume_scale: tuple[float, ...]
    evaluated_here: int
    """Designs this session sent to workers (cache hits and resumed rows excluded)."""
    elapsed_s: float
    resumed_trials: int
    connection: str
    workers: int


ProgressCallback = Callable[[SearchProgress], None]


class _Tracker:
    """Running totals for progress: feasible share, Pareto front, hypervolume (numpy)."""

    def __init__(
        self, space: SearchSpace, reference_point: Sequence[float], scale: Sequence[float]
    ) -> None:
        self.directions = [o.direction for o in space.objectives]
        self.reference_point = list(reference_point)
        self.scale = list(scale)
        self.done = 0
        self.complete = 0
        self.failed = 0
        self.feasible = 0
        self._numbers = np.empty(0, dtype=np.int64)
        self._values = np.empty((0, len(self.directions)))
        self._hypervolume: float | None = 0.0
        self._design_keys = DesignKeys(space)
        self._keys: dict[int, Any] = {}
        """Design key of each trial on the front (`dse.distinct`), kept as it joins."""

    def add(self, numbers: np.ndarray, objectives: np.ndarray, feasible: np.ndarray,
            failed: np.ndarray, params: Mapping[str, Sequence[Any]] | None = None) -> None:
        """Count finished trials; `params` (name -> value per trial) tell which front
        trials build the same design (without them each trial is its own design)."""
        self.done += len(numbers)
        self.failed += int(np.count_nonzero(failed))
        self.complete += len(numbers) - int(np.count_nonzero(failed))
        keep = np.asarray(feasible, dtype=bool) & np.all(np.isfinite(objectives), axis=1)
        if not keep.any():
            return
        self.feasible += int(np.count_nonzero(keep))
        kept = np.flatnonzero(keep)
        values = np.concatenate([self._values, np.asarray(objectives, dtype=float)[keep]])
        numbers = np.concatenate([self._numbers, np.asarray(numbers, dtype=np.int64)[keep]])
        # keep only the front: dominated points never return to it
        mask = pareto_mask(values, self.directions)
        self._values, self._numbers = values[mask], numbers[mask]
        self._hypervolume = None
        on_front = set(self._numbers.tolist())
        for offset, i in enumerate(kept.tolist()):
            number = int(numbers[len(numbers) - len(kept) + offset])
            if number in on_front:
                self._keys[number] = (
                    self._design_keys.key({n: v[i] for n, v in params.items()})
                    if params is not None else None
                )
        self._keys = {n: k for n, k in self._keys.items() if n in on_front}

    @property
    def front(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._numbers)

    @property
    def front_designs(self) -> int:
        """Distinct designs on the front: what `dse pareto` and the page count too."""
        return len(group_by_design(list(self._keys), list(self._keys.values())))

    @property
    def hypervolume(self) -> float:
        if self._hypervolume is None:
            self._hypervolume = hypervolume(
                self._values, self.directions, self.reference_point, self.scale
            )
        return self._hypervolume


def row_arrays(space: SearchSpace, frame: Any) -> tuple[np.ndarray, ...]:
    """numbers, objectives, constraints, feasible, failed of committed `trials/` rows."""
    n = len(frame)
    if not n:
        m, c = len(space.objectives), len(space.constraints)
        return (np.empty(0, dtype=np.int64), np.empty((0, m)), np.empty((0, c)),
                np.empty(0, dtype=bool), np.empty(0, dtype=bool))
    objectives = frame[[f"objective_{o.name}" for o in space.objectives]].to_numpy(
        dtype=float, na_value=np.nan)
    constraints = (
        frame[[f"constraint_{c}" for c in space.constraints]].to_numpy(
            dtype=float, na_value=np.nan)
        if space.constraints else np.empty((n, 0))
    )
    return (
        frame["trial_number"].to_numpy(dtype=np.int64),
        objectives.reshape(n, -1),
        constraints.reshape(n, -1),
        frame["feasible"].to_numpy(dtype=bool),
        (frame["state"] == "failed").to_numpy(dtype=bool),
    )


def _check_resume_matches(folder: ResultsFolder, space: SearchSpace) -> dict[str, Any]:
    """Refuse (ConfigError, nothing written, Ray not started) a folder `--resume` cannot
    continue; the checks and their messages are the results layer's (dse.results.verify)."""
    # NOTE: the steady-state loop records trials in the journal after their rows, and
    # rebuilds missing records from the rows on resume: its journal may lag the rows, or
    # be missing. The per-trial loop creates every trial in the journal before its row.
    steady = space.spec.sampler.name in studies.STEADY_STATE_SAMPLERS
    metadata = verify_resumable(folder, space.sha256, space.source, journal_required=not steady)
    folder.download_journal()
    journal = (studies.journal_trials(folder.journal_path, folder.uri)
               if folder.journal_path.is_file() else {})
    check_journal_agrees(folder, journal, journal_may_lag=steady)
    return metadata


def run_search(
    space: SearchSpace,
    options: SearchOptions,
    on_progress: ProgressCallback | None = None,
) -> SearchSummary:
    """Run (or resume) a search to its budget; returns what it found.

    Raises FolderExists when `options.out` holds results and `resume` is false, and
    ConfigError when resuming with a different search-space file. Ray is started only
    after these checks.
    """
    folder = ResultsFolder.open(options.out)
    fresh = not folder.has_results() or folder.is_bare_skeleton()
    if not fresh and not options.resume:
        raise FolderExists(
            f"{folder.uri} already holds results; pass --resume to continue that search "
            "or choose another --out"
        )
    metadata = None if fresh else _check_resume_matches(folder, space)
    folder.makedirs()
    folder.acquire_lock()
    try:
        with ray_connection(options.address, options.num_cpus) as connection:
            summary = _Driver(space, options, folder, connection, on_progress,
                              metadata).run(metadata)
    except BaseException:
        if folder.exists(METADATA_FILE):
            folder.finish("failed")
        folder.upload_journal()
        folder.release_lock()
        raise
    try:
        front: dict[str, Any] | None = write_front(
            folder, summary.front_trial_numbers, [o.name for o in space.objectives],
            summary.feasible,
        )
    except (OSError, pa.ArrowException):
        front = None  # only a cache: the readers compute the front from the parts
    folder.finish("finished", front=front)
    folder.upload_journal()
    folder.release_lock()
    return summary


class _Driver:
    """Set-up shared by both loops (folder, references, progress), then the loop.

    Samplers with a batch interface (`async_nsga2`) run the steady-state loop of
    `dse.runtime.steady`; Optuna's own samplers run the per-trial loop below.
    """

    def __init__(
        self,
        space: SearchSpace,
        options: SearchOptions,
        folder: ResultsFolder,
        connection: RayConnection,
        on_progress: ProgressCallback | None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = space
        self.options = options
        self.folder = folder
        self.connection = connection
        self.on_progress = on_progress
        budget = space.spec.budget
        # a resumed search keeps the budget it was started with unless --trials says
        # otherwise (metadata.json records the budget actually asked)
        recorded = (metadata or {}).get("trials_budget")
        self.budget = options.trials or (int(recorded) if recorded else budget.trials)
        self.batch_size = options.batch_size or budget.batch_size
        self.designs_per_task = options.designs_per_task or budget.designs_per_task
        self.steady = space.spec.sampler.name in studies.STEADY_STATE_SAMPLERS
        # NOTE: a generational sampler gets one generation in flight (asked after the
        # previous one is told: better designs per trial); TPE/random/grid keep two
        # batches in flight; the steady-state sampler keeps every worker fed with
        # CHUNKS_PER_WORKER chunks (one running, the others queued at the worker while
        # the driver commits), whatever the batch size.
        generational = space.spec.sampler.name in studies.GENERATIONAL_SAMPLERS
        if self.steady:
            default = max(self.batch_size,
                          CHUNKS_PER_WORKER * connection.workers * self.designs_per_task)
        else:
            default = self.batch_size if generational else 2 * self.batch_size
        self.max_in_flight = options.max_in_flight or default
        self.seed = space.spec.seed if options.seed is None else options.seed
        self.directions = [o.direction for o in space.objectives]
        self.distributions = studies.distributions(space)
        self.metric_names: list[str] = []
        self.bound_names: list[str] = []
        self.evaluated_here = 0
        self.resumed = 0
        self.started = time.monotonic()
        self.last_report = 0.0
        self.context_ref: Any = None

    # -- set-up ----------------------------------------------------------------------

    def _evaluate_references(self) -> list[TrialOutcome]:
        chips = self.space.reference_designs()
        names, designs = [n for n, _ in chips], [h for _, h in chips]
        if not designs:
            return []
        task = ray.remote(num_cpus=1, max_retries=3)(evaluate_references)
        outcomes: list[TrialOutcome] = ray.get(
            task.remote(  # type: ignore[call-arg]
                self.space, designs, self.options.suite_evaluator, self.options.economics
            )
        )
        self.folder.write_references(self.space, outcomes, names)
        return outcomes

    def _hypervolume_frame(
        self, references: Sequence[TrialOutcome]
    ) -> tuple[list[float], list[float]]:
        """Reference point and scale, fixed at search start from the reference chips."""
        values = np.asarray(
            [[o.objectives[obj.name] for obj in self.space.objectives] for o in references]
            or np.empty((0, len(self.directions)))
        )
        given = [o.hypervolume_reference for o in self.space.objectives]
        point = default_reference(values, self.directions, given)
        return point, default_scale(values, self.directions, point)

    def run(self, metadata: dict[str, Any] | None) -> SearchSummary:
        if metadata is None:
            self.folder.start(
                self.space,
                metadata_document(
                    self.space,
                    dse_version=dse_version(),
                    seed=self.seed,
                    sampler=self.space.spec.sampler.name,
                    trials_budget=self.budget,
                    started_at=datetime.now(UTC),
                ),
            )
            if not self.steady:
                self.study = studies.create_study(
                    self.space, self.folder.journal_path, self.seed, self.batch_size
                )
            references = self._evaluate_references()
        else:
            self.folder.remove_orphans()
            self.folder.download_journal()
            studies.repair_journal(self.folder.journal_path)
            studies.clear_stale_journal_lock(self.folder.journal_path)
            metadata["status"] = "running"
            metadata["finished_at"] = None
            metadata["trials_budget"] = self.budget
            self.folder.write_json(METADATA_FILE, metadata)
            from dse.results.reader import read_references

            reference_rows = read_references(self.folder)
            if reference_rows.empty and self.space.spec.references:
                references = self._evaluate_references()
            else:
                references = [
                    _row_outcome(self.space, row) for row in reference_rows.to_dict("records")
                ]
        self.metric_names, self.bound_names = evaluation_metric_names(references)
        self.tracker = _Tracker(self.space, *self._hypervolume_frame(references))
        if self.steady:
            from dse.runtime.steady import SteadySearch

            SteadySearch(self).run(fresh=metadata is None)
        else:
            self._run_per_trial(fresh=metadata is None)
        t = self.tracker
        return SearchSummary(
            out=self.folder.uri,
            budget=self.budget,
            done=self.done,
            complete=t.complete,
            failed=t.failed,
            feasible=t.feasible,
            front_trial_numbers=tuple(sorted(t.front)),
            hypervolume=t.hypervolume,
            hypervolume_reference=tuple(t.reference_point),
            hypervolume_scale=tuple(t.scale),
            evaluated_here=self.evaluated_here,
            elapsed_s=time.monotonic() - self.started,
            resumed_trials=self.resumed,
            connection=self.connection.address,
            workers=self.connection.workers,
        )

    def submit(self, numbers: Sequence[int], columns: Mapping[str, Sequence[Any]]) -> Any:
        """One Ray task evaluating one chunk; returns its object ref."""
        self.evaluated_here += len(numbers)
        if self.context_ref is None:
            self.context_ref = ray.put(SearchContext(
                self.space, self.options.suite_evaluator, self.options.economics,
                tuple(self.metric_names), tuple(self.bound_names),
                self.options.point_evaluator,
            ))
        return evaluate_in_context.remote(  # type: ignore[call-arg]
            [self.context_ref], numbers, columns
        )

    def collect(self, ref: Any, numbers: Sequence[int],
                columns: Mapping[str, Sequence[Any]]) -> ChunkResult:
        """A finished task's result; a task that failed every retry becomes failed rows."""
        try:
            result: ChunkResult = ray.get(ref)
        except RayError as exc:
            # NOTE: Ray already retried a task whose worker died (max_retries); what
            # reaches here failed every retry, so the trials are recorded as failed.
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            points = points_from_columns(numbers, columns)
            result = chunk_result(self.space, failed_outcomes(self.space, points, message),
                                  self.metric_names, self.bound_names)
        return result

    # -- the per-trial loop (Optuna's samplers) --------------------------------------

    def _run_per_trial(self, fresh: bool) -> None:
        """Ask trials one by one (`study.ask`), tell them one by one after each commit.

        Commit order: the journal (every asked trial and its parameters) is fsynced,
        then the Parquet parts are written, then Optuna is told. A driver killed at any
        moment leaves every trial either committed or RUNNING in the journal; resume
        tells committed RUNNING trials from their rows and evaluates the others again.
        """
        journal = self.folder.journal_path
        pending: list[tuple[Any, PointToEvaluate]] = []
        lost: list[tuple[Any, TrialOutcome]] = []
        committed = read_trials(self.folder) if not fresh else None
        if fresh:
            study = self.study
        else:
            # NOTE: the resumed sampler's seed is offset by the trials already in the
            # journal: the same seed would replay the first session's random stream
            # (NSGA-II would breed with the mutations it used for generation 1).
            previous = studies.trial_count(journal)
            study = studies.load_study(self.space, journal, self.seed + previous,
                                       self.batch_size)
            assert committed is not None
            rows = {int(row["trial_number"]): row for row in committed.to_dict("records")}
            for frozen in studies.running_trials(study):
                trial = studies.trial_for(study, frozen)
                if frozen.number in rows:
                    studies.tell(study, trial, _row_outcome(self.space, rows[frozen.number]),
                                 self.directions)
                elif set(frozen.params) == set(self.distributions):
                    pending.append((trial, PointToEvaluate(frozen.number, dict(frozen.params))))
                else:
                    # killed inside `ask`, before every parameter was stored
                    point = PointToEvaluate(frozen.number, dict(frozen.params))
                    (outcome,) = failed_outcomes(
                        self.space, [point],
                        "driver was killed before the trial's parameters were stored")
                    lost.append((trial, outcome))
                self.resumed += 1
            numbers, objectives, feasible, failed = _tracker_arrays(
                row_arrays(self.space, committed))
            self.tracker.add(numbers, objectives, feasible, failed,
                             params=_param_columns(self.space, committed))
        self.done = self.tracker.done
        self.done_at_start = self.done
        if lost:
            result = chunk_result(self.space, [o for _, o in lost], self.metric_names,
                                  self.bound_names)
            self._commit_per_trial(study, [([t for t, _ in lost], result)])
        self._loop_per_trial(study, pending)

    def _loop_per_trial(self, study: Any, pending: list[tuple[Any, PointToEvaluate]]) -> None:
        in_flight: dict[Any, tuple[list[Any], list[int], dict[str, list[Any]]]] = {}
        buffer: list[tuple[list[Any], ChunkResult]] = []
        buffered = 0
        last_flush = time.monotonic()
        self.report(force=True)

        def send(items: list[tuple[Any, PointToEvaluate]]) -> None:
            for start in range(0, len(items), self.designs_per_task):
                chunk = items[start : start + self.designs_per_task]
                numbers = [p.trial_number for _, p in chunk]
                columns = {n: [p.params[n] for _, p in chunk] for n in self.distributions}
                in_flight[self.submit(numbers, columns)] = ([t for t, _ in chunk], numbers,
                                                            columns)

        while True:
            asked = sum(len(v[1]) for v in in_flight.values()) + buffered
            # fill the pipeline: first the trials a killed driver left, then new asks
            while pending and asked < self.max_in_flight:
                take = pending[: self.batch_size]
                del pending[: self.batch_size]
                send(take)
                asked += len(take)
            remaining = self.budget - self.done - asked - len(pending)
            while remaining > 0 and asked < self.max_in_flight:
                count = min(self.batch_size, remaining, self.max_in_flight - asked)
                trials = studies.ask_batch(study, self.distributions, count)
                send([(t, PointToEvaluate(t.number, dict(t.params))) for t in trials])
                asked += count
                remaining -= count
            if not in_flight and not buffer:
                break
            if in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=FLUSH_INTERVAL_S)
                for ref in ready:
                    trials, numbers, columns = in_flight.pop(ref)
                    buffer.append((trials, self.collect(ref, numbers, columns)))
                    buffered += len(trials)
            due = time.monotonic() - last_flush >= FLUSH_INTERVAL_S
            if buffer and (buffered >= self.batch_size or not in_flight or due):
                self._commit_per_trial(study, buffer)
                buffer, buffered = [], 0
                last_flush = time.monotonic()
                self.report()

    def _commit_per_trial(self, study: Any, items: list[tuple[list[Any], ChunkResult]]) -> None:
        results = [result for _, result in items]
        studies.sync_journal(study)  # every committed row's trial is durable in the journal
        self.folder.write_part(
            pa.concat_tables([r.trials for r in results]),
            pa.concat_tables([r.evaluations for r in results], promote_options="default"),
        )
        names = list(self.space.constraints)
        for trials, result in items:
            for i, trial in enumerate(trials):
                studies.tell_values(
                    study, trial, bool(result.failed[i]), result.objectives[i].tolist(),
                    dict(zip(names, result.constraints[i].tolist(), strict=True)),
                    self.directions,
                )
            self.tracker.add(np.asarray([t.number for t in trials]), result.objectives,
                             result.feasible, result.failed,
                             params={n: [t.params.get(n) for t in trials]
                                     for n in self.space.parameters})
        self.done = self.tracker.done
        self.folder.upload_journal()

    def report(self, force: bool = False) -> None:
        """Progress to the callback, at most every REPORT_INTERVAL_S unless forced."""
        now = time.monotonic()
        if self.on_progress is None or (not force and now - self.last_report < REPORT_INTERVAL_S):
            return
        self.last_report = now
        elapsed = now - self.started
        t = self.tracker
        fresh = self.done - self.done_at_start
        self.on_progress(
            SearchProgress(
                done=self.done,
                budget=self.budget,
                elapsed_s=elapsed,
                trials_per_s=fresh / elapsed if elapsed > 0 else 0.0,
                feasible_share=t.feasible / t.done if t.done else 0.0,
                front_size=t.front_designs,
                hypervolume=t.hypervolume,
            )
        )


def _param_columns(space: SearchSpace, frame: Any) -> dict[str, list[Any]]:
    """name -> value per row of the `param_*` columns of committed rows (pandas or Arrow)."""
    if hasattr(frame, "column"):
        return {n: frame.column(f"param_{n}").to_pylist() for n in space.parameters}
    return {n: frame[f"param_{n}"].tolist() for n in space.parameters}


def _tracker_arrays(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    numbers, objectives, _constraints, feasible, failed = arrays
    return numbers, objectives, feasible, failed
