"""`dse calibrate`: fit the calibration layer to a chip family's own measurements."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dse.cli._app import app, console, json_text, report_config_errors
from dse.config import load_hardware


@app.command()
@report_config_errors
def calibrate(
    measured: Path = typer.Option(
        ..., "--measured", help="Measured kernels CSV (columns chip, section, kind, params, "
        "measured_s), e.g. written by scripts/measure_kernels.py."),
    hardware: str = typer.Option(
        ..., "--hardware", "-H", help="Preset or hardware file the rows were measured on."),
    output: Path = typer.Option(..., "--output", "-o", help="Calibration file to write."),
    fit_split: str = typer.Option(
        "standard", "--fit-split", help="Rows to fit on: 'standard' (the shipped rule: "
        "other precisions, shapes and host rows held out), 'all', or "
        "'random:FRACTION[:SEED]' (that share of rows held out, by a hash of each row)."),
    measured_power: Path | None = typer.Option(
        None, "--measured-power", help="Board-power CSV (columns of h100_power.csv); without "
        "it the power-only factors keep their shipped values."),
    prior_weight: float = typer.Option(
        1.0, "--prior-weight", min=0.0, help="Pull of the shipped calibration: each factor "
        "pays this x log(value / shipped value), like one row off by that ratio; 0: none."),
    max_evaluations: int = typer.Option(
        200, "--max-evaluations", min=1, help="Least-squares function evaluations at most."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Fit efficiency factors and software overheads on the fit rows of a measured-kernels
    file and write a calibration file; report fit and held-out error, beside what the
    shipped calibration gives on the same rows.

    Use the file with `dse evaluate --calibration`, `dse validate kernels --calibration`
    (it labels rows with the same split) or a search space's `calibration:` key. Presets
    stay spec-sheet figures.
    """
    from dse.config.calibration_file import calibration_file_text
    from dse.core.calibration import DEFAULT_CALIBRATION
    from dse.errors import ConfigError
    from dse.validation.fit import fit_calibration, fitted_fields
    from dse.validation.kernels import (
        kernel_cases,
        kernel_report,
        power_cases,
        read_kernel_measurements,
        read_power_measurements,
        section_summary,
    )
    from dse.validation.splits import parse_fit_split

    split = parse_fit_split(fit_split)
    hw = load_hardware(hardware)
    cases = kernel_cases(read_kernel_measurements(measured), split)
    if not any(not c.held_out for c in cases):
        raise ConfigError(f"the split {split} leaves no row to fit on", str(measured))
    power = (power_cases(read_power_measurements(measured_power))
             if measured_power is not None else [])
    fitted = fit_calibration(hw, DEFAULT_CALIBRATION, max_nfev=max_evaluations, cases=cases,
                             power=power, prior_weight=prior_weight)
    summary = section_summary(kernel_report(hw, fitted, cases))
    shipped = section_summary(kernel_report(hw, DEFAULT_CALIBRATION, cases))
    report = {
        "prior_weight": prior_weight, "rows": len(cases),
        "fit_rows": sum(not c.held_out for c in cases),
        "held_out_rows": sum(c.held_out for c in cases),
        "summary": _records(summary), "summary_shipped_calibration": _records(shipped),
    }
    output.write_text(calibration_file_text(fitted, hardware, str(measured), split,
                                            fitted_fields(with_power=bool(power)), report))
    if as_json:
        print(json_text({"output": str(output), "hardware": hardware, "fit_split": str(split),
                          **report}))
        return
    grid = Table(title=f"{hw.name}: fitted on {report['fit_rows']} rows, "
                       f"{report['held_out_rows']} held out (split {split})")
    for col in ("section", "set", "rows", "median", "p90", "median, shipped cal.",
                "p90, shipped cal."):
        grid.add_column(col, justify="left" if col in ("section", "set") else "right")
    reference = shipped.set_index(["section", "set"])
    for r in summary.itertuples():
        ref = reference.loc[(r.section, r.set)]
        grid.add_row(r.section, r.set, str(r.rows), f"{r.median_abs_error:.1%}",
                     f"{r.p90_abs_error:.1%}", f"{ref.median_abs_error:.1%}",
                     f"{ref.p90_abs_error:.1%}")
    console.print(grid)
    console.print(f"wrote {output}")


def _records(summary: object) -> list[dict[str, object]]:
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    return [{"section": str(r.section), "set": str(r.set), "rows": int(r.rows),
             "median_abs_error": round(float(r.median_abs_error), 5),
             "p90_abs_error": round(float(r.p90_abs_error), 5)}
            for r in summary.itertuples()]
