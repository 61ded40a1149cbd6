"""Helpers every evaluator shares: memory capacity, infeasibility, metric assembly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dse.hardware import ELEMENT_BYTES, Hardware
from dse.units import GIB
from evaluators.api import WorkloadMetrics

# NOTE: a framework cannot fill a device's memory: the CUDA/runtime context (~0.5-1 GiB),
# the caching allocator's fragmentation and communication buffers typically leave 5-10 %
# unusable (PyTorch memory-management docs; Megatron and vLLM default
# gpu_memory_utilization=0.9). One global share for every design.
USABLE_MEMORY_FRACTION = 0.92


def memory_capacity_bytes(hw: Hardware) -> float:
    """Bytes a program can keep per chip: HBM + DDR, plus SRAM when software manages it."""
    sram = hw.sram.capacity_bytes if hw.sram.management == "scratchpad" else 0.0
    return hw.offchip_capacity_bytes + sram


def usable_memory_bytes(hw: Hardware) -> float:
    return USABLE_MEMORY_FRACTION * memory_capacity_bytes(hw)


def element_bytes(precision: str) -> int:
    return ELEMENT_BYTES[precision]


def gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def memory_reason(need_bytes: float, hw: Hardware, what: str) -> str:
    return (f"does not fit: {what} needs {gib(need_bytes)} per chip, {hw.name} has "
            f"{gib(usable_memory_bytes(hw))} usable "
            f"({USABLE_MEMORY_FRACTION:.0%} of {gib(memory_capacity_bytes(hw))})")


def precision_reasons(hw: Hardware, precision: str) -> list[str]:
    if hw.supports(precision):
        return []
    return [f"{hw.name} has no {precision} arithmetic"]


def infeasible(workload: str, evaluator: str, reasons: Sequence[str],
               metrics: Mapping[str, float] | None = None) -> WorkloadMetrics:
    return WorkloadMetrics(workload=workload, evaluator=evaluator, feasible=False,
                           infeasible_reasons=tuple(dict.fromkeys(reasons)),
                           metrics=dict(metrics or {}))


def finite_metrics(values: Mapping[str, float | np.floating]) -> dict[str, float]:
    """Plain floats, ready for JSON and Parquet."""
    return {k: float(v) for k, v in values.items()}
