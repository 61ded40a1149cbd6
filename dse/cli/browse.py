"""`dse pareto / show / compare / browse / report`: look at a search's results.

Thin: parse arguments, call `dse.browse`, print. Every unusable results folder, unknown
trial or bad filter is a ConfigError (one line per problem on stderr, exit 2).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dse.cli._app import app, console, plain, report_config_errors
from dse.errors import ConfigError, Problem

if TYPE_CHECKING:
    from dse.browse.detail import DesignDetail
    from dse.browse.pareto import ParetoTable
    from dse.browse.results import Results

# NOTE: dse.browse (duckdb, pyarrow, moocore) is imported inside each command, not here:
# every `dse` invocation imports this module to register the commands, and these imports
# cost about 0.3 s that `dse search` or `dse economics` should not pay.


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


# NOTE: str, not Path: a Path would fold the "//" of a URI such as s3://bucket/prefix.
ResultsArg = Annotated[
    str,
    typer.Argument(
        help="Results folder or URI (s3://…) written by `dse search --out`.", show_default=False
    ),
]


def _split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    return names or None


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def _open(results: str) -> Results:
    """Open the folder and say on stderr what of it is skipped or read unchecked."""
    from dse.browse.results import open_results

    opened = open_results(results)
    for note in opened.notes:
        _note(f"warning: {note}")
    return opened


@app.command()
@report_config_errors
def pareto(
    results: ResultsArg,
    objectives: Annotated[
        str | None,
        typer.Option(help="Comma-separated objectives to compute the front over (default: all)."),
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            help="SQL filter over trial columns, e.g. "
            "\"sram_capacity_mib > 64 AND hbm_stacks <= 4\" "
            "(param_/objective_/derived_ prefixes optional when unambiguous)."
        ),
    ] = None,
    top: Annotated[int | None, typer.Option(min=0, help="Show only the first N rows.")] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns to show after the trial number, by bare name "
            "(score,power_w,sram_capacity_mib) or column name (param_…); default: all, "
            "objectives first; a table drops what does not fit the terminal."
        ),
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = (
        TableFormat.table
    ),
) -> None:
    """The non-dominated feasible designs, best first: objectives, bands, parameters,
    derived figures; one row per distinct design (`trials`: every trial that built it)."""
    from dse.browse.pareto import pareto_front

    opened = _open(results)
    table = pareto_front(opened, _split_names(objectives), where, top)
    for note in table.notes:
        _note(f"note: {note}")
    if table.trials_total == 0:
        _note(f"{results}: no finished trials yet (search {opened.metadata.status})")
    elif table.trials_matching == 0:
        _note(f"{results}: no feasible trial matches ({table.trials_total} trials)")
    chosen = _split_names(columns)
    if chosen:
        table = table.select(chosen)
    print_pareto(table, format)


def print_pareto(table: ParetoTable, format: TableFormat) -> None:
    """The front in `format`; a table as wide as the terminal, saying what it left out."""
    from dse.browse.render import pareto_csv, pareto_json, pareto_rich

    if format is TableFormat.csv:
        sys.stdout.write(pareto_csv(table))
    elif format is TableFormat.json:
        sys.stdout.write(pareto_json(table) + "\n")
    else:
        rendered, left_out = pareto_rich(table, console.width)
        console.print(rendered)
        sys.stdout.flush()  # the note on stderr comes after the table
        if left_out:
            _note(
                f"{len(left_out)} more columns do not fit {console.width} characters: "
                f"{', '.join(left_out)} (--columns picks, --format csv|json shows all)"
            )


@app.command()
@report_config_errors
def show(
    results: ResultsArg,
    trial: Annotated[int, typer.Argument(help="Trial number.", show_default=False)],
    reference: Annotated[
        list[str] | None,
        typer.Option(
            help="Reference chip to show beside it (default: the first evaluated; "
            "'none' for none); repeat for several, side by side."
        ),
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = (
        TableFormat.table
    ),
) -> None:
    """One design in full: the parameters that act on it, objectives with units, derived
    figures, per-workload metrics, and where the time goes (per request or per step): by
    bound, and, evaluated again now, by phase and by operator class."""
    from dse.browse.breakdown import with_breakdowns
    from dse.browse.detail import design_details, reference_details, reference_names

    opened = _open(results)
    details = design_details(opened, [trial], only_acting=True)
    if reference is None:
        chosen = reference_names(opened)[:1]
    elif any(r.lower() == "none" for r in reference):
        chosen = []
    else:
        chosen = list(dict.fromkeys(reference))
    details += reference_details(opened, chosen)
    _print_details(with_breakdowns(opened, details), format)


@app.command()
@report_config_errors
def compare(
    results: ResultsArg,
    trials: Annotated[
        list[int] | None, typer.Argument(help="Trial numbers.", show_default=False)
    ] = None,
    hardware: Annotated[
        list[str] | None,
        typer.Option(
            "--hardware", help="Reference chip (preset name) to add; repeat for several."
        ),
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = (
        TableFormat.table
    ),
) -> None:
    """Several designs (and reference chips) side by side, with where their time goes by
    bound, phase and operator class (the last two evaluated again now)."""
    if not trials and not hardware:
        raise ConfigError([Problem("dse compare", "TRIAL", "give at least one trial number")])
    from dse.browse.breakdown import with_breakdowns
    from dse.browse.detail import design_details, reference_details

    opened = _open(results)
    details = design_details(opened, trials or [], only_acting=True)
    details += reference_details(opened, hardware or [])
    _print_details(with_breakdowns(opened, details), format)


def _print_details(details: list[DesignDetail], format: TableFormat) -> None:
    from rich.console import Console
    from rich.measure import Measurement

    from dse.browse.detail import with_comparisons
    from dse.browse.render import comparison_tables, details_csv, details_json

    details = with_comparisons(details)

    if format is TableFormat.json:
        sys.stdout.write(details_json(details) + "\n")
        return
    if format is TableFormat.csv:
        sys.stdout.write(details_csv(details))
        return
    for table in comparison_tables(details):
        # NOTE: values never wrap or get cut (`3.17e…`): where the terminal is narrower
        # than the values need (several designs side by side), the table runs wider.
        needed = Measurement.get(console, console.options.update_width(10_000), table).minimum
        out = console if needed <= console.width else Console(width=needed, emoji=False)
        out.print(table)


@app.command()
@report_config_errors
def browse(
    results: ResultsArg,
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 exposes the page to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free).")] = 8765,
) -> None:
    """Serve the results as an interactive page (rebuilt on every reload)."""
    from dse.browse.server import make_server

    opened = _open(results)  # fail early, before binding, on an unusable folder
    server = make_server(opened.root, host, port)
    bound_port = server.server_address[1]
    console.print(plain(f"serving {opened.root} at http://{host}:{bound_port}/ (Ctrl-C stops)"))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
@report_config_errors
def report(
    results: ResultsArg,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="HTML file to write.")
    ] = Path("report.html"),
) -> None:
    """Write the page `dse browse` serves as one self-contained HTML file."""
    from dse.browse.page import build_page

    if output.is_dir():
        raise ConfigError([Problem(
            str(output), "", "is a folder: -o takes the HTML file to write, e.g. "
            f"-o {output / 'report.html'}"
        )])
    opened = _open(results)
    html = build_page(opened)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(
            str(output), "", f"cannot write the report: {exc.strerror or exc}"
        )]) from None
    console.print(plain(f"wrote {output} ({len(html.encode()) / 1e6:.1f} MB)"))


@app.command()
@report_config_errors
def export(
    results: ResultsArg,
    trial: Annotated[int, typer.Argument(help="Trial number.", show_default=False)],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Hardware YAML file to write.")
    ] = Path("design.yaml"),
) -> None:
    """Write a trial's design as a hardware file that `dse evaluate --hardware` reads.

    The design is rebuilt from the search's space and the trial's parameters;
    `dse evaluate --hardware FILE --suite SUITE` then reproduces the trial's score, power
    and per-workload metrics.
    """
    from dse.browse.export import export_design

    opened = _open(results)
    design = export_design(opened, trial)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(design.text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(
            str(output), "", f"cannot write the hardware file: {exc.strerror or exc}"
        )]) from None
    console.print(plain(f"wrote {output} ({design.name}); evaluate it with: "
                        f"{design.evaluate_command.format(file=output)}"))
