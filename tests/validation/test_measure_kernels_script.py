"""scripts/measure_kernels.py writes what `dse calibrate` reads (checked on the CPU)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.script_module import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "measure_kernels.py"


def _script() -> ModuleType:
    return load_script("measure_kernels", SCRIPT)  # no torch needed to import it


def test_the_script_imports_without_pytorch_and_measures_every_section() -> None:
    script = _script()
    assert {"gemm_rows", "attention_rows", "memory_rows", "host_rows"} <= set(vars(script))
    assert script.STREAM_LENGTH == 1000  # as dse.validation.kernels restates host streams


def test_cpu_quick_run_writes_rows_dse_restates(tmp_path: Path) -> None:
    pytest.importorskip("torch")  # not a dse dependency; CI may not have it
    from dse.validation.kernels import kernel_cases, read_kernel_measurements

    out = tmp_path / "cpu.csv"
    assert _script().main(["--device", "cpu", "--quick", "--out", str(out),
                           "--chip", "cpu-check"]) == 0
    cases = kernel_cases(read_kernel_measurements(out))
    assert {c.section for c in cases} == {"gemm", "attention", "memory", "host"}
    assert all(c.measured_s > 0 for c in cases)
