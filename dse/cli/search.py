"""`dse search FILE`: run (or resume) a Pareto search and print the front."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dse.cli._app import EXIT_USAGE, app, console, plain, report_config_errors

MAX_FRONT_ROWS = 20
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT


@app.command("search")
@report_config_errors
def search(
    file: Path = typer.Argument(..., help="search-space YAML file"),
    out: str = typer.Option(
        None, "--out", help="results folder or URI such as s3://bucket/prefix (default: "
        "results/<space name>; inside a Ray job: an absolute path or a URI)"
    ),
    trials: int = typer.Option(
        None, "--trials", min=1, help="budget override (trials; default: the file's budget, "
        "or with --resume the budget the search was started with)"
    ),
    address: str = typer.Option(
        None, "--address", help="Ray cluster: auto or ray://host:10001 (default: RAY_ADDRESS, "
        "else a local Ray in this process)"
    ),
    resume: bool = typer.Option(False, "--resume", help="continue the search in --out"),
    workers: int = typer.Option(
        None, "--workers", min=1, help="CPUs of the local Ray (default: all cores)"
    ),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Search the design space in FILE; results go to --out as Parquet.

    Inside a Ray job (`ray job submit`), --out must be an absolute path or a URI: the
    job's working directory is a temporary copy that Ray deletes.
    """
    from dse.results.location import check_out_in_ray_job
    from dse.space import load_space

    space = load_space(file)  # a bad file stops here, before Ray starts
    # a relative --out inside a Ray job would land in Ray's temporary working directory
    check_out_in_ray_job(out, str(Path("results") / space.name))
    from dse.results import FolderExists, FolderInUse, read_trials
    from dse.runtime import SearchOptions, SearchProgress, run_search

    out = out or str(Path("results") / space.name)
    options = SearchOptions(
        out=out, trials=trials, address=address, resume=resume, num_cpus=workers
    )
    progress = Progress(
        BarColumn(bar_width=10),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} trials/s"),
        TextColumn("feasible {task.fields[feasible]:.0%}"),
        TextColumn("front {task.fields[front]}"),
        TextColumn("HV {task.fields[hv]:.4g}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )
    budget = trials or space.spec.budget.trials  # a resumed search corrects it on progress
    task = progress.add_task(space.name, total=budget, rate=0.0, feasible=0.0, front=0, hv=0.0)

    def on_progress(update: SearchProgress) -> None:
        progress.update(
            task,
            completed=update.done,
            total=update.budget,
            rate=update.trials_per_s,
            feasible=update.feasible_share,
            front=update.front_size,
            hv=update.hypervolume,
        )

    try:
        with progress:
            summary = run_search(space, options, on_progress)
    except (FolderExists, FolderInUse) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        print(
            f"interrupted; committed trials are kept in {out}: continue with "
            f"`{resume_command(file, out, trials, address, workers)}`",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None

    console.print(
        f"{summary.done} trials in {summary.elapsed_s:.1f} s on {summary.workers} Ray worker(s) "
        f"({summary.connection}); {summary.complete} complete, {summary.failed} failed, "
        f"{summary.feasible} feasible; hypervolume {summary.hypervolume:.4g}"
        + (f"; {summary.resumed_trials} resumed" if summary.resumed_trials else "")
    )
    frame = read_trials(summary.out)
    front = frame[frame["trial_number"].isin(_front_designs(summary.out, summary))]
    first = space.objectives[0]
    front = front.sort_values(
        f"objective_{first.name}", ascending=first.direction == "minimize"
    )
    shown = front.head(MAX_FRONT_ROWS)
    table = Table(
        title=plain(f"Pareto front: {len(front)} distinct designs (results in {summary.out})")
    )
    table.add_column("trial", justify="right")
    for objective in space.objectives:
        arrow = "↑" if objective.direction == "maximize" else "↓"
        table.add_column(f"{objective.name} {arrow}", justify="right")
    for name in space.parameters:
        table.add_column(name, justify="right")
    for row in shown.to_dict("records"):
        cells = [str(row["trial_number"])]
        cells += [_shown(row[f"objective_{o.name}"]) for o in space.objectives]
        cells += [_shown(row[f"param_{n}"]) for n in space.parameters]
        table.add_row(*cells)
    console.print(table)
    if len(front) > len(shown):
        console.print(
            plain(f"... {len(front) - len(shown)} more on the front: `dse pareto {summary.out}`")
        )


def _front_designs(out: str, summary: object) -> list[int]:
    """First trial of each distinct design on the front (`dse.browse.results.design_groups`:
    what `dse pareto` and the page count)."""
    from dse.browse.results import connect, design_groups, open_results

    opened = open_results(out)
    con = connect(opened)
    try:
        numbers = list(getattr(summary, "front_trial_numbers", ()))
        return design_groups(opened, con, numbers).representatives
    finally:
        con.close()


def resume_command(
    file: Path, out: str, trials: int | None, address: str | None, workers: int | None
) -> str:
    """The command that continues an interrupted search with the same budget and cluster."""
    words = ["dse", "search", str(file), "--out", out]
    if trials is not None:
        words += ["--trials", str(trials)]
    if address:
        words += ["--address", address]
    if workers is not None:
        words += ["--workers", str(workers)]
    return shlex.join([*words, "--resume"])


def _shown(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    return plain(value)  # a categorical choice is user text
