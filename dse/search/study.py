"""The Optuna side of a search: distributions, samplers, the journal-backed study, tells.

The driver owns one study per output folder, stored as an Optuna journal file beside
the results (`optuna-dashboard OUT/study.journal` opens it). Constraints go through the
Optuna 5.0 API (`trial.set_constraint`, <= 0 feasible).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler
from optuna.storages import JournalStorage
from optuna.storages.journal import (
    BaseJournalBackend,
    JournalFileBackend,
    JournalFileOpenLock,
)
from optuna.trial import FrozenTrial, Trial, TrialState

from dse.errors import ConfigError, Problem
from dse.search.evaluation import PENALTY_MAGNITUDE, UNBUILDABLE_VIOLATION, TrialOutcome
from dse.search.recorder import CONSTRAINTS_LIST_KEY
from dse.space import SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)

DEFAULT_SAMPLER = "async_nsga2"

STEADY_STATE_SAMPLERS = frozenset({"async_nsga2"})
"""Samplers with a batch interface (`propose`/`tell_batch`): the driver's bulk path."""


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """One Optuna distribution per parameter, straight from the file (no second model)."""
    result: dict[str, BaseDistribution] = {}
    for name, p in space.parameters.items():
        if p.kind == "categorical":
            assert p.choices is not None
            result[name] = CategoricalDistribution(list(p.choices))
        elif p.kind == "int":
            assert p.low is not None and p.high is not None
            result[name] = IntDistribution(
                int(p.low), int(p.high), log=p.log, step=int(p.step or 1)
            )
        else:
            assert p.low is not None and p.high is not None
            result[name] = FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    return result


def make_sampler(
    space: SearchSpace, seed: int | None = None, batch_size: int | None = None
) -> BaseSampler:
    """The sampler the file names, with its settings (already checked by dse.space)."""
    spec = space.spec.sampler
    settings: dict[str, Any] = dict(spec.settings)
    seed = space.spec.seed if seed is None else seed
    batch_size = batch_size or space.spec.budget.batch_size
    if spec.name == "async_nsga2":
        from dse.search.evolution import AsyncNSGA2Sampler

        # NOTE: population defaults to the batch size (the same default as nsga2, so
        # the two compare at equal populations); the driver keeps many more points in
        # flight than that, and the archive breeds from whatever has been told.
        settings.setdefault("population_size", max(batch_size, 8))
        return AsyncNSGA2Sampler(
            distributions(space), directions=[o.direction for o in space.objectives],
            seed=seed, **settings,
        )
    if spec.name == "nsga2":
        # NOTE: population defaults to the batch size, so one asked batch is one
        # generation (the driver asks the next one when this one is told). On
        # sram_vs_hbm, population 32 asked one generation at a time reached 98 % of the
        # dense front's hypervolume at 250 trials, against 94 % with population 64 or
        # with two generations in flight (benchmarks/search_hypervolume.py).
        settings.setdefault("population_size", max(batch_size, 8))
        return optuna.samplers.NSGAIISampler(seed=seed, **settings)
    if spec.name == "nsga3":
        settings.setdefault("population_size", max(batch_size, 8))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.NSGAIIISampler(seed=seed, **settings)
    if spec.name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **settings)
    if spec.name == "gp":
        return optuna.samplers.GPSampler(seed=seed, **settings)
    if spec.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.name == "grid":
        points = int(settings.get("points_per_float", 5))
        grid = {name: p.grid_values(points) for name, p in space.parameters.items()}
        return optuna.samplers.GridSampler(grid, seed=seed)
    raise ValueError(f"unknown sampler {spec.name!r}")


def repair_journal(path: Path) -> int:
    """Drop a torn last line left by a process killed mid-write; returns bytes removed.

    # NOTE: Optuna's journal reader stops at a line without its newline, and the next
    # append would glue a new record onto the torn one; truncating to the last complete
    # record keeps every finished write and loses only the one that never completed.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        position = size
        chunk = 4096
        while position > 0:
            start = max(0, position - chunk)
            handle.seek(start)
            block = handle.read(position - start)
            newline = block.rfind(b"\n")
            if newline != -1:
                keep = start + newline + 1
                break
            position = start
        else:
            keep = 0
        if keep < size:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        return size - keep


class DriverJournalBackend(BaseJournalBackend):
    """The journal file of a study written by exactly one driver (same file format).

    # NOTE: measured on sram_vs_hbm (1,000 trials, about 10 journal records per trial):
    # Optuna's file backend spent 3.4 s in a per-record fsync, 1.0 s in a per-record
    # lock file and about 1 s re-reading the file before every operation, of a 15 s
    # search. The folder lock (dse.results) admits one driver per study, so this
    # backend keeps the records it has read or written in memory, appends new ones to
    # the file and flushes them (a killed process loses nothing: the bytes are in the
    # OS), and `sync()` makes them durable at every commit, before the Parquet part is
    # written, so a committed row's trial is always in the journal on disk. Other
    # readers (optuna-dashboard, resume) use Optuna's own backend on the same file.
    """

    def __init__(self, file_path: str) -> None:
        self._path = file_path
        reader = JournalFileBackend(file_path, lock_obj=JournalFileOpenLock(file_path))
        self._lines = [json.dumps(log, separators=(",", ":")) for log in reader.read_logs(0)]
        self._handle = open(file_path, "ab")  # noqa: SIM115  (held for the study's life)

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        for line in self._lines[log_number_from:]:
            yield json.loads(line)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        lines = [json.dumps(log, separators=(",", ":")) for log in logs]
        self._handle.write(("\n".join(lines) + "\n").encode("utf-8"))
        self._handle.flush()
        self._lines.extend(lines)

    def sync(self) -> None:
        os.fsync(self._handle.fileno())

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()


def storage_for(journal_path: Path, single_writer: bool = False) -> JournalStorage:
    """Journal storage on `journal_path`.

    `single_writer`: the driver's fast path (`DriverJournalBackend`); readers and other
    tools use Optuna's own backend with its open(O_EXCL) lock.
    """
    if single_writer:
        return JournalStorage(DriverJournalBackend(str(journal_path)))
    backend = JournalFileBackend(str(journal_path), lock_obj=JournalFileOpenLock(str(journal_path)))
    return JournalStorage(backend)


def sync_journal(study: optuna.Study) -> None:
    """Make every journal record written so far durable (driver storage only)."""
    storage = study._storage
    backend = getattr(storage, "_backend", None)
    if isinstance(backend, DriverJournalBackend):
        backend.sync()


def clear_stale_journal_lock(journal_path: Path) -> bool:
    """Remove the journal's lock file left by a killed driver (call under the folder lock)."""
    removed = False
    for suffix in (".lock",):
        lock = Path(str(journal_path) + suffix)
        if lock.exists() or lock.is_symlink():
            lock.unlink()
            removed = True
    return removed


CONSTRAINT_NAMES_ATTR = "constraint_names"
"""Study user attribute: the constraints' names, in the order of the trials' list."""


def create_study(
    space: SearchSpace, journal_path: Path, seed: int | None = None,
    batch_size: int | None = None, single_writer: bool = True,
) -> optuna.Study:
    """A new study named after the space, with its objectives' and constraints' names
    (optuna-dashboard shows the metric names instead of "Objective 0, 1, ...")."""
    study = optuna.create_study(
        storage=storage_for(journal_path, single_writer=single_writer),
        study_name=space.name,
        directions=[o.direction for o in space.objectives],
        sampler=make_sampler(space, seed, batch_size),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([o.name for o in space.objectives])
    study.set_user_attr(CONSTRAINT_NAMES_ATTR, list(space.constraints))
    return study


def load_study(
    space: SearchSpace, journal_path: Path, seed: int | None = None,
    batch_size: int | None = None,
) -> optuna.Study:
    return optuna.load_study(
        storage=storage_for(journal_path, single_writer=True),
        study_name=space.name,
        sampler=make_sampler(space, seed, batch_size),
    )


GENERATIONAL_SAMPLERS = frozenset({"nsga2", "nsga3"})
"""Samplers that breed each generation from the last: ask one batch at a time."""


def trial_count(journal_path: Path) -> int:
    """Trials stored in a journal (any state), read without taking over the study."""
    storage = storage_for(journal_path)
    return sum(len(storage.get_all_trials(s._study_id, deepcopy=False))
               for s in storage.get_all_studies())


# Optuna 5's journal op codes (optuna/storages/journal/_storage.py, JournalOperation)
_CREATE_STUDY, _SET_STUDY_USER_ATTR, _SET_STUDY_SYSTEM_ATTR, _CREATE_TRIAL = 0, 2, 3, 4
_FINISHED_STATES = frozenset({TrialState.COMPLETE.value, TrialState.PRUNED.value,
                              TrialState.FAIL.value})


def scan_steady_journal(journal_path: Path) -> tuple[str, int] | None:
    """(study name, trial count) of a journal holding only what the steady-state loop
    writes: one study, its attributes, and one CREATE_TRIAL record per finished trial
    (trial numbers 0..count-1, all finished). None for any other journal (then read it
    with Optuna: per-trial samplers' journals, several studies, a damaged line).

    # NOTE: Optuna replays a journal by building every trial (its distributions parsed
    # from JSON per parameter): 226 s for a million-trial study here, which `--resume`
    # paid twice before it began. Reading each line as JSON and looking at its op code
    # and state takes a few seconds for the same file.
    """
    name: str | None = None
    trials = 0
    try:
        with open(journal_path, "rb") as handle:
            for line in handle:
                log = json.loads(line)
                op = log.get("op_code") if isinstance(log, dict) else None
                if op == _CREATE_STUDY:
                    if name is not None or not isinstance(log.get("study_name"), str):
                        return None
                    name = log["study_name"]
                elif op in (_SET_STUDY_USER_ATTR, _SET_STUDY_SYSTEM_ATTR):
                    if name is None or log.get("study_id") != 0:
                        return None
                elif op == _CREATE_TRIAL:
                    if (name is None or log.get("study_id") != 0
                            or log.get("state") not in _FINISHED_STATES):
                        return None
                    trials += 1
                else:
                    return None
    except (OSError, ValueError):
        return None
    return None if name is None else (name, trials)


def journal_trials(journal_path: Path, folder: str) -> dict[int, bool]:
    """Trial number -> finished (complete, failed or pruned) of the journal, read only.

    A journal Optuna cannot read is a ConfigError naming it (resume refuses it).
    """
    scanned = scan_steady_journal(journal_path)
    if scanned is not None:
        return dict.fromkeys(range(scanned[1]), True)
    try:
        storage = storage_for(journal_path)
        return {
            t.number: t.state.is_finished()
            for s in storage.get_all_studies()
            for t in storage.get_all_trials(s._study_id, deepcopy=False)
        }
    except Exception as exc:  # any way Optuna fails on a damaged file: refuse, explain
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, KeyError):
            reason = f"a record lacks {reason}"
        raise ConfigError(Problem(
            str(journal_path), "", f"not a readable Optuna journal ({reason}): the search in "
            f"{folder} cannot be resumed; its results can still be browsed"
        )) from None


def ask_batch(
    study: optuna.Study, dists: Mapping[str, BaseDistribution], count: int
) -> list[Trial]:
    return [study.ask(dict(dists)) for _ in range(count)]


def trial_for(study: optuna.Study, frozen: FrozenTrial) -> Trial:
    """A live `Trial` handle for a stored RUNNING trial (one left by a killed driver)."""
    return Trial(study, frozen._trial_id)


def running_trials(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def finished_count(study: optuna.Study) -> int:
    return len(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
    )


def told_values(objectives: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """(n, m) objective values as Optuna is told them: NaN -> the worst finite value.

    # NOTE: Optuna refuses NaN objectives (see dse.search.evaluation.PENALTY_MAGNITUDE)."""
    objectives = np.asarray(objectives, dtype=float)
    worst = np.array([-PENALTY_MAGNITUDE if d == "maximize" else PENALTY_MAGNITUDE
                      for d in directions])
    return np.where(np.isfinite(objectives), objectives, worst)


def told_constraints(constraints: np.ndarray) -> np.ndarray:
    """(n, c) relative violations as Optuna is told them: NaN -> UNBUILDABLE_VIOLATION."""
    constraints = np.asarray(constraints, dtype=float)
    return np.where(np.isfinite(constraints), constraints, UNBUILDABLE_VIOLATION)


def tell(
    study: optuna.Study, trial: Trial, outcome: TrialOutcome, directions: Sequence[str]
) -> None:
    """Tell one outcome (see `tell_values`)."""
    tell_values(
        study, trial, outcome.state == "failed",
        [outcome.objectives[name] for name in outcome.objectives],
        outcome.constraints, directions,
    )


def tell_values(
    study: optuna.Study,
    trial: Trial,
    failed: bool,
    objectives: Sequence[float],
    constraints: Mapping[str, float],
    directions: Sequence[str],
) -> None:
    """Tell one trial: constraints first (they are read when the trial completes)."""
    if failed:
        study.tell(trial, state=TrialState.FAIL)
        return
    names = list(constraints)
    values = told_constraints(np.array([constraints[n] for n in names], dtype=float)).tolist()
    # NOTE: a driver killed between set_constraint and tell leaves the constraints
    # stored; the resuming driver re-tells the trial with the same (deterministic)
    # values, and Optuna's "already set" warning would only alarm the user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The constraint value is ignored")
        for name, value in zip(names, values, strict=True):
            trial.set_constraint(name, value)
    if names:
        # the list form optuna-dashboard shows (dse.search.recorder.CONSTRAINTS_LIST_KEY)
        trial.storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_LIST_KEY, values)
    told = told_values(np.array([list(objectives)], dtype=float), directions)[0]
    study.tell(trial, told.tolist())
