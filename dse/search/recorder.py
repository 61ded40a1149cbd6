"""Finished trials appended to an Optuna journal in bulk: one record per trial.

The steady-state search path never keeps a trial RUNNING in the study: a trial is
created in the journal only once it is finished and its Parquet row is committed, as a
single `CREATE_TRIAL` record carrying its state, values, parameters and constraints
(what `storage.create_new_trial(study_id, template_trial=...)` writes; Optuna's
`study.add_trials` does the same one trial at a time). The journal stays a plain Optuna
journal: `optuna.load_study` and optuna-dashboard read it.

# NOTE: measured on the 2-core machine, Optuna's ask + tell on a journal wrote about 10
# records per trial (create, one per parameter, constraints, values, state) and cost
# about 9 ms per trial on Optuna's file backend (115 trials/s, issue 9); records built
# from the captured template and written with one `write` per commit cost about 10 us
# per trial (docs/search.md).
# The record layout is not hand-written: it is captured once from Optuna's own
# `JournalStorage.create_new_trial` on an in-memory backend (public API), so the
# records are exactly what the installed Optuna writes and reads.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend
from optuna.trial import TrialState

CONSTRAINTS_LIST_KEY = "constraints"
"""System attribute with the constraint values as a list, in the space file's order.

# NOTE: Optuna 5 stores each constraint under `constraints:<name>` (what `trial.
# constraints` returns by name); optuna-dashboard 0.21 shows only this older list form
# (`optuna_dashboard/_serializer.py` reads `system_attrs["constraints"]`). Both are
# written, so the dashboard shows the constraints and Optuna keeps their names; Optuna
# then also lists them as "0", "1", ... (same values, so feasibility is unchanged)."""


class _CapturingBackend(BaseJournalBackend):
    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        yield from self.logs[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.logs.extend(logs)


def _captured_record(
    distributions: Mapping[str, BaseDistribution], objectives: int
) -> dict[str, Any]:
    """The record Optuna writes for one finished trial created from a template."""
    backend = _CapturingBackend()
    storage = JournalStorage(backend)
    study_id = storage.create_new_study(
        [optuna.study.StudyDirection.MINIMIZE] * objectives, "capture"
    )
    params = {name: dist.to_external_repr(_some_internal(dist))
              for name, dist in distributions.items()}
    template = optuna.trial.create_trial(
        state=TrialState.COMPLETE, values=[0.0] * objectives, params=params,
        distributions=dict(distributions), system_attrs={"constraints:x": 0.0},
    )
    storage.create_new_trial(study_id, template_trial=template)
    record = dict(backend.logs[-1])
    expected = {"op_code", "worker_id", "study_id", "datetime_start", "datetime_complete",
                "state", "value", "values", "distributions", "params", "user_attrs",
                "system_attrs", "intermediate_values"}
    if set(record) != expected:  # an Optuna whose journal format changed: stop loudly
        raise RuntimeError(f"unexpected Optuna journal record layout: {sorted(record)}")
    return record


def _some_internal(dist: BaseDistribution) -> float:
    low = getattr(dist, "low", None)
    return float(low) if low is not None else 0.0


class TrialRecorder:
    """Appends finished trials of one study to its journal file (one writer only).

    `record(...)` writes one `CREATE_TRIAL` record per trial with one `write` and
    flushes it to the OS (a killed process loses nothing written); `sync()` fsyncs.
    Trial numbers follow the order of records, so the caller records trials in the
    order of their numbers and never twice (see dse.runtime.steady for the protocol).
    """

    def __init__(
        self,
        journal_path: Path,
        study_id: int,
        distributions: Mapping[str, BaseDistribution],
        directions: Sequence[str],
        constraint_names: Sequence[str],
    ) -> None:
        self.names = list(distributions)
        self.constraint_names = list(constraint_names)
        self.single_objective = len(directions) == 1
        template = _captured_record(distributions, len(directions))
        self._op_code = template["op_code"]
        constant = {
            "op_code": template["op_code"],
            "worker_id": f"{uuid.uuid4()}-dse-driver",
            "study_id": study_id,
            "distributions": template["distributions"],
            "user_attrs": {},
            "intermediate_values": {},
        }
        self._prefix = json.dumps(constant, separators=(",", ":"))[:-1] + ","
        self._param_keys = [json.dumps(name) + ":" for name in self.names]
        self._constraint_keys = [json.dumps(f"constraints:{name}") + ":"
                                 for name in self.constraint_names]
        self._complete = int(TrialState.COMPLETE)
        self._fail = int(TrialState.FAIL)
        self._handle = open(journal_path, "ab")  # noqa: SIM115  (held for the search's life)

    def record(
        self,
        values: np.ndarray,
        failed: np.ndarray,
        constraints: np.ndarray,
        internal_params: Mapping[str, Sequence[float]],
        started: datetime,
        completed: datetime | None = None,
    ) -> None:
        """Append one finished trial per row.

        `values`: (n, objectives) finite values to store (penalties already applied);
        `failed`: (n,) state FAIL (values and constraints not stored);
        `constraints`: (n, constraints) finite values (<= 0 feasible);
        `internal_params`: name -> n values in Optuna's internal representation.
        """
        completed = completed or datetime.now(UTC)
        start = started.astimezone(UTC).isoformat(timespec="microseconds")
        end = completed.astimezone(UTC).isoformat(timespec="microseconds")
        # NOTE: the lines are assembled from JSON fragments column by column (repr of a
        # finite float or an int is valid JSON): json.dumps of one dict per trial cost
        # about 60 us per trial here, against the driver's whole budget of 100 us.
        failed_rows = np.asarray(failed, dtype=bool).tolist()
        count = len(failed_rows)
        if not count:
            return
        params = [
            [key + text for text in map(repr, internal_params[name])]
            for name, key in zip(self.names, self._param_keys, strict=True)
        ]
        param_parts = ['"params":{' + ",".join(cells) + "}" for cells in zip(*params, strict=True)]
        value_parts = [",".join(map(repr, row)) for row in np.asarray(values, float).tolist()]
        constraint_rows = [list(map(repr, row))
                           for row in np.asarray(constraints, dtype=float).tolist()]
        times = f'"datetime_start":"{start}","datetime_complete":"{end}"'
        failed_line = f'{self._prefix}{times},"state":{self._fail},"value":null,"values":null,'
        failed_line += '"system_attrs":{},'
        lines = []
        for i in range(count):
            if failed_rows[i]:
                lines.append(failed_line + param_parts[i] + "}")
                continue
            cells = constraint_rows[i]
            attrs = ",".join(key + cell for key, cell in zip(self._constraint_keys, cells,
                                                             strict=True))
            if cells:
                attrs += f',"{CONSTRAINTS_LIST_KEY}":[' + ",".join(cells) + "]"
            if self.single_objective:
                told = f'"value":{value_parts[i]},"values":null'
            else:
                told = f'"value":null,"values":[{value_parts[i]}]'
            lines.append(f'{self._prefix}{times},"state":{self._complete},{told},'
                         f'"system_attrs":{{{attrs}}},{param_parts[i]}}}')
        self._handle.write(("\n".join(lines) + "\n").encode("utf-8"))
        self._handle.flush()

    def sync(self) -> None:
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def __enter__(self) -> TrialRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
