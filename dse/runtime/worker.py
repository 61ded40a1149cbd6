"""The Ray task that evaluates one chunk of sampled points. Workers own nothing.

A worker receives the compiled search space (put in the object store once) and a chunk
of (trial number, parameters); it returns one `TrialOutcome` per point. A design that
raises inside an evaluator comes back as a failed outcome (see dse.search.evaluation);
a worker process that dies is retried by Ray (`max_retries`).
"""

from __future__ import annotations

from collections.abc import Sequence

import ray

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


@ray.remote(num_cpus=1, max_retries=MAX_TASK_RETRIES)
def evaluate_chunk(
    space: SearchSpace,
    points: Sequence[PointToEvaluate],
    suite_evaluator: SuiteEvaluator | None = None,
    economics: Economics | None = None,
) -> list[TrialOutcome]:
    return evaluate_points(space, points, suite_evaluator, economics)
