"""The shared analytical cost core: pure functions, numpy-vectorised over designs.

Entry points:
- `evaluate_program(designs, ops)`: a batch of designs x a sequence of operators, all
  numpy arrays inside; returns a `ProgramResult`.
- `dse.evaluate(hardware, workload)` (in `dse/__init__.py`): one design, a pandas table.

Never imports optuna, ray, pyarrow or the CLI.
"""

from __future__ import annotations

from dse.core.program import BOUND_NAMES, ProgramResult, evaluate_program

__all__ = ["BOUND_NAMES", "ProgramResult", "evaluate_program"]
