"""`dse validate kernels`: the acceptance targets, and the calibration is what the fit gives."""

from __future__ import annotations

import pytest

from dse.config import load_hardware
from dse.core.calibration import DEFAULT_CALIBRATION
from dse.validation.fit import FIT_PARAMETERS, fit_calibration
from dse.validation.kernels import kernel_cases, kernel_report, power_report, section_summary
from dse.validation.reference_chips import mamf_report


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return kernel_report(load_hardware("nvidia-h100-sxm"))


def test_every_measured_row_is_predicted(report) -> None:  # type: ignore[no-untyped-def]
    assert len(report) == 134  # every row of h100_kernels.csv
    assert set(report.section) == {"memory", "gemm", "attention", "host"}
    assert (report.predicted_s > 0).all()


def test_median_error_per_section_is_within_15_percent(report) -> None:  # type: ignore[no-untyped-def]
    summary = section_summary(report)
    overall = summary[summary.set == "all"].set_index("section")
    assert (overall.median_abs_error <= 0.15).all(), overall
    assert overall.loc["gemm", "p90_abs_error"] <= 0.30


def test_held_out_rows_are_predicted_about_as_well_as_fitted_ones(report) -> None:  # type: ignore[no-untyped-def]
    summary = section_summary(report).set_index(["section", "set"])
    for section in ("gemm", "attention", "memory"):
        assert summary.loc[(section, "held-out"), "median_abs_error"] <= 0.15
    assert len([c for c in kernel_cases() if c.held_out]) >= 50


def test_power_rows_within_10_percent() -> None:
    power = power_report(load_hardware("nvidia-h100-sxm"))
    assert (power.power_error.abs() <= 0.10).all(), power
    gemm = power[power.phase == "gemm_bf16_8192"].iloc[0]
    assert gemm.predicted_clock_mhz == pytest.approx(1365, rel=0.05)
    assert gemm.predicted_rate == pytest.approx(672.3, rel=0.05)


def test_other_chips_best_gemm_within_20_percent_without_refitting() -> None:
    mamf = mamf_report()
    assert set(mamf.preset) >= {"nvidia-a100-80gb", "nvidia-h100-sxm"}
    assert (mamf.error.abs() <= 0.20).all(), mamf


@pytest.mark.slow
def test_shipped_calibration_is_what_the_fit_produces() -> None:
    fitted = fit_calibration(load_hardware("nvidia-h100-sxm"), max_nfev=40)
    for p in FIT_PARAMETERS:
        shipped = p.get(DEFAULT_CALIBRATION)
        assert shipped == pytest.approx(p.get(fitted), rel=0.03, abs=2e-8), p.name


# --- any chip's measured-kernels file ------------------------------------------------


def _write_rows(path, rows):  # type: ignore[no-untyped-def]
    import json

    lines = ["chip,section,kind,params,measured_s"]
    for chip, section, kind, params, measured in rows:
        quoted = json.dumps(params).replace('"', '""')
        lines.append(f'{chip},{section},{kind},"{quoted}",{measured}')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_shipped_file_read_as_a_measured_file_gives_the_same_cases() -> None:
    from importlib.resources import files
    from pathlib import Path

    from dse.validation.kernels import read_kernel_measurements

    path = Path(str(files("dse.data.reference") / "h100_kernels.csv"))
    assert kernel_cases(read_kernel_measurements(path)) == kernel_cases()


def test_another_chips_file_is_predicted_on_its_own_preset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dse.validation.kernels import read_kernel_measurements

    path = _write_rows(tmp_path / "a100.csv", [
        ("nvidia-a100-80gb", "gemm", "bf16", {"m": 8192, "n": 8192, "k": 8192, "dtype": "bf16"},
         4.1e-3),
        ("nvidia-a100-80gb", "memory", "d2d_copy", {"bytes_moved": 2**31}, 1.3e-3),
    ])
    cases = kernel_cases(read_kernel_measurements(path))
    a100 = kernel_report(load_hardware("nvidia-a100-80gb"), cases=cases)
    h100 = kernel_report(load_hardware("nvidia-h100-sxm"), cases=cases)
    # 1.1 TFLOP at the A100's 312 TFLOP/s bf16 peak is >= 3.5 ms; the H100 is ~3x faster
    assert 3.5e-3 < a100.predicted_s[0] < 5.0e-3
    assert h100.predicted_s[0] < a100.predicted_s[0] / 2.5
    # 2 GiB read + written at the A100's 2.04 TB/s x hbm efficiency: ~1.2 ms
    assert a100.predicted_s[1] == pytest.approx(2**31 / (2.039e12 * 0.8826), rel=0.05)


def test_rows_that_cannot_be_restated_are_reported_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dse.errors import ConfigError
    from dse.validation.kernels import read_kernel_measurements

    path = _write_rows(tmp_path / "bad.csv", [
        ("x", "gemm", "bf16", {"m": 8, "n": 8, "dtype": "bf16"}, 1e-5),
        ("x", "gemm", "bf9", {"m": 8, "n": 8, "k": 8, "dtype": "bf9"}, 1e-5),
        ("x", "sparse", "spmm", {}, 1e-5),
        ("x", "memory", "d2d_copy", {"bytes_moved": 1024}, -1),
        ("x", "host", "fax", {}, 1e-5),
    ])
    with pytest.raises(ConfigError) as info:
        kernel_cases(read_kernel_measurements(path))
    text = str(info.value)
    assert "line 2: gemm/bf16: params lack 'k'" in text
    assert "line 3: gemm/bf9: dtype 'bf9'" in text
    assert "line 4: sparse/spmm: sections are gemm, attention, memory, host" in text
    assert "line 5: memory/d2d_copy: measured_s must be a positive" in text
    assert "line 6: host/fax: host kinds are" in text
    missing = tmp_path / "cols.csv"
    missing.write_text("chip,kind,measured_s\nx,y,1\n")
    with pytest.raises(ConfigError, match="missing columns: section, params"):
        read_kernel_measurements(missing)
