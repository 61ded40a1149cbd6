"""A trial's design as a hardware file: what `dse export OUT TRIAL -o design.yaml` writes.

The design is rebuilt from the search's own space (the copies in the results folder,
`dse.browse.presets.results_space`) and the trial's parameters, exactly as the search
built it (`SearchSpace.build`), then written in the hardware YAML form
(`hardware_to_dict`). `dse evaluate --hardware design.yaml --suite SUITE` reads it back
and evaluates the same chip: its score, power and per-workload metrics are the stored
trial's (tests/browse/test_export.py checks this on a real search).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from dse.browse.results import Results, connect, quote_identifier, run_query
from dse.errors import ConfigError, Problem


@dataclass(frozen=True, slots=True)
class ExportedDesign:
    """The hardware file's text and how to evaluate it."""

    text: str
    name: str
    evaluate_command: str
    """`dse evaluate ...` that reproduces the trial's suite figures (`{file}` for the path)."""


def _trial_params(results: Results, trial: int) -> dict[str, object]:
    con = connect(results)
    try:
        columns = [f"param_{name}" for name in results.parameter_names]
        selected = ", ".join(quote_identifier(c) for c in columns)
        rows = run_query(
            results, con, f"SELECT {selected} FROM trials WHERE trial_number = ?", [int(trial)]
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise ConfigError([Problem(str(results.root), f"trial {trial}",
                                   "no such finished trial (see `dse pareto` for numbers)")])
    return dict(zip(results.parameter_names, rows[0], strict=True))


def export_design(results: Results, trial: int) -> ExportedDesign:
    """The design trial `trial` built, as a hardware YAML document."""
    from dse.browse.presets import results_space
    from dse.config.hardware import hardware_to_dict

    if trial < 0:
        raise ConfigError([Problem(str(results.root), f"trial {trial}",
                                   "a reference chip is a preset already: use its name")])
    params = _trial_params(results, trial)
    space = results_space(results)
    name = f"{space.name}-trial-{trial}"  # the name the search gave it
    built = space.build(params, name)
    if built.hardware is None:
        raise ConfigError([Problem(str(results.root), f"trial {trial}",
                                   "builds no valid hardware: " + "; ".join(
                                       built.infeasible_reasons))])
    suite = space.suite
    calibration = (
        f" --calibration {Path(space.directory) / space.spec.calibration}"
        if space.spec.calibration else ""
    )
    command = f"dse evaluate --hardware {{file}} --suite {suite}{calibration}"
    given = ", ".join(f"{k}={v}" for k, v in params.items())
    header = (
        f"# {name}: trial {trial} of {results.root} (space {space.name}, "
        f"dse {results.metadata.dse_version or 'unknown'})\n"
        f"# parameters: {given}\n"
        f"# evaluate: {command.format(file='THIS_FILE')}\n"
    )
    document = hardware_to_dict(built.hardware)
    document["description"] = (
        f"trial {trial} of search space {space.name} (base design {space.spec.base})"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return ExportedDesign(header + body, name, command)
