"""`dse space check|schema|new`: author and check search-space files."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.table import Table

from dse.cli._app import EXIT_USAGE, app, console, plain, report_config_errors
from dse.schemas import SPACE_SCHEMA_FILE

space_app = typer.Typer(
    help="Search-space files: check one, print the JSON Schema, start a new one.",
    no_args_is_help=True,
)
app.add_typer(space_app, name="space")


@space_app.command("check")
@report_config_errors
def check(file: Path = typer.Argument(..., help="search-space YAML file")) -> None:
    """Validate FILE (every problem at once, with key paths) and summarise it."""
    from dse.space import load_space, summarise

    space = load_space(file)
    spec = space.spec
    # NOTE: everything from the file goes through `plain`: a description, unit or
    # choice such as "ratio [/] of" is text, not rich markup.
    console.print(f"[bold]{plain(spec.name)}[/bold]: {plain(spec.description.strip())}")
    console.print(plain(
        f"base {spec.base}, suite {spec.suite}, sampler {spec.sampler.name}, "
        f"budget {spec.budget.trials} trials (batches of {spec.budget.batch_size}), "
        f"seed {spec.seed}"
    ))
    table = Table(title=f"{len(space.parameters)} parameters")
    for column in ("parameter", "kind", "unit", "domain", "values"):
        table.add_column(column)
    rows = summarise(space)
    for row in rows:
        values = "continuous" if math.isinf(row.cardinality) else f"{row.cardinality:g}"
        table.add_row(*(plain(cell) for cell in (row.name, row.kind, row.unit, row.domain, values)))
    console.print(table)
    for row in rows:
        console.print(plain(f"{row.name} -> {', '.join(_grouped(row.maps_to)) or '(nothing)'}"))
    total = space.cardinality()
    console.print(
        "cardinality: " + ("continuous" if math.isinf(total) else f"{total:,.0f} designs")
    )
    for name, expression in space.derived_expressions.items():
        console.print(plain(f"derived {name} = {expression}"))
    for objective in space.objectives:
        expression = space.objective_expressions[objective.name]
        console.print(plain(f"objective {objective.direction} {objective.name} = {expression}"))
    for name, constraint in space.constraints.items():
        bounds = " and ".join(
            b for b in (
                f"<= {constraint.max:g}" if constraint.max is not None else "",
                f">= {constraint.min:g}" if constraint.min is not None else "",
            ) if b
        )
        console.print(
            plain(f"constraint {name}: {constraint.expression} {bounds} {constraint.unit}")
        )
    if spec.references:
        console.print(plain("references: " + ", ".join(spec.references)))
    midpoint = space.build(space.midpoint(), "midpoint")
    if midpoint.hardware is None:
        console.print(plain(
            "note: the midpoint design is infeasible: " + "; ".join(midpoint.infeasible_reasons)
        ))


def _grouped(paths: tuple[str, ...]) -> list[str]:
    """`a.b.x, a.b.y` -> `a.b.{x,y}`, order kept."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        head, _, leaf = path.rpartition(".")
        groups.setdefault(head if " " not in path else path, []).append(leaf)
    out = []
    for head, leaves in groups.items():
        if " " in head or len(leaves) == 1:
            out.append(head if " " in head else f"{head}.{leaves[0]}" if head else leaves[0])
        else:
            out.append(f"{head}.{{{','.join(leaves)}}}")
    return out


@space_app.command("schema")
def schema(
    kind: str = typer.Argument(
        "space", help="which file format: space, suite (workload suites), hardware or "
        "workload (model-level workload files)",
    ),
) -> None:
    """Print the JSON Schema of search-space (or suite, hardware) files, for editors.

    The space schema completes every `hardware:` and `remove:` path of the hardware
    format. Point an editor at it with a first line
    `# yaml-language-server: $schema=space.schema.json` (`dse space new` writes both).
    """
    from dse.schemas import SCHEMAS, schema_text

    if kind not in SCHEMAS:
        print(f"error: {kind!r}: one of {', '.join(SCHEMAS)}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    sys.stdout.write(schema_text(kind))


TEMPLATE = """\
# yaml-language-server: $schema={schema}
# Search space `{name}` for `dse search`. Check it with `dse space check {path}`.
# Units are in the key names; every constant says where its figure comes from.
name: {name}
description: >
  What question this search answers.
base: nvidia-h100-sxm        # a preset name or a hardware YAML file (relative to this file)
suite: {suite}               # the workload suite designs are scored on
seed: 0
budget:
  trials: 500                # finished trials (complete or failed)
  batch_size: 32             # async_nsga2: its population; nsga2/nsga3: one generation
  designs_per_task: 16       # designs one Ray task evaluates as a vectorised batch
sampler:
  name: async_nsga2          # async_nsga2 | nsga2 | nsga3 | tpe | gp | random | grid
  settings: {{}}
parameters:                  # what varies: float | int | categorical
  sram_capacity_mib: {{kind: float, unit: MiB, low: 32, high: 512, log: true}}
  hbm_stacks: {{kind: int, unit: count, low: 1, high: 8}}
constants:                   # named figures with their source
  hbm_gib_per_stack: {{value: 16, unit: GiB, source: "HBM3 16 GiB stack (JEDEC JESD238)"}}
  hbm_tbyte_s_per_stack: {{value: 0.67, unit: TB/s, source: "H100 SXM 3.35 TB/s over 5 stacks"}}
derived:                     # computed in order; may use parameters, constants, base.<path>
  hbm_capacity_gib: hbm_stacks * hbm_gib_per_stack
hardware:                    # dotted path in the hardware YAML form -> expression
  sram.capacity_mib: sram_capacity_mib
  hbm.stacks: hbm_stacks
  hbm.capacity_gib: hbm_capacity_gib
  hbm.bandwidth_tbyte_s: hbm_stacks * hbm_tbyte_s_per_stack
remove: {{}}                   # dotted path -> condition (e.g. `hbm: hbm_stacks == 0`)
constraints:                 # relative violation <= 0 is feasible
  max_power_w: {{expression: power_w, max: 700, unit: W}}
  fits_workloads: {{expression: infeasible_workloads, max: 0}}
objectives:                  # any evaluator metric may be one (workloads.<w>.<metric>)
  - {{name: score, direction: maximize, unit: x reference}}
  - {{name: power_w, direction: minimize, unit: W}}
  - {{name: unit_cost_usd, direction: minimize, unit: USD}}
references: [nvidia-h100-sxm]
"""


@space_app.command("new")
def new(
    name: str = typer.Argument(..., help="name of the new space (file NAME.yaml)"),
    directory: Path = typer.Option(Path("search_spaces"), "--dir", help="folder to write to"),
    suite: str = typer.Option("llm-serving", help="workload suite to score designs on"),
) -> None:
    """Write a commented template search-space file NAME.yaml."""
    if not name.replace("_", "").replace("-", "").isalnum():
        print(f"error: name {name!r}: use letters, digits, - and _", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    path = directory / f"{name}.yaml"
    if path.exists():
        print(f"error: {path} exists; not overwriting it", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE.format(name=name, path=path, suite=suite, schema=SPACE_SCHEMA_FILE),
                    encoding="utf-8")
    console.print(plain(f"wrote {path}; check it with `dse space check {path}`"))
    _write_schema_beside(directory)


def _write_schema_beside(directory: Path) -> None:
    """`space.schema.json` in `directory`, for the template's `$schema` line.

    NOTE: written when absent or when it is an older dse space schema (the file is
    generated, so refreshing it loses nothing); a different file of that name is left
    alone, with a note, so an author's own file is never overwritten.
    """
    from dse.schemas import schema_text

    target = directory / SPACE_SCHEMA_FILE
    text = schema_text("space")
    if target.exists():
        try:
            ours = json.loads(target.read_text(encoding="utf-8")).get("title") == (
                json.loads(text)["title"])
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            console.print(plain(f"note: {target} is not a dse space schema; left as it is "
                                f"(`dse space schema > FILE` writes one)"))
            return
        if target.read_text(encoding="utf-8") == text:
            return
    target.write_text(text, encoding="utf-8")
    console.print(plain(f"wrote {target} (the JSON Schema editors read for completion)"))
