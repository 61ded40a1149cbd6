"""Predicted versus measured H100 kernels and board power (`dse validate kernels`).

Each measured row becomes a one-operator program run the way it was measured: CUDA-event
timing of one eager call, median of 10 after 3 warm-ups (so 13 runs back to back set how
long the power limiter has been active). Host rows that measure a stream of launches
become a long program of tiny operators. Power rows are steady-state programs.

Rows are split into a fit set (what `dse/validation/fit.py` tunes the calibration on) and
a held-out set (other precisions and other shapes the fit never saw); errors are
reported for both.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dse.core import evaluate_program
from dse.core.calibration import DEFAULT_CALIBRATION, Calibration
from dse.data.reference import reference_text
from dse.errors import ConfigError, Problem
from dse.hardware import PRECISIONS, Hardware
from dse.validation.splits import STANDARD_SPLIT, FitSplit
from dse.workload import (
    Attention,
    Elementwise,
    MatMul,
    Operator,
    Pass,
    ScalarReadback,
    Sync,
    Transfer,
    TransferDirection,
)

MEASURED_RUNS = 13  # 3 warm-ups + 10 timed, back to back
STREAM_LENGTH = 1000  # launches in a "per launch" host measurement

# NOTE: held-out shapes. The fit never sees these: fp16, tf32, fp32 GEMMs (other
# precisions), every fp8 GEMM except the square ones (other shapes), attention at
# sequence lengths 1024 and 4096 and decoding at batch 16, and half the host rows.
HELD_OUT_GEMM_DTYPES = ("fp16", "tf32", "fp32")
HELD_OUT_ATTENTION_SEQ = (1024, 4096)
HELD_OUT_DECODE_BATCH = (16,)
HELD_OUT_HOST_KINDS = ("scalar_item_roundtrip", "d2h_pinned", "d2h_pageable", "h2d_pinned_size")
HELD_OUT_MEMORY_KINDS = ("read_reduce", "gelu_8192x8192_bf16")


@dataclass(frozen=True, slots=True)
class KernelCase:
    section: str
    kind: str
    label: str
    ops: tuple[Operator, ...]
    per_op_divisor: int  # measured figure is total / this
    graph_captured: bool
    measured_s: float
    held_out: bool


KERNEL_COLUMNS = ("chip", "section", "kind", "params", "measured_s")
POWER_COLUMNS = ("chip", "phase", "median_board_power_w", "median_sm_clock_mhz",
                 "sustained_rate", "rate_unit")
SHIPPED_KERNELS = "h100_kernels.csv"
SHIPPED_POWER = "h100_power.csv"


def _reference_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(reference_text(name)))


def _read_measured_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    source = str(path)
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read a CSV: {exc}", source) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"missing columns: {', '.join(missing)} (expected "
                          f"{', '.join(columns)})", source)
    return frame


def read_kernel_measurements(path: Path) -> pd.DataFrame:
    """A measured-kernels CSV with the columns of the shipped `h100_kernels.csv`
    (chip, section, kind, params as JSON, measured_s), any chip. Rows are checked when
    they are turned into cases (`kernel_cases`), every problem at once."""
    frame = _read_measured_csv(path, KERNEL_COLUMNS)
    frame.attrs["source"] = str(path)
    return frame


def shipped_kernel_measurements() -> pd.DataFrame:
    frame = _reference_csv(SHIPPED_KERNELS)
    frame.attrs["source"] = f"dse/data/reference/{SHIPPED_KERNELS}"
    return frame


def _memory_op(kind: str, bytes_moved: float) -> Elementwise:
    if kind == "read_reduce":
        # a sum over fp32 elements: one add per element read
        return Elementwise(bytes_read=bytes_moved, bytes_written=4.0, flops=bytes_moved / 4)
    if kind.startswith("layernorm"):
        # bf16 in and out; mean, variance, scale and shift: ~8 FLOP per element
        return Elementwise(bytes_moved / 2, bytes_moved / 2, flops=8 * bytes_moved / 4)
    if kind.startswith("gelu"):
        # tanh approximation: ~10 FLOP per element
        return Elementwise(bytes_moved / 2, bytes_moved / 2, flops=10 * bytes_moved / 4)
    return Elementwise(bytes_read=bytes_moved / 2, bytes_written=bytes_moved / 2)


HOST_KINDS = ("launch_issue_eager", "cudagraph_per_kernel", "launch_plus_sync_roundtrip",
              "scalar_item_roundtrip", "h2d_pinned", "h2d_pageable", "d2h_pinned",
              "d2h_pageable", "h2d_pinned_size", "d2h_pinned_size", "h2d_pageable_size",
              "d2h_pageable_size")


def _case(section: str, kind: str, p: dict[str, Any], measured: float, split: FitSplit,
          row_key: str) -> KernelCase:
    """One measured row as a program, as it was measured. KeyError/ValueError: the row's
    params do not describe the kind."""
    ops: tuple[Operator, ...]
    divisor, graph, held = 1, False, False
    if section == "gemm":
        if p["dtype"] not in PRECISIONS:
            raise ValueError(f"dtype {p['dtype']!r} is not one of {', '.join(PRECISIONS)}")
        ops = (MatMul(m=int(p["m"]), n=int(p["n"]), k=int(p["k"]), dtype=p["dtype"]),)
        label = f"{p['dtype']} {p['m']}x{p['n']}x{p['k']}"
        held = p["dtype"] in HELD_OUT_GEMM_DTYPES or (
            p["dtype"] == "fp8" and not (p["m"] == p["n"] == p["k"])
        )
    elif section == "attention":
        if kind == "decode":
            ops = (Attention(batch=int(p["B"]), heads=int(p["H"]), seq_q=1, seq_kv=int(p["S"]),
                             head_dim=int(p["D"])),)
            label = f"decode B={p['B']} S={p['S']}"
            held = p["B"] in HELD_OUT_DECODE_BATCH
        elif kind in ("prefill_fwd", "prefill_fwd_bwd"):
            pass_: Pass = "forward_backward" if kind.endswith("bwd") else "forward"
            ops = (Attention(batch=int(p["B"]), heads=int(p["H"]), seq_q=int(p["S"]),
                             seq_kv=int(p["S"]), head_dim=int(p["D"]),
                             causal=bool(p["causal"]), pass_=pass_),)
            label = f"{kind} B={p['B']} S={p['S']} causal={p['causal']}"
            held = p["S"] in HELD_OUT_ATTENTION_SEQ
        else:
            raise ValueError("attention kinds are decode, prefill_fwd, prefill_fwd_bwd")
    elif section == "memory":
        ops = (_memory_op(kind, float(p["bytes_moved"])),)
        label = f"{kind} {p['bytes_moved'] / 2**20:.0f} MiB"
        held = kind in HELD_OUT_MEMORY_KINDS or p["bytes_moved"] in (16777216, 134217728)
    elif section == "host":
        if kind not in HOST_KINDS:
            raise ValueError(f"host kinds are {', '.join(HOST_KINDS)}")
        label = kind
        held = kind in HELD_OUT_HOST_KINDS
        tiny = Elementwise(bytes_read=4.0, bytes_written=4.0)
        if kind == "launch_issue_eager":
            ops, divisor = (Elementwise(4.0, 4.0, count=STREAM_LENGTH),), STREAM_LENGTH
        elif kind == "cudagraph_per_kernel":
            ops, divisor = (Elementwise(4.0, 4.0, count=STREAM_LENGTH),), STREAM_LENGTH
            graph = True
        elif kind == "launch_plus_sync_roundtrip":
            ops = (tiny, Sync())
        elif kind == "scalar_item_roundtrip":
            ops = (tiny, ScalarReadback())
        else:
            direction: TransferDirection = (
                "host_to_device" if kind.startswith("h2d") else "device_to_host"
            )
            ops = (Transfer(direction=direction, bytes=float(p["bytes_moved"]),
                            pinned="pinned" in kind),)
            label = f"{kind} {p['bytes_moved'] / 2**20:g} MiB"
    else:
        raise ValueError("sections are gemm, attention, memory, host")
    return KernelCase(section, kind, label, ops, divisor, graph, measured,
                      split.is_held_out(row_key, held))


def kernel_cases(measurements: pd.DataFrame | None = None,
                 split: FitSplit = STANDARD_SPLIT) -> list[KernelCase]:
    """Every row of a measured-kernels table (default: the shipped H100 file) as a
    program to predict, labelled fit or held-out by `split`. A row that cannot be
    restated is a ConfigError naming its line; every problem is reported at once."""
    frame = shipped_kernel_measurements() if measurements is None else measurements
    source = str(frame.attrs.get("source", "measurements"))
    cases: list[KernelCase] = []
    problems: list[Problem] = []
    for line, rec in enumerate(frame.itertuples(index=False), start=2):
        where = f"line {line}"
        section, kind = str(rec.section), str(rec.kind)
        try:
            params = json.loads(str(rec.params))
            measured = float(rec.measured_s)
            if not isinstance(params, dict):
                raise ValueError("params must be a JSON object")
            if not measured > 0:
                raise ValueError("measured_s must be a positive number of seconds")
            row_key = f"{rec.chip}|{section}|{kind}|{json.dumps(params, sort_keys=True)}"
            cases.append(_case(section, kind, params, measured, split, row_key))
        except KeyError as exc:
            problems.append(Problem(source, where, f"{section}/{kind}: params lack {exc}"))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(source, where, f"{section}/{kind}: {exc}"))
    if problems:
        raise ConfigError(problems)
    return cases


def predict_kernel_times(
    hardware: Hardware, cases: Sequence[KernelCase], calibration: Calibration = DEFAULT_CALIBRATION
) -> np.ndarray:
    out = np.empty(len(cases))
    for i, case in enumerate(cases):
        res = evaluate_program(
            [hardware], case.ops, graph_captured=case.graph_captured,
            back_to_back_runs=MEASURED_RUNS, calibration=calibration,
        )
        # host rows with a tiny kernel first: the measured figure is the whole program
        out[i] = float(res.total_time_s[0]) / case.per_op_divisor
    return out


def kernel_report(
    hardware: Hardware, calibration: Calibration = DEFAULT_CALIBRATION,
    cases: Sequence[KernelCase] | None = None,
) -> pd.DataFrame:
    """Predicted against measured for every case (default: the shipped H100 rows)."""
    cases = kernel_cases() if cases is None else cases
    predicted = predict_kernel_times(hardware, cases, calibration)
    measured = np.array([c.measured_s for c in cases])
    return pd.DataFrame({
        "section": [c.section for c in cases],
        "case": [c.label for c in cases],
        "set": ["held-out" if c.held_out else "fit" for c in cases],
        "measured_s": measured,
        "predicted_s": predicted,
        "error": predicted / measured - 1.0,
    })


@dataclass(frozen=True, slots=True)
class PowerCase:
    phase: str
    measured_power_w: float
    measured_clock_mhz: float
    measured_rate: float  # TFLOP/s or GB/s as the row says
    rate_unit: str


def read_power_measurements(path: Path) -> pd.DataFrame:
    """A board-power CSV with the columns of the shipped `h100_power.csv`."""
    return _read_measured_csv(path, POWER_COLUMNS)


def power_cases(measurements: pd.DataFrame | None = None) -> list[PowerCase]:
    """Rows of a board-power table (default: the shipped H100 file). Phases: `idle`,
    `gemm_<bf16|fp8>_8192` (back-to-back 8192^3 GEMMs) and `copy_1GiB`."""
    frame = _reference_csv(SHIPPED_POWER) if measurements is None else measurements
    cases = []
    for rec in frame.itertuples(index=False):
        rate = float(rec.sustained_rate) if not pd.isna(rec.sustained_rate) else math.nan
        cases.append(PowerCase(str(rec.phase), float(rec.median_board_power_w),
                               float(rec.median_sm_clock_mhz), rate, str(rec.rate_unit)))
    return cases


def power_report(
    hardware: Hardware, calibration: Calibration = DEFAULT_CALIBRATION,
    cases: Sequence[PowerCase] | None = None,
) -> pd.DataFrame:
    """Steady-state power, clock and rate for each power row (default: h100_power.csv)."""
    rows = []
    boost_mhz = hardware.compute.clock_hz / 1e6
    for case in power_cases() if cases is None else cases:
        if case.phase == "idle":
            from dse.core.designs import DesignArrays

            idle = float(DesignArrays.from_hardware([hardware], calibration).idle_w[0])
            power, clock, rate = idle, boost_mhz, math.nan
        else:
            if case.phase.startswith("gemm"):
                dtype = "fp8" if "fp8" in case.phase else "bf16"
                op: Operator = MatMul(8192, 8192, 8192, dtype=dtype, count=1000)
            else:
                op = Elementwise(bytes_read=2**30, bytes_written=2**30, count=1000)
            res = evaluate_program([hardware], [op], calibration=calibration)
            t = float(res.total_time_s[0])
            power = float(res.average_power_w[0])
            clock = float(res.clock_fraction[0]) * boost_mhz
            if case.rate_unit.startswith("TFLOP"):
                rate = float(res.flops.sum()) / t / 1e12
            else:
                rate = 2 * 2**30 * 1000 / t / 1e9
        rows.append({
            "phase": case.phase,
            "measured_power_w": case.measured_power_w,
            "predicted_power_w": power,
            "power_error": power / case.measured_power_w - 1.0,
            "measured_clock_mhz": case.measured_clock_mhz,
            "predicted_clock_mhz": clock,
            "measured_rate": case.measured_rate,
            "predicted_rate": rate,
            "rate_unit": case.rate_unit if case.rate_unit != "nan" else "",
        })
    return pd.DataFrame(rows)


def section_summary(report: pd.DataFrame) -> pd.DataFrame:
    """Median and 90th-percentile absolute error per section, for fit, held-out and all."""
    rows = []
    for section, grp in report.groupby("section", sort=False):
        subsets = (("fit", grp[grp.set == "fit"]), ("held-out", grp[grp.set == "held-out"]),
                   ("all", grp))
        for subset, sub in subsets:
            if sub.empty:
                continue
            err = sub.error.abs()
            rows.append({"section": section, "set": subset, "rows": len(sub),
                         "median_abs_error": float(err.median()),
                         "p90_abs_error": float(err.quantile(0.9))})
    return pd.DataFrame(rows)
