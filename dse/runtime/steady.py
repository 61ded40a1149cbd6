"""The steady-state search loop: many chunks in flight, bulk commits, one record per trial.

With a sampler that proposes points in batches (`async_nsga2`), the driver keeps every
worker fed with several chunks, tells the sampler each chunk's results as soon as they
arrive, and commits what has arrived every COMMIT_INTERVAL_S:

1. trial numbers are given at commit, in commit order, continuing from the trials
   already committed (a point in flight has no number yet);
2. the chunks' rows (built by the workers) are renumbered and written as one
   `evaluations/` part then one `trials/` part: the commit point;
3. one Optuna journal record per committed trial is appended (`TrialRecorder`), in
   trial-number order.

A driver killed at any moment therefore leaves trials 0..R-1 in `trials/` and a prefix
0..J-1 of them (J <= R) in the journal; points in flight are simply gone (they were
never trials). `--resume` appends the journal records of trials J..R-1 from their rows,
rebuilds the sampler's archive from the rows, and goes on from trial R until `trials/`
holds exactly the budget: nothing lost, nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray
from ray.exceptions import RayError

from dse.errors import ConfigError, Problem
from dse.results.reader import read_trials
from dse.runtime.worker import ChunkResult
from dse.search import study as studies
from dse.search.evolution import AsyncNSGA2Sampler, minimised_objectives, total_violation
from dse.search.recorder import TrialRecorder

if TYPE_CHECKING:
    from dse.runtime.driver import _Driver

COMMIT_INTERVAL_S = 0.5
"""Results wait at most about this long in memory before they are committed."""

COMMIT_ROWS = 50_000
"""...or until this many have arrived (keeps a part's memory bounded)."""

JOURNAL_UPLOAD_INTERVAL_S = 30.0
"""A remote folder's journal copy is refreshed this often (it can be rebuilt from rows)."""

WAIT_TIMEOUT_S = 0.5


@dataclass(slots=True)
class _Chunk:
    unit: np.ndarray
    columns: dict[str, list[Any]]
    submitted: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __len__(self) -> int:
        return len(self.unit)


def _renumbered(table: pa.Table, offset: int) -> pa.Table:
    index = table.schema.get_field_index("trial_number")
    return table.set_column(
        index, table.schema.field(index), pc.add(table.column(index), pa.scalar(offset))
    )


class SteadySearch:
    """The loop of one search session on a batch sampler; see the module docstring."""

    def __init__(self, driver: _Driver) -> None:
        self.d = driver
        self.space = driver.space
        self.constraint_names = list(driver.space.constraints)

    # -- set-up and resume -------------------------------------------------------------

    def _sampler(self, seed: int) -> AsyncNSGA2Sampler:
        sampler = studies.make_sampler(self.space, seed, self.d.batch_size)
        assert isinstance(sampler, AsyncNSGA2Sampler)
        return sampler

    def _study_id(self, create: bool) -> tuple[int, int]:
        """The study's id in the journal and its trial count (created when missing)."""
        journal = self.d.folder.journal_path
        if not create:
            scanned = studies.scan_steady_journal(journal)
            if scanned is not None and scanned[0] == self.space.name:
                return 0, scanned[1]  # the journal's one study (Optuna numbers it 0)
            storage = studies.storage_for(journal)
            try:
                study_id = storage.get_study_id_from_name(self.space.name)
            except KeyError:
                pass  # killed between metadata.json and the study: create it now
            else:
                return study_id, storage.get_n_trials(study_id)
        studies.create_study(self.space, journal, self.d.seed, self.d.batch_size,
                             single_writer=False)
        return studies.storage_for(journal).get_study_id_from_name(self.space.name), 0

    def run(self, fresh: bool) -> None:
        d = self.d
        if fresh:
            committed = read_trials(d.folder).iloc[0:0]
            self.sampler = self._sampler(d.seed)
        else:
            committed = read_trials(d.folder)
            numbers = committed["trial_number"].to_numpy() if len(committed) else np.empty(0)
            if not np.array_equal(numbers, np.arange(len(committed))):
                raise ConfigError(Problem(
                    d.folder.uri, "trials/",
                    f"holds {len(committed)} trials but not numbers 0..{len(committed) - 1} "
                    "each once; the folder was changed by hand and cannot be resumed",
                ))
            # NOTE: the resumed sampler's seed is offset by the trials committed, so it
            # does not replay the first session's random stream.
            self.sampler = self._sampler(d.seed + len(committed))
        study_id, journal_trials = self._study_id(create=fresh)
        if journal_trials > len(committed):
            raise ConfigError(Problem(
                str(d.folder.journal_path), "",
                f"holds {journal_trials} trials but trials/ only {len(committed)}: Parquet "
                "parts were removed after the search; restore them or use a new folder",
            ))
        self.recorder = TrialRecorder(
            d.folder.journal_path, study_id, d.distributions, d.directions,
            self.constraint_names,
        )
        try:
            if len(committed):
                self._resume_from_rows(committed, journal_trials)
            d.done = d.tracker.done
            d.done_at_start = d.done
            self._loop()
        finally:
            self.recorder.close()

    def _resume_from_rows(self, committed: Any, journal_trials: int) -> None:
        from dse.runtime.driver import row_arrays

        d = self.d
        numbers, objectives, constraints, feasible, failed = row_arrays(self.space, committed)
        columns = {name: committed[f"param_{name}"].tolist() for name in d.distributions}
        missing = slice(journal_trials, len(committed))
        if journal_trials < len(committed):
            self.recorder.record(
                studies.told_values(objectives[missing], d.directions),
                failed[missing],
                studies.told_constraints(constraints[missing]),
                self.sampler.codec.internal({n: v[missing] for n, v in columns.items()}),
                started=datetime.now(UTC),
            )
            d.resumed = len(committed) - journal_trials
        unit = self.sampler.codec.encode(columns)
        self.sampler.tell_batch(unit, minimised_objectives(objectives, d.directions),
                                np.where(failed, np.inf, total_violation(constraints)))
        self.sampler.remember(unit)
        d.tracker.add(numbers, objectives, feasible, failed, params=columns)

    # -- the loop ----------------------------------------------------------------------

    def _loop(self) -> None:
        d = self.d
        in_flight: dict[Any, _Chunk] = {}
        buffer: list[tuple[_Chunk, ChunkResult]] = []
        buffered = 0
        last_commit = last_upload = time.monotonic()
        d.report(force=True)
        while True:
            outstanding = buffered + sum(len(c) for c in in_flight.values())
            size = d.designs_per_task
            limit = max(self.sampler.in_flight_limit(d.max_in_flight), size)
            left = d.budget - d.done - outstanding
            want = min(limit - outstanding, left)
            # NOTE: only whole chunks, but for the budget's last one: a task costs the
            # same overhead (and, for a model with a fixed cost per batch, the same
            # time) whatever its size, so topping the pipeline up with the few points
            # one returned chunk freed would shrink every chunk after it.
            if want < left:
                want -= want % size
            if want > 0:
                self._send(want, in_flight)
            if not in_flight and not buffer:
                break
            if in_flight:
                refs = list(in_flight)
                ready, _ = ray.wait(refs, num_returns=1, timeout=WAIT_TIMEOUT_S)
                if ready and len(refs) > 1:
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                for ref, result in self._results(ready, in_flight):
                    chunk = in_flight.pop(ref)
                    self.sampler.tell_batch(
                        chunk.unit, minimised_objectives(result.objectives, d.directions),
                        np.where(result.failed, np.inf, total_violation(result.constraints)),
                    )
                    buffer.append((chunk, result))
                    buffered += len(chunk)
            now = time.monotonic()
            if buffer and (buffered >= COMMIT_ROWS or not in_flight
                           or now - last_commit >= COMMIT_INTERVAL_S):
                self._commit(buffer)
                buffer, buffered = [], 0
                last_commit = now
                if not d.folder.is_local and now - last_upload >= JOURNAL_UPLOAD_INTERVAL_S:
                    d.folder.upload_journal()
                    last_upload = now
            d.report()
        d.report(force=True)

    def _send(self, count: int, in_flight: dict[Any, _Chunk]) -> None:
        d = self.d
        unit = self.sampler.propose(count)
        columns = self.sampler.codec.decode(unit)
        size = d.designs_per_task
        for start in range(0, count, size):
            chunk = _Chunk(unit[start : start + size],
                           {n: v[start : start + size] for n, v in columns.items()})
            in_flight[d.submit(range(len(chunk)), chunk.columns)] = chunk

    def _results(
        self, ready: list[Any], in_flight: dict[Any, _Chunk]
    ) -> list[tuple[Any, ChunkResult]]:
        if not ready:
            return []
        try:
            return list(zip(ready, ray.get(ready), strict=True))
        except RayError:
            return [
                (ref, self.d.collect(ref, list(range(len(in_flight[ref]))),
                                     in_flight[ref].columns))
                for ref in ready
            ]

    def _commit(self, buffer: list[tuple[_Chunk, ChunkResult]]) -> None:
        from dse.runtime.driver import _param_columns

        d = self.d
        first = d.done
        trials, evaluations = [], []
        offset = first
        for _chunk, result in buffer:
            trials.append(_renumbered(result.trials, offset))
            if result.evaluations.num_rows:
                evaluations.append(_renumbered(result.evaluations, offset))
            offset += len(result)
        empty = buffer[0][1].evaluations.slice(0, 0)
        d.folder.write_part(
            pa.concat_tables(trials),
            pa.concat_tables(evaluations, promote_options="default") if evaluations else empty,
        )
        results = [result for _, result in buffer]
        objectives = np.concatenate([r.objectives for r in results])
        constraints = np.concatenate([r.constraints for r in results])
        failed = np.concatenate([r.failed for r in results])
        unit = np.concatenate([chunk.unit for chunk, _ in buffer])
        self.recorder.record(
            studies.told_values(objectives, d.directions), failed,
            studies.told_constraints(constraints), self.sampler.codec.internal_from_unit(unit),
            started=min(chunk.submitted for chunk, _ in buffer),
        )
        d.tracker.add(np.arange(first, offset), objectives,
                      np.concatenate([r.feasible for r in results]), failed,
                      params=_param_columns(self.space, pa.concat_tables(trials)))
        d.done = offset
