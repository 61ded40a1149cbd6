"""`dse search FILE`: run (or resume) a Pareto search and print the front."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dse.cli._app import EXIT_USAGE, app, console, error_console, plain, report_config_errors
from dse.cli.browse import TableFormat

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
    format: TableFormat = typer.Option(
        TableFormat.table, "--format", help="how the front is printed at the end: a table "
        "of its first rows, or the whole front as csv or json (as `dse pareto`)"
    ),
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
    from dse.results import FolderExists, FolderInUse
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
        # with --format csv|json stdout carries only the front
        console=console if format is TableFormat.table else error_console,
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

    (console if format is TableFormat.table else error_console).print(
        f"{summary.done} trials in {summary.elapsed_s:.1f} s on {summary.workers} Ray worker(s) "
        f"({summary.connection}); {summary.complete} complete, {summary.failed} failed, "
        f"{summary.feasible} feasible; hypervolume {summary.hypervolume:.4g}"
        + (f"; {summary.resumed_trials} resumed" if summary.resumed_trials else "")
    )
    _print_front(summary.out, format)


def _print_front(out: str, format: TableFormat) -> None:
    """The first rows of the front, as `dse pareto` prints them (one row per distinct
    design, objectives first, fitted to the terminal)."""
    from dse.browse.pareto import pareto_front
    from dse.browse.results import open_results
    from dse.cli.browse import print_pareto

    table = pareto_front(open_results(out), top=None if format is not TableFormat.table
                         else MAX_FRONT_ROWS)
    print_pareto(table, format)
    if format is TableFormat.table and table.front_size > len(table.rows):
        console.print(plain(
            f"... {table.front_size - len(table.rows)} more on the front: `dse pareto {out}`"
        ))


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
