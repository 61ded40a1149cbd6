"""Evaluators by name: a name -> import-path table, resolved on first use.

The runtime and the CLI never import an evaluator module directly; they name it here (or
let `default_evaluator` pick one from the workload's kind and model family). Every module
listed exposes `NAME` and `evaluate(designs, workload) -> list[WorkloadMetrics]`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from dse.hardware import Hardware
    from evaluators.api import WorkloadMetrics
    from evaluators.workload_files import ModelWorkload

EVALUATORS: Mapping[str, str] = {
    "transformer_training": "evaluators.transformer_training",
    "transformer_inference": "evaluators.transformer_inference",
    "cnn": "evaluators.cnn",
    "detection": "evaluators.detection",
    "recommendation": "evaluators.recommendation",
    "mixed_pipeline": "evaluators.mixed_pipeline",
}


class Evaluator(Protocol):
    NAME: str

    def evaluate(self, designs: Sequence[Hardware], workload: ModelWorkload
                 ) -> list[WorkloadMetrics]: ...


def get_evaluator(name: str) -> Evaluator:
    """The evaluator module registered under `name` (KeyError lists the known names)."""
    try:
        path = EVALUATORS[name]
    except KeyError:
        raise KeyError(f"unknown evaluator {name!r}; known: {', '.join(EVALUATORS)}") from None
    return cast(Evaluator, importlib.import_module(path))


def evaluate_function(name: str) -> Callable[[Sequence[Hardware], ModelWorkload],
                                             list[WorkloadMetrics]]:
    return get_evaluator(name).evaluate
