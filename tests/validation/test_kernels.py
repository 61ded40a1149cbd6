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
