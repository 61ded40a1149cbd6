"""The search driver: one Optuna study, Ray workers, a results folder that survives crashes.

The loop: ask a batch of points, split it into chunks (one Ray task each, a vectorised
batch of designs), collect outcomes as tasks finish, and commit them: write the Parquet
parts first, then tell Optuna. Because the Parquet trials part is written before the
tell, a driver killed at any moment leaves every trial either committed (a row in
`trials/`) or RUNNING in the journal; `--resume` tells committed RUNNING trials from
their rows, evaluates the uncommitted ones again with their stored parameters, and goes
on until `trials/` holds exactly the budget, each trial number once.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import ray
from ray.exceptions import RayError

from dse.errors import ConfigError, Problem
from dse.results.reader import read_trials
from dse.results.schema import METADATA_FILE, evaluation_metric_names, metadata_document
from dse.results.schema import outcome_from_trial_row as _row_outcome
from dse.results.writer import FolderExists, ResultsFolder
from dse.runtime.cluster import RayConnection, ray_connection
from dse.runtime.worker import evaluate_chunk
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


def dse_version() -> str:
    try:
        return version("dse")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class SearchOptions:
    out: str
    trials: int | None = None
    """Budget override (finished trials); default: the file's budget.trials."""
    address: str | None = None
    resume: bool = False
    num_cpus: int | None = None
    """CPUs of an embedded local cluster (default: all)."""
    batch_size: int | None = None
    designs_per_task: int | None = None
    max_in_flight: int | None = None
    """Trials asked but not yet committed (default: one batch for NSGA-II/III, else two)."""
    seed: int | None = None
    suite_evaluator: SuiteEvaluator | None = None
    """Default: `evaluators.evaluate_suite`. Tests inject faults through this."""
    economics: Economics | None = None


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


def _params_key(params: Mapping[str, Any]) -> Hashable:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


class _Tracker:
    """Running totals for progress: feasible share, Pareto front, hypervolume."""

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
        self.numbers: list[int] = []
        self.values: list[list[float]] = []
        self.front: tuple[int, ...] = ()
        self.hypervolume = 0.0

    def add(self, outcomes: Sequence[TrialOutcome]) -> None:
        for o in outcomes:
            self.done += 1
            self.failed += o.state == "failed"
            self.complete += o.state == "complete"
            if o.feasible:
                values = [o.objectives[name] for name in o.objectives]
                if all(math.isfinite(v) for v in values):
                    self.feasible += 1
                    self.numbers.append(o.trial_number)
                    self.values.append(values)
        if self.values:
            table = np.asarray(self.values)
            mask = pareto_mask(table, self.directions)
            self.front = tuple(n for n, keep in zip(self.numbers, mask, strict=True) if keep)
            self.hypervolume = hypervolume(
                table[mask], self.directions, self.reference_point, self.scale
            )
            # keep only the front: dominated points never return to it
            self.values = table[mask].tolist()
            self.numbers = list(self.front)


def _check_resume_matches(folder: ResultsFolder, space: SearchSpace) -> dict[str, Any]:
    if not folder.exists(METADATA_FILE):
        raise ConfigError(
            Problem(folder.uri, "", "nothing to resume: no metadata.json in this folder")
        )
    metadata = folder.read_json(METADATA_FILE)
    if metadata.get("space_sha256") != space.sha256:
        raise ConfigError(
            Problem(
                space.source,
                "",
                f"differs from the search-space file {folder.uri} was started with "
                "(its copy is OUT/space.yaml); resume with that file or use a new folder",
            )
        )
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
            summary = _Driver(space, options, folder, connection, on_progress).run(metadata)
    except BaseException:
        if folder.exists(METADATA_FILE):
            folder.finish("failed")
        folder.upload_journal()
        folder.release_lock()
        raise
    folder.finish("finished")
    folder.upload_journal()
    folder.release_lock()
    return summary


class _Driver:
    def __init__(
        self,
        space: SearchSpace,
        options: SearchOptions,
        folder: ResultsFolder,
        connection: RayConnection,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.space = space
        self.options = options
        self.folder = folder
        self.connection = connection
        self.on_progress = on_progress
        budget = space.spec.budget
        self.budget = options.trials or budget.trials
        self.batch_size = options.batch_size or budget.batch_size
        self.designs_per_task = options.designs_per_task or budget.designs_per_task
        # NOTE: a generational sampler gets one generation in flight (asked after the
        # previous one is told: better designs per trial); others keep two batches in
        # flight so workers never wait on the driver's ask/tell.
        generational = space.spec.sampler.name in studies.GENERATIONAL_SAMPLERS
        self.max_in_flight = options.max_in_flight or (
            self.batch_size if generational else 2 * self.batch_size
        )
        self.seed = space.spec.seed if options.seed is None else options.seed
        self.directions = [o.direction for o in space.objectives]
        self.distributions = studies.distributions(space)
        self.cache: dict[Hashable, TrialOutcome] = {}
        self.metric_names: list[str] = []
        self.bound_names: list[str] = []
        self.evaluated_here = 0
        self.started = time.monotonic()

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

    # -- the loop --------------------------------------------------------------------

    def run(self, metadata: dict[str, Any] | None) -> SearchSummary:
        journal = self.folder.journal_path
        space_ref = ray.put(self.space)
        resumed = 0
        pending: list[tuple[Any, PointToEvaluate]] = []
        lost: list[tuple[Any, TrialOutcome]] = []
        if metadata is None:
            started_at = datetime.now(UTC)
            self.folder.start(
                self.space,
                metadata_document(
                    self.space,
                    dse_version=dse_version(),
                    seed=self.seed,
                    sampler=self.space.spec.sampler.name,
                    trials_budget=self.budget,
                    started_at=started_at,
                ),
            )
            study = studies.create_study(self.space, journal, self.seed, self.batch_size)
            references = self._evaluate_references()
            committed: dict[int, TrialOutcome] = {}
        else:
            self.folder.remove_orphans()
            self.folder.download_journal()
            studies.repair_journal(journal)
            studies.clear_stale_journal_lock(journal)
            metadata["status"] = "running"
            metadata["finished_at"] = None
            metadata["trials_budget"] = self.budget
            self.folder.write_json(METADATA_FILE, metadata)
            # NOTE: the resumed sampler's seed is offset by the trials already in the
            # journal: the same seed would replay the first session's random stream
            # (NSGA-II would breed with the mutations it used for generation 1).
            previous = studies.trial_count(journal)
            study = studies.load_study(
                self.space, journal, self.seed + previous, self.batch_size
            )
            from dse.results.reader import read_references

            reference_rows = read_references(self.folder)
            if reference_rows.empty and self.space.spec.references:
                references = self._evaluate_references()
            else:
                references = [
                    _row_outcome(self.space, row) for row in reference_rows.to_dict("records")
                ]
            committed = {
                int(row["trial_number"]): _row_outcome(self.space, row)
                for row in read_trials(self.folder).to_dict("records")
            }
            for frozen in studies.running_trials(study):
                trial = studies.trial_for(study, frozen)
                if frozen.number in committed:
                    studies.tell(study, trial, committed[frozen.number], self.directions)
                elif set(frozen.params) == set(self.distributions):
                    pending.append((trial, PointToEvaluate(frozen.number, dict(frozen.params))))
                else:
                    # killed inside `ask`, before every parameter was stored
                    outcome = TrialOutcome(
                        trial_number=frozen.number, state="failed", feasible=False,
                        infeasible_reason="", error="driver was killed before the trial's "
                        "parameters were stored", params=dict(frozen.params), derived={},
                        objectives={o.name: math.nan for o in self.space.objectives},
                        constraints={n: math.nan for n in self.space.constraints},
                    )
                    lost.append((trial, outcome))
                resumed += 1
            # NOTE: the evaluation cache is not refilled from committed rows: they carry
            # no per-workload rows, and a cache hit must write its evaluations too.

        self.metric_names, self.bound_names = evaluation_metric_names(references)
        self.tracker = _Tracker(self.space, *self._hypervolume_frame(references))
        self.tracker.add(list(committed.values()))
        self.done = len(committed)
        self.done_at_start = self.done
        self.resumed = resumed
        if lost:
            self._commit(study, lost)
        self._loop(study, space_ref, pending)
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
            resumed_trials=resumed,
            connection=self.connection.address,
            workers=self.connection.workers,
        )

    def _submit(
        self,
        in_flight: dict[Any, list[tuple[Any, PointToEvaluate]]],
        buffer: list[tuple[Any, TrialOutcome]],
        space_ref: Any,
        items: list[tuple[Any, PointToEvaluate]],
    ) -> None:
        to_evaluate: list[tuple[Any, PointToEvaluate]] = []
        for trial, point in items:
            cached = self.cache.get(_params_key(point.params))
            if cached is not None:
                # NOTE: NSGA-II repeats parameter sets on discrete spaces; the cost model
                # is deterministic, so a repeat is answered from the first evaluation.
                buffer.append((trial, dataclasses.replace(cached, trial_number=point.trial_number)))
            else:
                to_evaluate.append((trial, point))
        for start in range(0, len(to_evaluate), self.designs_per_task):
            chunk = to_evaluate[start : start + self.designs_per_task]
            ref = evaluate_chunk.remote(  # type: ignore[call-arg]
                space_ref,
                [p for _, p in chunk],
                self.options.suite_evaluator,
                self.options.economics,
            )
            in_flight[ref] = chunk
            self.evaluated_here += len(chunk)

    def _loop(self, study: Any, space_ref: Any, pending: list[tuple[Any, PointToEvaluate]]) -> None:
        in_flight: dict[Any, list[tuple[Any, PointToEvaluate]]] = {}
        buffer: list[tuple[Any, TrialOutcome]] = []
        last_flush = time.monotonic()
        self._report()
        while True:
            asked = sum(len(chunk) for chunk in in_flight.values()) + len(buffer)
            # fill the pipeline: first the trials a killed driver left, then new asks
            while pending and asked < self.max_in_flight:
                take = pending[: self.batch_size]
                del pending[: self.batch_size]
                self._submit(in_flight, buffer, space_ref, take)
                asked += len(take)
            remaining = self.budget - self.done - asked - len(pending)
            while remaining > 0 and asked < self.max_in_flight:
                count = min(self.batch_size, remaining, self.max_in_flight - asked)
                trials = studies.ask_batch(study, self.distributions, count)
                self._submit(
                    in_flight, buffer, space_ref,
                    [(t, PointToEvaluate(t.number, dict(t.params))) for t in trials],
                )
                asked += count
                remaining -= count
            if not in_flight and not buffer:
                break
            if in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=FLUSH_INTERVAL_S)
                for ref in ready:
                    chunk = in_flight.pop(ref)
                    buffer.extend(self._collect(ref, chunk))
            due = time.monotonic() - last_flush >= FLUSH_INTERVAL_S
            if buffer and (len(buffer) >= self.batch_size or not in_flight or due):
                self._commit(study, buffer)
                buffer = []
                last_flush = time.monotonic()
                self._report()

    def _collect(
        self, ref: Any, chunk: list[tuple[Any, PointToEvaluate]]
    ) -> list[tuple[Any, TrialOutcome]]:
        try:
            outcomes: list[TrialOutcome] = ray.get(ref)
        except RayError as exc:
            # NOTE: Ray already retried a task whose worker died (max_retries); what
            # reaches here failed every retry, so the trials are recorded as failed.
            message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            outcomes = [
                TrialOutcome(
                    trial_number=point.trial_number, state="failed", feasible=False,
                    infeasible_reason="", error=message, params=dict(point.params), derived={},
                    objectives={o.name: math.nan for o in self.space.objectives},
                    constraints={n: math.nan for n in self.space.constraints},
                )
                for _, point in chunk
            ]
        for outcome in outcomes:
            if outcome.state == "complete":
                self.cache.setdefault(_params_key(outcome.params), outcome)
        return [(trial, outcome) for (trial, _), outcome in zip(chunk, outcomes, strict=True)]

    def _commit(self, study: Any, items: list[tuple[Any, TrialOutcome]]) -> None:
        outcomes = [outcome for _, outcome in items]
        studies.sync_journal(study)  # every committed row's trial is durable in the journal
        self.folder.write_outcomes(self.space, outcomes, self.metric_names, self.bound_names)
        for trial, outcome in items:
            studies.tell(study, trial, outcome, self.directions)
        self.done += len(outcomes)
        self.tracker.add(outcomes)
        self.folder.upload_journal()

    def _report(self) -> None:
        if self.on_progress is None:
            return
        elapsed = time.monotonic() - self.started
        t = self.tracker
        fresh = self.done - self.done_at_start
        self.on_progress(
            SearchProgress(
                done=self.done,
                budget=self.budget,
                elapsed_s=elapsed,
                trials_per_s=fresh / elapsed if elapsed > 0 else 0.0,
                feasible_share=t.feasible / t.done if t.done else 0.0,
                front_size=len(t.front),
                hypervolume=t.hypervolume,
            )
        )
