"""Fit the calibration layer on the fit rows of the H100 measurements.

`python -m dse.validation.fit` prints the fitted values; they are copied into
`dse/core/calibration.py` as its defaults (a test checks the two agree). The fit
minimises log-ratio errors of the fit rows (kernels) and of the power rows (board power,
clock, sustained rate) with a robust loss, so a few odd rows cannot drag it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dse.core.calibration import DEFAULT_CALIBRATION, Calibration
from dse.hardware import Hardware
from dse.units import US
from dse.validation.kernels import (
    KernelCase,
    PowerCase,
    kernel_cases,
    power_cases,
    power_report,
    predict_kernel_times,
)


@dataclass(frozen=True, slots=True)
class FitParameter:
    name: str
    lower: float
    upper: float
    get: Callable[[Calibration], float]
    set: Callable[[Calibration, float], Calibration]


def _field(name: str, lower: float, upper: float) -> FitParameter:
    return FitParameter(
        name, lower, upper,
        lambda c: float(getattr(c, name)),
        lambda c, v: c.with_changes(**{name: v}),
    )


def _mapping_entry(field: str, key: str, lower: float, upper: float) -> FitParameter:
    def set_(c: Calibration, v: float) -> Calibration:
        table = dict(getattr(c, field))
        table[key] = v
        return c.with_changes(**{field: table})

    return FitParameter(f"{field}[{key}]", lower, upper,
                        lambda c: float(getattr(c, field)[key]), set_)


FIT_PARAMETERS: tuple[FitParameter, ...] = (
    _field("matmul_peak_efficiency", 0.4, 1.0),
    _field("unaligned_efficiency", 0.02, 1.0),
    _field("attention_forward_efficiency", 0.05, 1.0),
    _field("attention_backward_efficiency", 0.05, 1.0),
    _field("hbm_efficiency", 0.5, 1.0),
    _field("kernel_device_overhead_s", 0.0, 20 * US),
    _mapping_entry("eager_dispatch_s", "matmul", 0.0, 80 * US),
    _mapping_entry("eager_dispatch_s", "attention", 0.0, 80 * US),
    _mapping_entry("eager_dispatch_s", "elementwise", 0.0, 80 * US),
    _mapping_entry("eager_dispatch_s", "transfer", 0.0, 80 * US),
    _field("power_limiter_window_s", 1e-4, 1.0),
    _field("pageable_bandwidth_fraction", 0.05, 1.0),
    _field("host_link_efficiency", 0.4, 1.0),
    _field("compute_energy_per_peak_flop_s", 0.3, 10.0),
    _mapping_entry("precision_energy_factor", "fp8", 0.5, 3.0),
    _field("offchip_transport_energy_per_byte_j", 0.0, 300e-12),
)
# NOTE: these only move predicted board power; without power rows nothing constrains
# them, so a kernels-only fit keeps the shipped values.
POWER_ONLY_PARAMETERS = frozenset({
    "compute_energy_per_peak_flop_s", "precision_energy_factor[fp8]",
    "offchip_transport_energy_per_byte_j",
})


def fit_parameters(with_power: bool) -> tuple[FitParameter, ...]:
    return tuple(p for p in FIT_PARAMETERS if with_power or p.name not in POWER_ONLY_PARAMETERS)


def fitted_fields(with_power: bool) -> tuple[str, ...]:
    """Calibration fields a fit sets (mappings whole), in FIT_PARAMETERS order."""
    names = [p.name.split("[")[0] for p in fit_parameters(with_power)]
    if with_power:
        names.append("idle_fraction_of_tdp")
    return tuple(dict.fromkeys(names))


def _apply(base: Calibration, params: Sequence[FitParameter], values: np.ndarray) -> Calibration:
    cal = base
    for p, v in zip(params, values, strict=True):
        cal = p.set(cal, float(v))
    return cal


def residuals(
    hardware: Hardware, cases: Sequence[KernelCase], cal: Calibration, power_weight: float = 3.0,
    power: Sequence[PowerCase] | None = None,
) -> np.ndarray:
    predicted = predict_kernel_times(hardware, cases, cal)
    measured = np.array([c.measured_s for c in cases])
    res = list(np.log(predicted / measured))
    if power is not None and not power:
        return np.array(res)
    pw = power_report(hardware, cal, power)
    for row in pw.itertuples(index=False):
        res.append(power_weight * math.log(row.predicted_power_w / row.measured_power_w))
        if row.phase != "idle":
            res.append(power_weight * math.log(row.predicted_clock_mhz / row.measured_clock_mhz))
            res.append(power_weight * math.log(row.predicted_rate / row.measured_rate))
    return np.array(res)


def fit_calibration(
    hardware: Hardware, base: Calibration = DEFAULT_CALIBRATION, max_nfev: int = 200,
    cases: Sequence[KernelCase] | None = None, power: Sequence[PowerCase] | None = None,
    prior_weight: float = 0.0,
) -> Calibration:
    """Fit on the fit rows of `cases` (default: the shipped H100 kernels) and the rows of
    `power` (default: the shipped H100 power rows; empty: a kernels-only fit that keeps
    the power-only factors at `base`).

    `prior_weight` > 0 adds, per factor, `prior_weight x log(value / base value)` to the
    residuals: a factor moves away from `base` only as far as the rows pay for it (one
    unit of weight: as much as one row off by the same ratio)."""
    from scipy.optimize import least_squares

    cases = [c for c in (kernel_cases() if cases is None else cases) if not c.held_out]
    power = power_cases() if power is None else list(power)
    params = fit_parameters(with_power=bool(power))
    x0 = np.array([p.get(base) for p in params])
    lower = np.array([p.lower for p in params])
    upper = np.array([p.upper for p in params])
    scale = np.maximum(np.abs(x0), 1e-9)
    # NOTE: the idle share of TDP is read off the idle row directly; it is not a free
    # parameter.
    idle = [c.measured_power_w for c in power if c.phase == "idle"]
    if idle:
        base = base.with_changes(idle_fraction_of_tdp=round(idle[0] / hardware.power.tdp_w, 4))

    def f(z: np.ndarray) -> np.ndarray:
        res = residuals(hardware, cases, _apply(base, params, z * scale), power=power)
        if prior_weight <= 0:
            return res
        ratio = np.maximum(z * scale, 1e-12) / np.maximum(x0, 1e-12)
        return np.concatenate([res, prior_weight * np.log(ratio)])

    sol = least_squares(
        f, np.clip(x0, lower, upper) / scale, bounds=(lower / scale, upper / scale),
        loss="soft_l1", f_scale=0.1, max_nfev=max_nfev, diff_step=1e-3,
    )
    return _apply(base, params, sol.x * scale)


def main() -> None:
    from dse.config import load_hardware

    hw = load_hardware("nvidia-h100-sxm")
    cal = fit_calibration(hw)
    for p in FIT_PARAMETERS:
        print(f"{p.name} = {p.get(cal):.6g}")
    print(f"idle_fraction_of_tdp = {cal.idle_fraction_of_tdp}")


if __name__ == "__main__":
    main()
