"""`dse validate …`: predictions against measurements, with their errors."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from dse.cli._app import app, console, report_config_errors
from dse.config import load_hardware

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
    rows: bool = typer.Option(False, "--rows", help="Print every row, not just the summary."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """H100 kernels and board power: predicted vs measured, error per section.

    Rows are split into those the calibration was fitted on and held-out rows (other
    precisions, other shapes); both are reported. Exits 1 if a target is missed.
    """
    from dse.validation.kernels import kernel_report, power_report, section_summary
    from dse.validation.reference_chips import mamf_report

    hw = load_hardware("nvidia-h100-sxm")
    report = kernel_report(hw)
    summary = section_summary(report)
    power = power_report(hw)
    mamf = mamf_report()
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
        print(json.dumps({
            "summary": summary.to_dict(orient="records"),
            "power": power.to_dict(orient="records"),
            "other_chips": mamf.to_dict(orient="records"),
            "rows": report.to_dict(orient="records") if rows else [],
            "failures": failures,
        }, indent=2, default=float))
    else:
        if rows:
            grid = Table(title="H100 kernels: predicted vs measured")
            for col in ("section", "case", "set", "measured", "predicted", "error"):
                grid.add_column(col, justify="right" if col in ("measured", "predicted", "error")
                                else "left")
            for r in report.itertuples():
                grid.add_row(r.section, r.case, r.set, f"{r.measured_s * 1e6:.1f} µs",
                             f"{r.predicted_s * 1e6:.1f} µs", f"{r.error:+.1%}")
            console.print(grid)
        grid = Table(title="Error per section (|predicted/measured - 1|)")
        for col in ("section", "set", "rows", "median", "p90"):
            grid.add_column(col, justify="right" if col in ("rows", "median", "p90") else "left")
        for r in summary.itertuples():
            grid.add_row(r.section, r.set, str(r.rows), f"{r.median_abs_error:.1%}",
                         f"{r.p90_abs_error:.1%}")
        console.print(grid)
        grid = Table(title="Board power, clock and rate (steady state)")
        for col in ("phase", "power meas.", "power pred.", "error", "clock meas.", "clock pred.",
                    "rate meas.", "rate pred."):
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
        grid = Table(title="Other chips, never fitted: best GEMM throughput (published)")
        for col in ("chip", "published", "predicted", "error", "source"):
            grid.add_column(col, justify="left" if col in ("chip", "source") else "right")
        for r in mamf.itertuples():
            grid.add_row(r.preset, f"{r.published_tflops:.0f} TFLOP/s",
                         f"{r.predicted_tflops:.0f} TFLOP/s", f"{r.error:+.1%}", r.source)
        console.print(grid)
        if failures:
            console.print("[red]targets missed:[/red] " + "; ".join(failures))
        else:
            console.print("[green]all targets met[/green] (median ≤ 15 % per section, "
                          "gemm p90 ≤ 30 %, power within 10 %)")
    if failures:
        raise typer.Exit(1)
