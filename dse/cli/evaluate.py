"""`dse evaluate`: one design on an operator workload or a model-level workload file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from dse.cli._app import app, console, json_text, plain, report_config_errors
from dse.config import load_hardware
from dse.core.calibration import using_calibration
from dse.errors import ConfigError
from dse.hardware import Hardware


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    if unit == "s" and 0 < abs(value) < 1:
        for factor, prefix in ((1e-3, "m"), (1e-6, "µ"), (1e-9, "n")):
            if abs(value) >= factor:
                return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _print_operator_table(table: Any) -> None:
    total = table.attrs["total"]
    grid = Table(title=plain(f"{total['workload']} on {total['hardware']}"))
    for header in ("#", "op", "time", "bound by", "FLOP", "off-chip bytes", "energy", "clock"):
        grid.add_column(header, justify="left" if header in ("op", "bound by") else "right")
    for i, row in enumerate(table.itertuples(index=False)):
        grid.add_row(
            str(i), plain(row.op), _si(row.time_s, "s"), plain(row.bound_by),
            _si(row.flops, "FLOP"),
            _si(row.bytes_offchip, "B"), _si(row.energy_j, "J"), f"{row.clock_fraction:.2f}",
        )
    console.print(grid)
    band = total.get("time_s_low"), total.get("time_s_high")
    console.print(
        f"total: time {_si(total['time_s'], 's')}"
        + (f" (error band {_si(band[0], 's')} – {_si(band[1], 's')})" if band[0] else "")
        + f", energy {_si(total['energy_j'], 'J')}, "
        f"average power {total['average_power_w']:.0f} W, "
        f"clock {total['clock_fraction']:.2f} of boost"
    )
    shares = {k: v / total["time_s"] for k, v in total["time_by_bound_s"].items() if v > 0}
    console.print(
        "time by bound: " + ", ".join(f"{k} {v:.0%}" for k, v in sorted(
            shares.items(), key=lambda kv: -kv[1]))
    )


def _print_model_report(report: dict[str, Any]) -> None:
    for wl in report["workloads"]:
        grid = Table(title=plain(f"{wl['workload']} ({wl['evaluator']}) on {report['hardware']}"))
        grid.add_column("metric")
        grid.add_column("value", justify="right")
        if not wl["feasible"]:
            grid.add_row("infeasible", plain("; ".join(wl["infeasible_reasons"])))
        for key, value in wl["metrics"].items():
            grid.add_row(plain(key), plain(f"{value:.4g}" if isinstance(value, float) else value))
        band = wl.get("error_band") or {}
        if "step_time_s_low" in band:
            grid.add_row(f"step time error band ({band['kind']}, 80 %)",
                         f"{_si(band['step_time_s_low'], 's')} – "
                         f"{_si(band['step_time_s_high'], 's')}")
        for bound, seconds in wl["time_by_bound_s"].items():
            if seconds > 0:
                grid.add_row(f"time bound by {bound}", _si(seconds, "s"))
        console.print(grid)


def _print_suite_report(report: dict[str, Any]) -> None:
    grid = Table(title=plain(f"suite {report['suite']} on {report['hardware']} "
                             f"(throughput relative to {report['reference']})"))
    for header in ("workload", "weight", "relative", "main bound", "power"):
        grid.add_column(header, justify="left" if header in ("workload", "main bound")
                        else "right")
    for wl in report["workloads"]:
        bounds = wl["time_by_bound_s"]
        main = max(bounds, key=bounds.get) if any(bounds.values()) else "-"
        relative = f"{wl['relative_throughput']:.2f}x" if wl["feasible"] else "infeasible"
        if wl["feasible"] and not wl.get("error_band", {}).get("distinguishable", True):
            relative += " (within error band)"
        power = wl["metrics"].get("power_w", float("nan"))
        grid.add_row(plain(wl["workload"]), f"{wl['weight']:g}", relative, plain(main),
                     f"{power:.0f} W")
    console.print(grid)
    console.print(f"score {report['score']:.3f} (weighted geometric mean), "
                  f"power {report['power_w']:.0f} W per chip")
    if any(not wl.get("error_band", {}).get("distinguishable", True)
           for wl in report["workloads"] if wl["feasible"]):
        console.print("within error band: the difference from the reference is inside what "
                      "the model's held-out errors allow (docs/cost-model.md, Error bands)")
    for reason in report["infeasible_reasons"]:
        console.print(f"infeasible: {plain(reason)}")


def _is_model_workload(path: Path) -> bool:
    from evaluators.workload_files import is_model_workload_file

    return is_model_workload_file(path)


@app.command()
@report_config_errors
def evaluate(
    hardware: str = typer.Option(
        ..., "--hardware", "-H", help="Preset name or hardware YAML file."
    ),
    workload: Path | None = typer.Option(
        None, "--workload", "-w",
        help="Operator workload (ops: [...]) or model-level workload (kind: training|inference).",
    ),
    suite: str | None = typer.Option(
        None, "--suite", "-s",
        help="A workload suite by name (evaluators/suites/NAME.yaml), e.g. default.",
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration file from `dse calibrate` (default: the "
        "shipped calibration). Suite scores still compare with the reference chip under "
        "the shipped calibration."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Evaluate one design on a workload file or a suite and show where the time goes."""
    if (workload is None) == (suite is None):
        raise ConfigError("give exactly one of --workload FILE or --suite NAME", "dse evaluate")
    hw = load_hardware(hardware)
    cal = None
    if calibration is not None:
        from dse.config.calibration_file import load_calibration_file

        cal = load_calibration_file(calibration).calibration
    with using_calibration(cal):
        _evaluate(hw, workload, suite, as_json)


def _add_model_bands(report: dict[str, Any], path: Path) -> None:
    """Each workload's `error_band`: its step time's interval from the validation residuals
    of its kind (`dse.validation.bands`), and the throughput's (inverse) interval."""
    from dse.validation.bands import workload_band
    from evaluators.workload_files import load_model_workloads

    for wl, spec in zip(report["workloads"], load_model_workloads(path), strict=True):
        band = workload_band(spec.kind)
        entry: dict[str, Any] = {"kind": band.kind, "measured_over_predicted":
                                 [band.low_ratio, band.high_ratio], "rows": band.rows}
        step = wl["metrics"].get("step_time_s")
        if isinstance(step, float) and step > 0:
            entry["step_time_s_low"], entry["step_time_s_high"] = band.interval_s(step)
        wl["error_band"] = entry


def _evaluate(hw: Hardware, workload: Path | None, suite: str | None, as_json: bool) -> None:
    if suite is not None:
        from evaluators.suites import suite_report

        report = suite_report(hw, suite)
        from dse.validation.bands import add_suite_bands

        add_suite_bands(report, suite)
        if as_json:
            print(json_text(report))
        else:
            _print_suite_report(report)
        return
    assert workload is not None
    if not workload.is_file():
        raise ConfigError(f"no such file: {workload}", str(workload))
    if _is_model_workload(workload):
        from evaluators.evaluation import model_workload_report

        report = model_workload_report(hw, workload)
        _add_model_bands(report, workload)
        if as_json:
            print(json_text(report))
        else:
            _print_model_report(report)
        return
    from dse.report import evaluate_operator_workload, operator_report_json

    table = evaluate_operator_workload(hw, str(workload))
    from dse.validation.bands import SHIPPED_BANDS, operator_interval_s

    low, high = operator_interval_s(list(table.op), list(table.bound_by), list(table.time_s))
    table.attrs["total"].update(
        time_s_low=low, time_s_high=high,
        error_bands={k: [b.low_ratio, b.high_ratio] for k, b in SHIPPED_BANDS.items()
                     if k in ("gemm", "attention", "memory", "host")})
    if as_json:
        print(json_text(operator_report_json(table)))
    else:
        _print_operator_table(table)
