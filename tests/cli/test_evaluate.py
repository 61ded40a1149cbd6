"""`dse evaluate` and `dse validate kernels` through the real CLI entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.strict_json import loads_strict

DSE = [sys.executable, "-m", "dse.cli"]
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "dse" / "data" / "examples" / "kernels.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DSE, *args], capture_output=True, text=True, timeout=120)


def test_operator_workload_json_lists_ops_in_order_with_totals() -> None:
    out = run("evaluate", "--hardware", "nvidia-h100-sxm", "--workload", str(EXAMPLE), "--json")
    assert out.returncode == 0, out.stderr
    doc = loads_strict(out.stdout)
    ops = doc["ops"]
    assert [o["op"] for o in ops][:3] == ["matmul", "attention", "conv2d"]
    for o in ops:
        assert {"time_s", "energy_j", "bound_by", "flops", "bytes_offchip"} <= o.keys()
        assert o["bound_by"] in {"compute", "sram", "hbm", "ddr", "host", "interconnect"}
    assert ops[0]["flops"] == pytest.approx(2 * 4096**3)
    total = doc["total"]
    assert total["time_s"] == pytest.approx(sum(o["time_s"] for o in ops), rel=1e-9)
    assert total["energy_j"] > 0 and 100 < total["average_power_w"] <= 700 * 1.001


def test_table_output_names_bottlenecks() -> None:
    out = run("evaluate", "-H", "google-tpu-v4", "-w", str(EXAMPLE))
    assert out.returncode == 0, out.stderr
    assert "time by bound" in out.stdout


def test_python_api_returns_the_same_columns() -> None:
    import dse

    table = dse.evaluate("nvidia-h100-sxm", str(EXAMPLE))
    assert {"time_s", "energy_j", "bound_by", "flops", "bytes_offchip"} <= set(table.columns)
    assert table.attrs["total"]["time_s"] == pytest.approx(table.time_s.sum())


def test_bad_workload_reports_every_problem_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "ops:\n"
        "  - {op: matmul, m: -5, n: 4, k: 4, dtype: bf16}\n"
        "  - {op: matmul, m: 4, n: 4, k: 4, dtype: bf16, colour: red}\n"
        "  - {op: attention, batch: 1, heads: 1, seq_q: 4, head_dim: 64}\n"
    )
    out = run("evaluate", "--hardware", "nvidia-h100-sxm", "--workload", str(bad))
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) >= 3
    assert any("ops[0].m" in line for line in lines)
    assert any("ops[1].colour" in line for line in lines)
    assert any("ops[2].seq_kv" in line for line in lines)
    assert "Traceback" not in out.stderr


def test_dtype_the_hardware_lacks_is_a_config_error(tmp_path: Path) -> None:
    wl = tmp_path / "fp8.yaml"
    wl.write_text("name: fp8\nops:\n  - {op: matmul, m: 64, n: 64, k: 64, dtype: fp8}\n")
    out = run("evaluate", "--hardware", "nvidia-a100-80gb", "--workload", str(wl))
    assert out.returncode == 2
    assert "ops[0].dtype" in out.stderr and "Traceback" not in out.stderr


def test_bad_hardware_file_exit_2(tmp_path: Path) -> None:
    hw = tmp_path / "hw.yaml"
    hw.write_text("name: broken\ncompute: {peak_dense_tflops: {bf16: -1}}\n")
    out = run("evaluate", "--hardware", str(hw), "--workload", str(EXAMPLE))
    assert out.returncode == 2
    assert str(hw) in out.stderr and "Traceback" not in out.stderr


def test_validate_kernels_meets_targets() -> None:
    out = run("validate", "kernels", "--json")
    assert out.returncode == 0, out.stdout[-2000:]
    doc = loads_strict(out.stdout)
    assert doc["failures"] == []
    assert {r["section"] for r in doc["summary"]} == {"memory", "gemm", "attention", "host"}


def test_suite_json_scores_the_reference_chip_at_one() -> None:
    out = run("evaluate", "--hardware", "nvidia-a100-80gb", "--suite", "default", "--json")
    assert out.returncode == 0, out.stderr
    doc = loads_strict(out.stdout)
    assert doc["reference"] == "nvidia-a100-80gb"
    assert doc["score"] == pytest.approx(1.0, rel=1e-6)
    assert all(w["relative_throughput"] == pytest.approx(1.0, rel=1e-6) for w in doc["workloads"])


def test_workload_and_suite_are_exclusive() -> None:
    out = run("evaluate", "--hardware", "nvidia-a100-80gb")
    assert out.returncode == 2 and "exactly one of" in out.stderr
