"""The Ray task that evaluates one chunk of sampled points. Workers own nothing.

A worker receives the compiled search space (put in the object store once), the
chunk's parameters as columns and the chunk's trial numbers; it evaluates the designs
as one vectorised batch and returns a `ChunkResult`: the chunk's `trials/` and
`evaluations/` rows already as Arrow tables, plus the numbers the driver's sampler and
progress need as numpy arrays.

# NOTE: building the Parquet rows here, not on the driver, is what lets one driver feed
# many workers: unpickling `TrialOutcome` objects (nested dicts per workload) and
# turning them into rows is per-trial Python work on the one driver core, while an
# Arrow table crosses Ray as a few buffers whatever its row count (docs/search.md has
# the driver's measured CPU per trial).

A design that raises inside an evaluator comes back as a failed row (see
dse.search.evaluation); a worker process that dies is retried by Ray (`max_retries`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import ray

from dse.results.schema import evaluations_table, trials_table
from dse.search.evaluation import (
    Economics,
    PointToEvaluate,
    SuiteEvaluator,
    TrialOutcome,
    evaluate_points,
)
from dse.space import SearchSpace

MAX_TASK_RETRIES = 3
"""Retries of a task whose worker process died (system failures; not Python errors)."""

PointEvaluator = Callable[
    [SearchSpace, Sequence[PointToEvaluate], SuiteEvaluator | None, Economics | None],
    list[TrialOutcome],
]
"""What turns points into outcomes (default `evaluate_points`; benchmarks replace it)."""


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """One evaluated chunk: its rows and the figures the driver tells the sampler."""

    trials: pa.Table
    """`trials/` rows in the folder's schema, in the chunk's order."""
    evaluations: pa.Table
    """`evaluations/` rows of the chunk's evaluated designs."""
    objectives: np.ndarray
    """(n, objectives) raw values, NaN where not computed (unbuildable, failed)."""
    constraints: np.ndarray
    """(n, constraints) relative violations (<= 0 satisfied), NaN where not computed."""
    failed: np.ndarray
    """(n,) the evaluator raised (state `failed`)."""
    feasible: np.ndarray
    """(n,) complete, buildable, every workload runs and every constraint holds."""

    def __len__(self) -> int:
        return int(self.trials.num_rows)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # NOTE: each table crosses as one Arrow IPC stream: Ray's own Arrow serializer
        # rebuilds every column separately, about 3 ms of driver time per chunk of 100
        # designs (56 columns) under cProfile in driver_scaling, some 35 us per trial.
        return (_chunk_from_wire, (_ipc(self.trials), _ipc(self.evaluations),
                                   self.objectives, self.constraints, self.failed,
                                   self.feasible))


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _chunk_from_wire(trials: bytes, evaluations: bytes, *arrays: np.ndarray) -> ChunkResult:
    return ChunkResult(pa.ipc.open_stream(trials).read_all(),
                       pa.ipc.open_stream(evaluations).read_all(), *arrays)


def chunk_result(
    space: SearchSpace,
    outcomes: Sequence[TrialOutcome],
    metric_names: Sequence[str] = (),
    bound_names: Sequence[str] = (),
) -> ChunkResult:
    """Rows and arrays of a list of outcomes (what every chunk ends as)."""
    objective_names = [o.name for o in space.objectives]
    constraint_names = list(space.constraints)
    return ChunkResult(
        trials=trials_table(space, outcomes),
        evaluations=evaluations_table(outcomes, metric_names, bound_names),
        objectives=np.array(
            [[o.objectives.get(n, math.nan) for n in objective_names] for o in outcomes],
            dtype=float,
        ).reshape(len(outcomes), len(objective_names)),
        constraints=np.array(
            [[o.constraints.get(n, math.nan) for n in constraint_names] for o in outcomes],
            dtype=float,
        ).reshape(len(outcomes), len(constraint_names)),
        failed=np.array([o.state == "failed" for o in outcomes], dtype=bool),
        feasible=np.array([o.feasible for o in outcomes], dtype=bool),
    )


def failed_outcomes(
    space: SearchSpace, points: Sequence[PointToEvaluate], error: str
) -> list[TrialOutcome]:
    """Outcomes of points that could not be evaluated at all (every retry failed)."""
    return [
        TrialOutcome(
            trial_number=point.trial_number, state="failed", feasible=False,
            infeasible_reason="", error=error, params=dict(point.params), derived={},
            objectives={o.name: math.nan for o in space.objectives},
            constraints={n: math.nan for n in space.constraints},
        )
        for point in points
    ]


def points_from_columns(
    numbers: Sequence[int], columns: Mapping[str, Sequence[Any]]
) -> list[PointToEvaluate]:
    names = list(columns)
    return [
        PointToEvaluate(int(number), {name: columns[name][i] for name in names})
        for i, number in enumerate(numbers)
    ]


def evaluate_columns(
    space: SearchSpace,
    numbers: Sequence[int],
    columns: Mapping[str, Sequence[Any]],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
    metric_names: Sequence[str] = (),
    bound_names: Sequence[str] = (),
    point_evaluator: PointEvaluator | None = None,
) -> ChunkResult:
    """Evaluate one chunk given as parameter columns; the body of `evaluate_chunk`."""
    points = points_from_columns(numbers, columns)
    outcomes = (point_evaluator or evaluate_points)(space, points, suite_evaluator, economics)
    return chunk_result(space, outcomes, metric_names, bound_names)


@dataclass(frozen=True, slots=True)
class SearchContext:
    """What every chunk of one search shares; put in the object store once per search."""

    space: SearchSpace
    suite_evaluator: SuiteEvaluator | None = None
    economics: Economics | None = None
    metric_names: tuple[str, ...] = ()
    bound_names: tuple[str, ...] = ()
    point_evaluator: PointEvaluator | None = None


_CONTEXTS: dict[str, SearchContext] = {}
"""This worker process's search contexts, by object id (the few latest searches)."""

_CONTEXTS_KEPT = 4


def _context(wrapped: Sequence[Any]) -> SearchContext:
    # NOTE: the context's object ref arrives wrapped in a list, so Ray does not fetch and
    # unpickle it for every task: a compiled space alone costs ~1.4 ms to unpickle, which
    # was 14 us per design of worker CPU at 100 designs per chunk (driver_scaling).
    ref = wrapped[0]
    key = ref.hex()
    context = _CONTEXTS.get(key)
    if context is None:
        context = ray.get(ref)
        if len(_CONTEXTS) >= _CONTEXTS_KEPT:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = context
    return context


@ray.remote(num_cpus=1, max_retries=MAX_TASK_RETRIES)
def evaluate_in_context(
    context: Sequence[Any], numbers: Sequence[int], columns: Mapping[str, Sequence[Any]]
) -> ChunkResult:
    """One chunk of a search; `context` is `[ray.put(SearchContext(...))]`."""
    c = _context(context)
    return evaluate_columns(c.space, numbers, columns, c.suite_evaluator, c.economics,
                            c.metric_names, c.bound_names, c.point_evaluator)


@ray.remote(num_cpus=1, max_retries=MAX_TASK_RETRIES)
def evaluate_chunk(
    space: SearchSpace,
    numbers: Sequence[int],
    columns: Mapping[str, Sequence[Any]],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
    metric_names: Sequence[str] = (),
    bound_names: Sequence[str] = (),
    point_evaluator: PointEvaluator | None = None,
) -> ChunkResult:
    return evaluate_columns(space, numbers, columns, suite_evaluator, economics,
                            metric_names, bound_names, point_evaluator)
