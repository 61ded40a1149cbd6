"""dse: design-space exploration for AI accelerators.

`dse.evaluate(hardware, workload)` is the one-line entry point: a preset name, a YAML
path or a `Hardware`, and an operator-workload path or `OperatorWorkload`; it returns a
pandas DataFrame with one row per operator (input order) and the columns `op`,
`time_s`, `energy_j`, `bound_by`, `flops`, `bytes_offchip`, `bytes_sram`, `bytes_hbm`,
`bytes_ddr`, `clock_fraction`. Program totals are in `DataFrame.attrs["total"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pandas as pd

    from dse.hardware import Hardware
    from dse.workload import OperatorWorkload


def evaluate(
    hardware: Hardware | str, workload: OperatorWorkload | str
) -> pd.DataFrame:
    """Evaluate one operator workload on one design; see the module docstring."""
    from dse.report import evaluate_operator_workload

    return evaluate_operator_workload(hardware, workload)


__all__ = ["__version__", "evaluate"]
