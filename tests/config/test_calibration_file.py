"""Calibration files: what `dse calibrate` writes is what the loader reads back."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from dse.config.calibration_file import (
    calibration_file_text,
    calibration_from_factors,
    load_calibration_file,
)
from dse.core.calibration import DEFAULT_CALIBRATION, Calibration
from dse.errors import ConfigError
from dse.validation.fit import fitted_fields
from dse.validation.splits import FitSplit


def test_written_file_reads_back_exactly(tmp_path: Path) -> None:
    tuned = DEFAULT_CALIBRATION.with_changes(
        hbm_efficiency=0.71, eager_dispatch_s={**DEFAULT_CALIBRATION.eager_dispatch_s,
                                               "matmul": 12.5e-6})
    path = tmp_path / "cal.yaml"
    path.write_text(calibration_file_text(tuned, "nvidia-a100-80gb", "a100.csv",
                                          FitSplit("random", 0.25, 3),
                                          fitted_fields(with_power=False), {"rows": 3}))
    loaded = load_calibration_file(path)
    assert loaded.calibration == tuned
    assert loaded.hardware == "nvidia-a100-80gb" and loaded.measured == "a100.csv"
    assert loaded.fit_split == FitSplit("random", 0.25, 3)
    # frozen and picklable: it travels to Ray workers inside a search space
    assert pickle.loads(pickle.dumps(loaded.calibration)) == tuned
    with pytest.raises(AttributeError):
        loaded.calibration.hbm_efficiency = 0.5  # type: ignore[misc]


def test_unnamed_factors_keep_the_shipped_values() -> None:
    cal = calibration_from_factors({"kernel_device_overhead_s": 2e-6}, "<test>")
    assert cal.kernel_device_overhead_s == 2e-6
    assert cal.with_changes(kernel_device_overhead_s=DEFAULT_CALIBRATION
                            .kernel_device_overhead_s) == DEFAULT_CALIBRATION
    assert isinstance(cal, Calibration)


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("format: dse-calibration/9\nfit_split: random:2\ncolour: red\n"
                    "factors:\n  hbm_efficiency: 0\n  kernel_device_overhead_s: fast\n"
                    "  energy_per_byte_j: 3\n")
    with pytest.raises(ConfigError) as info:
        load_calibration_file(path)
    text = str(info.value)
    assert f"{path}: hardware: required" in text
    assert f"{path}: colour: unknown key" in text
    path.write_text("format: dse-calibration/9\nhardware: x\nfit_split: random:2\n"
                    "factors:\n  hbm_efficiency: 0\n  kernel_device_overhead_s: fast\n"
                    "  energy_per_byte_j: 3\n")
    with pytest.raises(ConfigError) as info:
        load_calibration_file(path)
    text = str(info.value)
    for expected in ("format: must be 'dse-calibration/1'", "fit_split: fit split 'random:2'",
                     "factors.hbm_efficiency: is a share", "factors.kernel_device_overhead_s: "
                     "must be a number", "factors.energy_per_byte_j: must be a mapping"):
        assert expected in text, text
