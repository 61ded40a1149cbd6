"""`dse validate published`: model-level predictions against published results."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dse.cli._app import console, json_text, plain, report_config_errors
from dse.cli.validate import validate_app
from dse.core.calibration import using_calibration


@validate_app.command("published")
@report_config_errors
def published(
    chip: str = typer.Option("", "--chip", help="Only rows of this preset (or CSV chip name)."),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="Calibration file from `dse calibrate` to predict with."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Training and inference results from papers and benchmarks: one row per result.

    Each row restates the publication's plan as a model-level workload on a preset and
    computes what it reports (Megatron Eq. 3 TFLOP/s, MFU, tokens/s per chip, output
    tokens only, board power). Exits 1 if the median |error| exceeds 15 % or a row is
    off by more than 2x.
    """
    from dse.validation.llm_inference_bench import bench_check
    from dse.validation.published import (
        EXCLUDED,
        TARGET_MAX_RATIO,
        TARGET_MEDIAN_ABS_ERROR,
        compare_all,
        comparison_to_dict,
        group_summaries,
        summarise,
    )

    cal = None
    if calibration is not None:
        from dse.config.calibration_file import load_calibration_file

        cal = load_calibration_file(calibration).calibration
    with using_calibration(cal):
        comparisons = compare_all(chip=chip or None)
        if not comparisons:
            console.print(plain(f"no published rows for chip {chip!r}"))
            raise typer.Exit(2)
        runs = bench_check(chip or None)
    summary = summarise(comparisons)
    groups = group_summaries(comparisons)
    if as_json:
        print(json_text({
            "summary": {"rows": summary.rows, "median_abs_error": summary.median_abs_error,
                        "max_ratio": summary.max_ratio,
                        "rows_beyond_2x": summary.rows_beyond_2x,
                        "chips": list(summary.chips),
                        "meets_targets": summary.meets_targets},
            "groups": {name: {"rows": g.rows, "median_abs_error": g.median_abs_error,
                              "max_ratio": g.max_ratio, "rows_beyond_2x": g.rows_beyond_2x}
                       for name, g in groups.items()},
            "rows": [comparison_to_dict(c) for c in comparisons],
            "excluded": dict(EXCLUDED),
            "llm_inference_bench_runs": [
                {"preset": r.preset, "framework": r.framework, "serving": r.family,
                 "infeasible_not_restated": r.infeasible, "worst_held_out": r.worst}
                | {role: {"runs": g.rows, "median_abs_error": g.median_abs_error,
                          "max_ratio": g.max_ratio, "runs_beyond_2x": g.rows_beyond_2x}
                   for role, g in (("fit", r.fit), ("held_out", r.held_out))}
                for r in runs],
        }))
    else:
        table = Table(title="Predicted vs published (error = predicted / published - 1)",
                      box=None, pad_edge=False)
        for column in ("id", "preset", "restated as", "role", "unit", "published",
                       "predicted", "error"):
            table.add_column(column, justify="right" if column in (
                "published", "predicted", "error") else "left")
        for c in comparisons:
            flag = "" if c.feasible else " (infeasible)"
            style = "red" if c.ratio > TARGET_MAX_RATIO else None
            role = c.role + (f" ({c.serving})" if c.serving else "")
            table.add_row(c.row_id, c.preset, c.workload_name, role, c.unit,
                          f"{c.published:,.1f}", f"{c.predicted:,.1f}",
                          f"{c.error:+.1%}{flag}", style=style)
        console.print(table)
        console.print(
            f"{summary.rows} rows on {', '.join(summary.chips)}: median |error| "
            f"{summary.median_abs_error:.1%} (target <= {TARGET_MEDIAN_ABS_ERROR:.0%}), "
            f"worst {summary.max_ratio:.2f}x (target <= {TARGET_MAX_RATIO:.0f}x), "
            f"{summary.rows_beyond_2x} rows beyond 2x")
        for name, g in groups.items():
            console.print(f"  {name}: {g.rows} rows, median |error| "
                          f"{g.median_abs_error:.1%}, worst {g.max_ratio:.2f}x, "
                          f"{g.rows_beyond_2x} beyond 2x")
        if runs:
            console.print("LLM-Inference-Bench runs beyond the quoted rows (same source), "
                          "restated with their framework's family:")
        for r in runs:
            fitted = (f"fitted on {r.fit.rows} (median |error| {r.fit.median_abs_error:.1%})"
                      if r.fit.rows else "none fitted")
            console.print(
                f"  {r.preset} {r.framework} ({r.family}): {fitted}; held out "
                f"{r.held_out.rows}: median |error| {r.held_out.median_abs_error:.1%}, "
                f"worst {r.held_out.max_ratio:.2f}x ({r.worst}), "
                f"{r.held_out.rows_beyond_2x} beyond 2x; {r.infeasible} infeasible")
        for row_id, reason in EXCLUDED.items():
            console.print(f"not restated: {row_id}: {reason}")
    if not summary.meets_targets:
        raise typer.Exit(1)
