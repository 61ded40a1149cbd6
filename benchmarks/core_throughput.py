"""Op-evaluations per second of the cost core: 10,000 designs x 100 operators, one call.

Run: `.venv/bin/python benchmarks/core_throughput.py` (target: >= 1,000,000 per second on
one core). Designs are H100 variants with random SRAM, HBM bandwidth, peak and TDP; the
operators mix GEMMs, attention, elementwise, collectives and host operations.

`--against REV` (e.g. `--against main`) also times `dse/core/program.py` as it is at git
revision REV, alternating old and new calls in one run, and prints the ratio: a change to
the core must not make it slower (the ratio is what matters on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

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


def program_at(rev: str) -> Callable[..., object]:
    """`evaluate_program` from `dse/core/program.py` at git revision `rev` (its imports
    resolve to the current tree's other modules)."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{rev}:dse/core/program.py"], cwd=root,
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"program_at_{rev}")
    module.__file__ = f"<{rev}:dse/core/program.py>"
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module.evaluate_program  # type: ignore[no-any-return]


def best_time(run: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", metavar="REV", help="also time the core at git REV")
    args = parser.parse_args()
    n_designs, n_ops = 10_000, 100
    dz = designs(n_designs)
    oa = OperatorArrays.from_ops(operators(n_ops))
    evaluate_program(dz, oa)  # warm-up
    if not args.against:
        best = best_time(lambda: evaluate_program(dz, oa))
        rate = n_designs * n_ops / best
        print(f"{n_designs} designs x {n_ops} ops: best of 3 {best:.3f} s "
              f"-> {rate:,.0f} op-evaluations/s (target 1,000,000)")
        return
    old = program_at(args.against)
    old(dz, oa)  # warm-up
    new_best, old_best = float("inf"), float("inf")
    for _ in range(3):  # alternate, so both see the same machine load
        new_best = min(new_best, best_time(lambda: evaluate_program(dz, oa), 1))
        old_best = min(old_best, best_time(lambda: old(dz, oa), 1))
    for label, best in (("this tree", new_best), (args.against, old_best)):
        print(f"{label:>12}: {n_designs} designs x {n_ops} ops, best of 3 {best:.3f} s -> "
              f"{n_designs * n_ops / best:,.0f} op-evaluations/s")
    print(f"speed ratio this tree / {args.against}: {old_best / new_best:.3f} "
          "(>= 1: no slower)")


if __name__ == "__main__":
    main()
