"""Per-operator tables and program totals for one design: what `dse evaluate` prints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dse.config import check_workload_supported, load_hardware, load_operator_workload
from dse.core import BOUND_NAMES, evaluate_program
from dse.hardware import Hardware
from dse.workload import OperatorWorkload

OP_COLUMNS = (
    "op",
    "time_s",
    "energy_j",
    "bound_by",
    "flops",
    "bytes_offchip",
    "bytes_sram",
    "bytes_hbm",
    "bytes_ddr",
    "clock_fraction",
)


def _resolve(
    hardware: Hardware | str, workload: OperatorWorkload | str
) -> tuple[Hardware, OperatorWorkload, str]:
    hw = load_hardware(hardware) if isinstance(hardware, str) else hardware
    if isinstance(workload, str):
        source = workload
        wl = load_operator_workload(workload)
    else:
        source, wl = f"<workload {workload.name}>", workload
    return hw, wl, source


def evaluate_operator_workload(
    hardware: Hardware | str, workload: OperatorWorkload | str
) -> pd.DataFrame:
    """One row per operator, in input order; totals in `.attrs["total"]`.

    Raises ConfigError if the workload uses a precision the hardware lacks.
    """
    hw, wl, source = _resolve(hardware, workload)
    check_workload_supported(wl, hw, source)
    res = evaluate_program([hw], wl.ops, graph_captured=wl.graph_captured)
    table = pd.DataFrame(
        {
            "op": list(res.op_kinds),
            "time_s": res.time_s[0],
            "energy_j": res.energy_j[0],
            "bound_by": [BOUND_NAMES[int(b)] for b in res.bound_by[0]],
            "flops": res.flops,
            "bytes_offchip": res.bytes_offchip[0],
            "bytes_sram": res.bytes_by_level["sram"][0],
            "bytes_hbm": res.bytes_by_level["hbm"][0],
            "bytes_ddr": res.bytes_by_level["ddr"][0],
            "clock_fraction": res.clock_fraction_by_op[0],
        },
        columns=list(OP_COLUMNS),
    )
    table.attrs["total"] = {
        "time_s": float(res.total_time_s[0]),
        "energy_j": float(res.total_energy_j[0]),
        "average_power_w": float(res.average_power_w[0]),
        "clock_fraction": float(res.clock_fraction[0]),
        "flops": float(np.sum(res.flops)),
        "bytes_offchip": float(res.bytes_offchip[0].sum()),
        "time_by_bound_s": res.time_by_bound_s(0),
        "hardware": hw.name,
        "workload": wl.name,
    }
    return table


def operator_report_json(table: pd.DataFrame) -> dict[str, Any]:
    """The `--json` form: {"ops": [...], "total": {...}}."""
    ops = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]
    return {"ops": ops, "total": table.attrs["total"]}
