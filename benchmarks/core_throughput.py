"""Op-evaluations per second of the cost core: 10,000 designs x 100 operators, one call.

Run: `.venv/bin/python benchmarks/core_throughput.py` (target: >= 1,000,000 per second on
one core). Designs are H100 variants with random SRAM, HBM bandwidth, peak and TDP; the
operators mix GEMMs, attention, elementwise, collectives and host operations.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from dse.config import load_hardware
from dse.core import evaluate_program
from dse.core.designs import DesignArrays
from dse.core.operators import OperatorArrays
from dse.workload import (
    Attention,
    Collective,
    Elementwise,
    MatMul,
    Operator,
    ScalarReadback,
)


def operators(count: int = 100) -> list[Operator]:
    rng = np.random.default_rng(0)
    ops: list[Operator] = []
    for i in range(count):
        pick = i % 5
        if pick == 0:
            m, n, k = (int(x) for x in rng.choice([1, 32, 512, 2048, 8192], 3))
            ops.append(MatMul(m, n, k, "bf16"))
        elif pick == 1:
            ops.append(Attention(8, 32, 2048, 2048, 128, causal=True))
        elif pick == 2:
            ops.append(Elementwise(2**26, 2**26, flops=2**24))
        elif pick == 3:
            ops.append(Collective("all_reduce", 2**28, 8))
        else:
            ops.append(ScalarReadback() if i % 10 == 4 else MatMul(4096, 4096, 4096, "fp8"))
    return ops


def designs(count: int) -> DesignArrays:
    base = DesignArrays.from_hardware([load_hardware("nvidia-h100-sxm")])
    rng = np.random.default_rng(1)
    fields = {}
    for name in base.__dataclass_fields__:
        value = getattr(base, name)
        if isinstance(value, np.ndarray):
            fields[name] = np.repeat(value, count, axis=0)
        else:
            fields[name] = value * count
    fields["sram_usable_bytes"] = fields["sram_usable_bytes"] * rng.uniform(0.25, 8, count)
    fields["hbm_bandwidth_byte_per_s"] = fields["hbm_bandwidth_byte_per_s"] * rng.uniform(
        0.5, 3, count)
    fields["peak_flop_per_s"] = fields["peak_flop_per_s"] * rng.uniform(0.5, 2, count)[:, None]
    fields["tdp_w"] = fields["tdp_w"] * rng.uniform(0.6, 1.5, count)
    return DesignArrays(**fields)


def main() -> None:
    n_designs, n_ops = 10_000, 100
    dz = designs(n_designs)
    oa = OperatorArrays.from_ops(operators(n_ops))
    evaluate_program(dz, oa)  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        evaluate_program(dz, oa)
        times.append(time.perf_counter() - start)
    best = min(times)
    rate = n_designs * n_ops / best
    print(f"{n_designs} designs x {n_ops} ops: best of 3 {best:.3f} s "
          f"-> {rate:,.0f} op-evaluations/s (target 1,000,000)")


if __name__ == "__main__":
    main()
