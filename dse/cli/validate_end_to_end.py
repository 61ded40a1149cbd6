"""`dse validate end-to-end`: measured end-to-end GPU times against predictions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dse.cli._app import console, json_text, report_config_errors
from dse.cli.validate import validate_app


@validate_app.command("end-to-end")
@report_config_errors
def end_to_end(
    measured: Path | None = typer.Argument(
        None, help="CSV written by scripts/measure_end_to_end.py (or in the shipped layout); "
        "default: the shipped H100 rows (dse/data/reference/h100_end_to_end.csv)."),
    preset: str = typer.Option("nvidia-h100-sxm", "--preset",
                               help="Hardware preset (or file) the measurements ran on."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration file from `dse calibrate` to predict with."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Decoder-layer and ResNet-50 times measured on a GPU against dse's predictions.

    Each row is restated as the operators dse's evaluators emit and predicted on PRESET;
    ResNet-50 rows run under the `eager-pytorch` CNN framework, whose two constants are
    fitted on two shipped rows (role `fit`); every other row is held out. Measure your own
    with `python3 scripts/measure_end_to_end.py --out FILE` where PyTorch sees the GPU.
    """
    from dse.core.calibration import using_calibration
    from dse.validation.end_to_end import (
        compare,
        median_abs_error,
        read_measurements,
        role,
        shipped_measurements,
    )

    cal = None
    if calibration is not None:
        from dse.config.calibration_file import load_calibration_file

        cal = load_calibration_file(calibration).calibration
    rows = shipped_measurements() if measured is None else read_measurements(measured)
    with using_calibration(cal):
        comparisons = compare(rows, preset)
    held_out = [c for c in comparisons if role(c.measurement) == "held-out"]
    if as_json:
        print(json_text({
            "preset": preset, "median_abs_error": median_abs_error(comparisons),
            "held_out_median_abs_error": median_abs_error(held_out),
            "rows": [{"id": c.measurement.row_id, "workload": c.measurement.workload,
                      "params": dict(c.measurement.params), "device": c.measurement.device,
                      "role": role(c.measurement),
                      "measured_s": c.measurement.measured_s, "predicted_s": c.predicted_s,
                      "error": c.error, "infeasible_reasons": list(c.infeasible_reasons)}
                     for c in comparisons]}))
        return
    table = Table(title=f"Measured vs predicted on {preset} (error = predicted / measured - 1)",
                  box=None, pad_edge=False)
    for column in ("id", "device", "role", "measured", "predicted", "error"):
        table.add_column(column, justify="left" if column in ("id", "device", "role")
                         else "right")
    for c in comparisons:
        table.add_row(c.measurement.row_id, c.measurement.device, role(c.measurement),
                      f"{c.measurement.measured_s * 1e3:.3f} ms", f"{c.predicted_s * 1e3:.3f} ms",
                      f"{c.error:+.1%}" + (" (infeasible: " + "; ".join(c.infeasible_reasons)
                                           + ")" if c.infeasible_reasons else ""))
    console.print(table)
    console.print(f"{len(comparisons)} rows: median |error| "
                  f"{median_abs_error(comparisons):.1%}; {len(held_out)} held out: "
                  f"{median_abs_error(held_out):.1%}")
