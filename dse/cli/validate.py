"""`dse validate …`: predictions against measurements, with their errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from dse.cli._app import app, console, json_text, report_config_errors
from dse.config import load_hardware
from dse.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

validate_app = typer.Typer(
    help="Compare the cost core's predictions with measured and published results.",
    no_args_is_help=True,
)
app.add_typer(validate_app, name="validate")

# Acceptance thresholds (issue: the shared cost core).
MEDIAN_LIMIT = 0.15
GEMM_P90_LIMIT = 0.30
POWER_LIMIT = 0.10


@validate_app.command("kernels")
@report_config_errors
def kernels(
    measured: Path | None = typer.Option(
        None, "--measured", help="Measured kernels CSV (columns of the shipped "
        "h100_kernels.csv: chip, section, kind, params, measured_s), any chip. Default: the "
        "shipped H100 rows, with board power and other chips' published GEMM throughput."),
    hardware: str | None = typer.Option(
        None, "--hardware", "-H", help="Preset or hardware file the rows were measured on "
        "(required with --measured; default nvidia-h100-sxm)."),
    measured_power: Path | None = typer.Option(
        None, "--measured-power", help="Board-power CSV (columns of h100_power.csv) measured "
        "on the same chip; with --measured, power is checked only when this is given."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration file from `dse calibrate`: predict with it, "
        "label rows fit/held-out by its fit split, and compare with the shipped calibration."),
    rows: bool = typer.Option(False, "--rows", help="Print every row, not just the summary."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Kernels and board power: predicted vs measured, error per section.

    Rows are split into those the calibration was fitted on and held-out rows (other
    precisions, other shapes; or the split a --calibration file states); both are
    reported. Exits 1 if a target is missed.
    """
    import pandas as pd

    from dse.core.calibration import DEFAULT_CALIBRATION, using_calibration
    from dse.validation.kernels import (
        kernel_cases,
        kernel_report,
        power_cases,
        power_report,
        read_kernel_measurements,
        read_power_measurements,
        section_summary,
    )
    from dse.validation.reference_chips import mamf_report
    from dse.validation.splits import STANDARD_SPLIT

    if measured is not None and hardware is None:
        raise ConfigError("--hardware is required with --measured (the chip the rows were "
                          "measured on)", "dse validate kernels")
    hw = load_hardware(hardware or "nvidia-h100-sxm")
    cal, split, cal_source = DEFAULT_CALIBRATION, STANDARD_SPLIT, ""
    if calibration is not None:
        from dse.config.calibration_file import load_calibration_file

        cal_file = load_calibration_file(calibration)
        cal, split, cal_source = cal_file.calibration, cal_file.fit_split, cal_file.source
    shipped = measured is None
    cases = kernel_cases(None if measured is None else read_kernel_measurements(measured),
                         split)
    report = kernel_report(hw, cal, cases)
    summary = section_summary(report)
    if measured_power is not None:
        power = power_report(hw, cal, power_cases(read_power_measurements(measured_power)))
    elif shipped:
        power = power_report(hw, cal)
    else:
        power = power_report(hw, cal, [])
    if shipped:
        with using_calibration(cal):
            mamf = mamf_report()
    else:
        mamf = pd.DataFrame()
    comparison = None
    if calibration is not None:
        comparison = section_summary(kernel_report(hw, DEFAULT_CALIBRATION, cases))
    overall = summary[summary.set == "all"].set_index("section")
    failures = [
        f"{s}: median {r.median_abs_error:.1%} > {MEDIAN_LIMIT:.0%}"
        for s, r in overall.iterrows() if r.median_abs_error > MEDIAN_LIMIT
    ]
    if "gemm" in overall.index and overall.loc["gemm", "p90_abs_error"] > GEMM_P90_LIMIT:
        failures.append(f"gemm: p90 {overall.loc['gemm', 'p90_abs_error']:.1%} > 30%")
    failures += [
        f"power {r.phase}: {r.power_error:+.1%}"
        for r in power.itertuples() if abs(r.power_error) > POWER_LIMIT
    ]
    if as_json:
        out: dict[str, object] = {
            "summary": summary.to_dict(orient="records"),
            "power": power.to_dict(orient="records"),
            "other_chips": mamf.to_dict(orient="records"),
            "rows": report.to_dict(orient="records") if rows else [],
            "failures": failures,
        }
        if not shipped or calibration is not None:
            out.update({"hardware": hw.name, "measured": str(measured or "shipped"),
                        "calibration": cal_source or "shipped", "fit_split": str(split)})
        if comparison is not None:
            out["summary_shipped_calibration"] = comparison.to_dict(orient="records")
        print(json_text(out))
    else:
        _print_kernels(hw.name, report, summary, power, mamf, comparison, rows,
                       cal_source, str(split))
        if failures:
            console.print("[red]targets missed:[/red] " + "; ".join(failures))
        else:
            console.print("[green]all targets met[/green] (median ≤ 15 % per section, "
                          "gemm p90 ≤ 30 %, power within 10 %)")
    if failures:
        raise typer.Exit(1)


def _print_kernels(chip: str, report: pd.DataFrame, summary: pd.DataFrame,
                   power: pd.DataFrame, mamf: pd.DataFrame, comparison: pd.DataFrame | None,
                   rows: bool, cal_source: str, split: str) -> None:
    if rows:
        grid = Table(title=f"{chip} kernels: predicted vs measured")
        for col in ("section", "case", "set", "measured", "predicted", "error"):
            grid.add_column(col, justify="right" if col in ("measured", "predicted", "error")
                            else "left")
        for r in report.itertuples():
            grid.add_row(r.section, r.case, r.set, f"{r.measured_s * 1e6:.1f} µs",
                         f"{r.predicted_s * 1e6:.1f} µs", f"{r.error:+.1%}")
        console.print(grid)
    title = "Error per section (|predicted/measured - 1|)"
    if cal_source:
        title += f" with {cal_source} (fit split {split})"
    grid = Table(title=title)
    columns = ["section", "set", "rows", "median", "p90"]
    if comparison is not None:
        columns += ["median, shipped cal.", "p90, shipped cal."]
    for col in columns:
        grid.add_column(col, justify="left" if col in ("section", "set") else "right")
    shipped = (comparison.set_index(["section", "set"]) if comparison is not None else None)
    for r in summary.itertuples():
        cells = [r.section, r.set, str(r.rows), f"{r.median_abs_error:.1%}",
                 f"{r.p90_abs_error:.1%}"]
        if shipped is not None:
            ref = shipped.loc[(r.section, r.set)]
            cells += [f"{ref.median_abs_error:.1%}", f"{ref.p90_abs_error:.1%}"]
        grid.add_row(*cells)
    console.print(grid)
    if not power.empty:
        grid = Table(title="Board power, clock and rate (steady state)")
        for col in ("phase", "power meas.", "power pred.", "error", "clock meas.",
                    "clock pred.", "rate meas.", "rate pred."):
            grid.add_column(col, justify="left" if col == "phase" else "right")
        for r in power.itertuples():
            grid.add_row(r.phase, f"{r.measured_power_w:.1f} W", f"{r.predicted_power_w:.1f} W",
                         f"{r.power_error:+.1%}", f"{r.measured_clock_mhz:.0f} MHz",
                         f"{r.predicted_clock_mhz:.0f} MHz",
                         "" if r.measured_rate != r.measured_rate
                         else f"{r.measured_rate:.0f} {r.rate_unit}",
                         "" if r.predicted_rate != r.predicted_rate
                         else f"{r.predicted_rate:.0f} {r.rate_unit}")
        console.print(grid)
    if not mamf.empty:
        grid = Table(title="Other chips, never fitted: best GEMM throughput (published)")
        for col in ("chip", "published", "predicted", "error", "source"):
            grid.add_column(col, justify="left" if col in ("chip", "source") else "right")
        for r in mamf.itertuples():
            grid.add_row(r.preset, f"{r.published_tflops:.0f} TFLOP/s",
                         f"{r.predicted_tflops:.0f} TFLOP/s", f"{r.error:+.1%}", r.source)
        console.print(grid)
