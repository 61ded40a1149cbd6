"""Calibration files: a chip family's fitted factors, written by `dse calibrate`.

```yaml
format: dse-calibration/1
hardware: nvidia-h100-sxm        # the preset (or hardware file) the rows were measured on
measured: kernels.csv            # the measurements it was fitted on (provenance)
fit_split: random:0.3:1          # standard | all | random:FRACTION[:SEED]
factors:                         # fields of dse.core.calibration.Calibration, SI units
  matmul_peak_efficiency: 0.97
  eager_dispatch_s: {matmul: 3.1e-05, attention: 3.0e-05}
report: {...}                    # fit and held-out errors when written (informational)
```

Factors not named keep the shipped value (`dse.core.calibration.DEFAULT_CALIBRATION`);
presets stay spec-sheet figures. Every problem of a file is reported at once (file, key
path, problem), exit code 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dse.config._problems import did_you_mean, problems_from_validation_error, unknown_key
from dse.config._yaml import read_yaml_mapping
from dse.core.calibration import DEFAULT_CALIBRATION, Calibration
from dse.errors import ConfigError, Problem
from dse.validation.splits import STANDARD_SPLIT, FitSplit, parse_fit_split

FORMAT = "dse-calibration/1"


@dataclass(frozen=True, slots=True)
class CalibrationFile:
    calibration: Calibration
    hardware: str
    fit_split: FitSplit
    source: str
    measured: str = ""


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = FORMAT
    hardware: str = Field(min_length=1)
    measured: str = ""
    fit_split: str = str(STANDARD_SPLIT)
    factors: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] = Field(default_factory=dict)


def _is_share(name: str) -> bool:
    """Factors that are a share of something: 0 < value <= 1."""
    return name.endswith(("_efficiency", "_fraction", "_fraction_of_tdp"))


def _number_problem(value: Any, name: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, got {value!r}"
    if not math.isfinite(value) or value < 0:
        return f"must be a finite number >= 0, got {value!r}"
    if _is_share(name) and not 0 < value <= 1:
        return f"is a share: must be > 0 and <= 1, got {value!r}"
    return None


def calibration_from_factors(factors: Mapping[str, Any], source: str,
                             base: Calibration = DEFAULT_CALIBRATION,
                             prefix: str = "factors") -> Calibration:
    """`base` with the named factors replaced; ConfigError lists every bad entry."""
    known = {f.name: getattr(base, f.name) for f in fields(Calibration)}
    problems: list[Problem] = []
    changes: dict[str, object] = {}
    for name, value in factors.items():
        where = f"{prefix}.{name}"
        if name not in known:
            problems.append(Problem(source, where, "unknown factor"
                                    + did_you_mean(name, sorted(known))))
            continue
        default = known[name]
        if isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                problems.append(Problem(source, where, "must be a mapping of "
                                        + ", ".join(default) + " to numbers"))
                continue
            table = dict(default)
            for key, entry in value.items():
                if key not in default:
                    problems.append(Problem(source, f"{where}.{key}",
                                            unknown_key(str(key), default, always_list=True)))
                elif (message := _number_problem(entry, name)) is not None:
                    problems.append(Problem(source, f"{where}.{key}", message))
                else:
                    table[key] = float(entry)
            changes[name] = table
        elif (message := _number_problem(value, name)) is not None:
            problems.append(Problem(source, where, message))
        else:
            changes[name] = float(value)
    if problems:
        raise ConfigError(problems)
    return base.with_changes(**changes)


def load_calibration_file(path: str | Path) -> CalibrationFile:
    """Read a calibration file; ConfigError lists every problem."""
    source = str(path)
    raw = read_yaml_mapping(path)
    try:
        doc = _Schema.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc, source, model=_Schema)) from None
    problems: list[Problem] = []
    if doc.format != FORMAT:
        problems.append(Problem(source, "format", f"must be {FORMAT!r}, got {doc.format!r}"))
    split = STANDARD_SPLIT
    try:
        split = parse_fit_split(doc.fit_split, source)
    except ConfigError as exc:
        problems += [Problem(source, "fit_split", p.message) for p in exc.problems]
    calibration = DEFAULT_CALIBRATION
    try:
        calibration = calibration_from_factors(doc.factors, source)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return CalibrationFile(calibration, doc.hardware, split, source, doc.measured)


def factors_of(calibration: Calibration, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of `calibration` as plain YAML values."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(calibration, name)
        out[name] = ({k: float(v) for k, v in value.items()} if isinstance(value, Mapping)
                     else float(value))
    return out


def calibration_file_text(calibration: Calibration, hardware: str, measured: str,
                          fit_split: FitSplit, factor_names: tuple[str, ...],
                          report: Mapping[str, Any]) -> str:
    """The YAML `dse calibrate` writes; `load_calibration_file` reads it back exactly."""
    document = {
        "format": FORMAT,
        "hardware": hardware,
        "measured": measured,
        "fit_split": str(fit_split),
        "factors": factors_of(calibration, factor_names),
        "report": dict(report),
    }
    header = ("# Written by `dse calibrate`. Factors of dse.core.calibration.Calibration "
              "(SI units);\n# the ones not named keep the shipped values. Use it with "
              "--calibration FILE or a\n# search space's `calibration:` key.\n")
    return header + yaml.safe_dump(document, sort_keys=False)
