"""Search-space files: YAML -> a checked `SearchSpace` -> one `Hardware` per sampled point.

A search-space file names a base design (a preset or a hardware YAML file), the
parameters that vary, named constants (each with its source), derived quantities and
budgets, how parameters and derived values map onto fields of the hardware YAML form
(dotted paths such as `sram.capacity_mib`), sections or keys to remove under a
condition, constraints and objectives, the workload suite, the sampler, the budget and
the seed. Expressions use the small language of `dse.search.expressions`.

`load_space(path)` reports every problem of the file at once (ConfigError with key
paths) and never starts anything. Optuna distributions are built from the parameters
in `dse.search.study`; this module imports neither optuna nor ray.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import keyword
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dse.config import hardware_from_dict, hardware_to_dict, load_hardware
from dse.config._problems import closest, problems_from_validation_error
from dse.config._types import Count, Flag, Number
from dse.config._yaml import parse_yaml_mapping, read_yaml_text
from dse.config.calibration_file import load_calibration_file
from dse.core.calibration import Calibration
from dse.errors import ConfigError, Problem
from dse.hardware import Hardware
from dse.search.expressions import Expression, ExpressionError, Value

SPACE_FORMAT_VERSION = 1

SamplerName = Literal["async_nsga2", "nsga2", "nsga3", "tpe", "gp", "random", "grid"]
"""The samplers a space may name (`dse.search.study` builds each)."""

SUITE_METRICS: Mapping[str, str] = {
    "score": "throughput on the suite relative to its reference chip (1.0 = reference)",
    "power_w": "weighted mean power per chip over the suite's workloads, W",
    "unit_cost_usd": "cost of one chip at the space's volume: manufacturing_cost_usd + "
    "nre_per_unit_usd (dse.core.economics), USD",
    "manufacturing_cost_usd": "making one chip: good dies, memory, packaging; no NRE, USD",
    "nre_per_unit_usd": "design cost (NRE) spread over economics.volume_units chips, USD",
    "nre_usd": "design cost (NRE) of the chip's process node, USD",
    "volume_units": "chips the NRE is spread over (economics.volume_units), count",
    "die_area_mm2": "die area of the design (dse.core.economics), mm^2",
    "infeasible_workloads": "number of workloads in the suite the design cannot run",
}
"""Names every objective and constraint expression may read once a design is evaluated.
Also available: `workloads.<workload>.<metric>` (any evaluator metric, workload names
with characters other than letters, digits and `_` replaced by `_`) and
`mean.<metric>` (mean over the feasible workloads)."""

_METRIC_PREFIXES = ("workloads.", "mean.", "base.")

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

ScalarChoice = str | int | float | bool

SPACE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A space's name is a folder name under `results/` (the default `--out`): no path
separators and no leading dot, so `../../tmp/x` cannot send results elsewhere."""
MAX_CHOICES = 1_000
MAX_GRID_POINTS = 100_000
"""Most points a grid search may have. NOTE: Optuna's GridSampler materialises every
combination in memory when it is built; 10^5 points of a few parameters is tens of
MB, while a grid of 10^12 points (one int axis from 0 to 10^12) grew memory by
~400 MB/s until the machine gave out."""
MAX_POINTS_PER_FLOAT = 1_000


class ParameterSpec(BaseModel):
    """One dimension of the search space."""

    model_config = _STRICT

    kind: Literal["float", "int", "categorical"]
    unit: str = Field(description="unit of the value, e.g. MiB, MHz, count, nm, '-'")
    low: Number | None = None
    high: Number | None = None
    step: Number | None = Field(default=None, gt=0)
    log: Flag = False
    choices: list[ScalarChoice] | None = Field(default=None, max_length=MAX_CHOICES)
    description: str = ""

    @model_validator(mode="after")
    def _check_kind(self) -> ParameterSpec:
        if self.kind == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty `choices` list")
            if self.low is not None or self.high is not None or self.step is not None:
                raise ValueError("a categorical parameter takes `choices`, not low/high/step")
            if self.log:
                raise ValueError("a categorical parameter cannot be `log`")
            if len(set(map(repr, self.choices))) != len(self.choices):
                raise ValueError("`choices` has duplicates")
            return self
        if self.choices is not None:
            raise ValueError(f"a {self.kind} parameter takes low/high, not `choices`")
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.kind} parameter needs `low` and `high`")
        if not self.low < self.high:
            raise ValueError(f"`low` ({self.low}) must be below `high` ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a `log` parameter needs `low` > 0")
        if self.log and self.step is not None:
            raise ValueError("`log` and `step` cannot be combined")
        if self.kind == "int":
            for key, value in (("low", self.low), ("high", self.high), ("step", self.step)):
                if value is not None and not float(value).is_integer():
                    raise ValueError(f"`{key}` of an int parameter must be a whole number")
        return self

    def cardinality(self) -> float:
        """Number of distinct values (math.inf for a continuous float)."""
        if self.kind == "categorical":
            assert self.choices is not None
            return float(len(self.choices))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = self.step or 1.0
            return float(math.floor((self.high - self.low) / step) + 1)
        if self.step is not None:
            return float(math.floor((self.high - self.low) / self.step + 1e-9) + 1)
        return math.inf

    def grid_values(self, points_per_float: int) -> list[ScalarChoice]:
        """The values a grid sampler visits; continuous floats get `points_per_float` points."""
        if self.kind == "categorical":
            assert self.choices is not None
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int" or self.step is not None:
            step = self.step or 1.0
            count = int(self.cardinality())
            values: list[ScalarChoice] = [self.low + i * step for i in range(count)]
            return [int(v) for v in values] if self.kind == "int" else values
        if self.log:
            ratio = (self.high / self.low) ** (1.0 / max(points_per_float - 1, 1))
            return [self.low * ratio**i for i in range(points_per_float)]
        width = (self.high - self.low) / max(points_per_float - 1, 1)
        return [self.low + i * width for i in range(points_per_float)]

    def midpoint(self) -> ScalarChoice:
        if self.kind == "categorical":
            assert self.choices is not None
            return self.choices[len(self.choices) // 2]
        assert self.low is not None and self.high is not None
        middle = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
        if self.kind == "int":
            step = self.step or 1.0
            return int(self.low + round((middle - self.low) / step) * step)
        if self.step is not None:
            return self.low + round((middle - self.low) / self.step) * self.step
        return middle


class ConstantSpec(BaseModel):
    """A named number with its source, so expressions carry no unexplained figures."""

    model_config = _STRICT

    value: float | int | str | bool
    unit: str = ""
    source: str = Field(min_length=1, description="where the figure comes from")


class ConstraintSpec(BaseModel):
    """`expression <= max` and/or `expression >= min`; violations are recorded, not raised."""

    model_config = _STRICT

    expression: str | Number
    max: Number | None = None
    min: Number | None = None
    unit: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _one_bound(self) -> ConstraintSpec:
        if self.max is None and self.min is None:
            raise ValueError("a constraint needs `max`, `min` or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(
                f"`min` ({self.min:g}) is above `max` ({self.max:g}): no design can meet it"
            )
        return self


class ObjectiveSpec(BaseModel):
    """One objective of the multi-objective search."""

    model_config = _STRICT

    name: str
    expression: str | None = Field(default=None, description="defaults to `name`")
    direction: Literal["maximize", "minimize"]
    unit: str = ""
    hypervolume_reference: Number | None = Field(
        default=None,
        description="worst value counted in the hypervolume; default: from the references",
    )


class EconomicsSpec(BaseModel):
    """How the space's chips are costed."""

    model_config = _STRICT

    volume_units: str | Number = Field(
        description="chips made of a design, over which its NRE is amortised: a number, or "
        "an expression over parameters, constants and derived values (default: "
        "tco.default_volume of dse/data/economics.yaml, 10,000)",
    )


class SamplerSpec(BaseModel):
    model_config = _STRICT

    name: SamplerName = "async_nsga2"
    settings: dict[str, Any] = Field(default_factory=dict)


class BudgetSpec(BaseModel):
    model_config = _STRICT

    trials: Count = Field(
        ge=1, le=10_000_000, description="finished trials (complete or failed) to reach"
    )
    batch_size: Count = Field(
        default=64, ge=1, le=100_000, description="trials asked from Optuna at once"
    )
    designs_per_task: Count = Field(
        default=16, ge=1, le=100_000,
        description="designs one Ray task evaluates as a vectorised batch",
    )


class SpaceFile(BaseModel):
    """The whole search-space YAML document."""

    model_config = _STRICT

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        if not re.fullmatch(SPACE_NAME_PATTERN, name):
            raise ValueError(
                "must be 1-100 letters, digits, '.', '-' or '_', starting with a letter or "
                "digit (it names the results folder results/<name>)"
            )
        return name

    format_version: Literal[1] = 1
    name: str = Field(
        description="letters, digits, '.', '-', '_' (results go to results/<name> by default)",
    )
    description: str = ""
    base: str = Field(min_length=1, description="hardware preset name or YAML file path")
    suite: str = Field(min_length=1, description="workload suite the designs are scored on")
    seed: Count = Field(default=0, ge=0, le=2**32 - 1, description="0 to 2**32 - 1 (numpy)")
    budget: BudgetSpec
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    constants: dict[str, ConstantSpec] = Field(default_factory=dict)
    derived: dict[str, str | bool | Number] = Field(default_factory=dict)
    hardware: dict[str, str | float | bool] = Field(
        default_factory=dict, description="dotted path in the hardware YAML form -> expression"
    )
    remove: dict[str, str | bool] = Field(
        default_factory=dict, description="dotted path -> condition; removed when true"
    )
    constraints: dict[str, ConstraintSpec] = Field(default_factory=dict)
    objectives: list[ObjectiveSpec] = Field(min_length=1)
    references: list[str] = Field(
        default_factory=list, description="preset names evaluated beside the search"
    )
    calibration: str | None = Field(
        default=None, description="calibration file written by `dse calibrate` (relative to "
        "this file); every design of the search, references included, is evaluated with it"
    )
    economics: EconomicsSpec | None = Field(
        default=None, description="costing: the volume NRE is amortised over"
    )


# --------------------------------------------------------------------------------------
# Compiled space


@dataclass(frozen=True, slots=True)
class BuiltDesign:
    """One sampled point turned into hardware, or the reasons it could not be."""

    hardware: Hardware | None
    values: Mapping[str, Value]
    """Parameters, constants and derived quantities by name."""
    derived: Mapping[str, float]
    infeasible_reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """A checked search-space file, ready to build designs. Picklable (crosses to workers)."""

    spec: SpaceFile
    suite: str
    """The suite to evaluate on: a shipped suite's name or an absolute path."""
    source: str
    directory: str
    """Folder that relative paths in the file (base, references, suite) are read from."""
    text: str
    sha256: str
    base_hardware: Mapping[str, Any]
    """The base design in the hardware YAML form (`hardware_to_dict`)."""
    base_names: Mapping[str, Value]
    """`base.<dotted path>` -> value for every scalar of the base design."""
    derived_expressions: Mapping[str, Expression]
    hardware_expressions: Mapping[str, Expression]
    remove_conditions: Mapping[str, Expression]
    constraint_expressions: Mapping[str, Expression]
    objective_expressions: Mapping[str, Expression]
    calibration: Calibration | None = None
    """The file's `calibration:` (frozen; travels to workers with the space); None: the
    shipped calibration."""
    volume_expression: Expression | None = None
    """`economics.volume_units`; None: the economics file's default volume."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameters(self) -> Mapping[str, ParameterSpec]:
        return self.spec.parameters

    @property
    def objectives(self) -> list[ObjectiveSpec]:
        return self.spec.objectives

    @property
    def constraints(self) -> Mapping[str, ConstraintSpec]:
        return self.spec.constraints

    def reference_designs(self) -> list[tuple[str, Hardware]]:
        """The reference chips the file lists, by name, loaded (presets or files)."""
        return [
            (name, load_hardware(_resolve_base(name, Path(self.directory))))
            for name in self.spec.references
        ]

    def cardinality(self) -> float:
        total = 1.0
        for parameter in self.spec.parameters.values():
            total *= parameter.cardinality()
        return total

    def midpoint(self) -> dict[str, ScalarChoice]:
        return {name: p.midpoint() for name, p in self.spec.parameters.items()}

    def volume_units(self, values: Mapping[str, Value]) -> float | None:
        """Chips the design's NRE is amortised over (None: the economics default)."""
        if self.volume_expression is None:
            return None
        return float(self.volume_expression.evaluate(values))

    def values(self, params: Mapping[str, Any]) -> dict[str, Value]:
        """Parameters, constants, base values and derived quantities for one point."""
        namespace: dict[str, Value] = dict(self.base_names)
        for name, constant in self.spec.constants.items():
            namespace[name] = constant.value
        for name in self.spec.parameters:
            namespace[name] = params[name]
        for name, expression in self.derived_expressions.items():
            namespace[name] = expression.evaluate(namespace)
        return namespace

    def hardware_dict(self, namespace: Mapping[str, Value]) -> dict[str, Any]:
        """The base design's YAML form with the space's assignments and removals applied."""
        document = copy.deepcopy(dict(self.base_hardware))
        for path, expression in self.hardware_expressions.items():
            _set_path(document, path, expression.evaluate(namespace))
        for path, condition in self.remove_conditions.items():
            if condition.evaluate(namespace):
                _remove_path(document, path)
        return document

    def build(self, params: Mapping[str, Any], design_name: str) -> BuiltDesign:
        """The hardware for one point; unbuildable points come back with reasons, not raised."""
        try:
            namespace = self.values(params)
        except ExpressionError as exc:
            return BuiltDesign(None, dict(params), {}, (f"derived: {exc}",))
        derived = {
            name: float(value)
            for name in self.spec.derived
            if isinstance(value := namespace[name], int | float)
        }
        own_values = {k: v for k, v in namespace.items() if not k.startswith("base.")}
        try:
            document = self.hardware_dict(namespace)
        except ExpressionError as exc:
            return BuiltDesign(None, own_values, derived, (f"hardware: {exc}",))
        document["name"] = design_name
        try:
            hardware = hardware_from_dict(document, source=design_name)
        except ConfigError as exc:
            reasons = tuple(
                f"{p.key_path}: {p.message}" if p.key_path else p.message for p in exc.problems
            )
            return BuiltDesign(None, own_values, derived, reasons)
        return BuiltDesign(hardware, own_values, derived, ())


def _set_path(document: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _remove_path(document: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    node: Any = document
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def _flatten(document: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Value]]:
    for key, value in document.items():
        path = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, path)
        elif isinstance(value, int | float | str | bool):
            yield path, value


def _leaf_paths(document: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every dotted path of `document`, sections and leaves (`hbm`, `hbm.stacks`, ...)."""
    paths = []
    for key, value in document.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, f"{path}."))
    return paths


def _path_exists(document: Mapping[str, Any], path: str) -> bool:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


# NOTE: cached: every evaluated design names every metric of every workload it ran
# (about 150 calls per design on whole_chip.yaml) and the same few hundred names recur:
# caching took evaluate_points there from 9.26 to 8.75 ms of CPU per design (batches of
# 64, one run on the 2-core machine).
@functools.lru_cache(maxsize=4096)
def sanitize_name(name: str) -> str:
    """A workload or metric name as an expression identifier (`gpt3-175b` -> `gpt3_175b`)."""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


_RESERVED = frozenset({"base", "workloads", "mean", *SUITE_METRICS})


def _check_identifier(name: str, section: str, problems: list[Problem], source: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        problems.append(
            Problem(source, f"{section}.{name}", "must be a name of letters, digits and _")
        )
    elif name in _RESERVED:
        problems.append(Problem(source, f"{section}.{name}", "is a reserved name"))


def _resolve_base(base: str, space_dir: Path) -> str:
    if base.endswith((".yaml", ".yml")) or "/" in base:
        candidate = Path(base)
        if not candidate.is_absolute():
            candidate = space_dir / candidate
        return str(candidate)
    return base


def _compile(
    text: Any, key_path: str, known: set[str], problems: list[Problem], source: str,
    allow_metrics: bool = False,
) -> Expression | None:
    try:
        expression = Expression.parse(text)
    except ExpressionError as exc:
        problems.append(Problem(source, key_path, str(exc)))
        return None
    for name in sorted(expression.names):
        if name in known or (name.startswith("base.") and name in known):
            continue
        if allow_metrics and (name in SUITE_METRICS or name.startswith(("workloads.", "mean."))):
            continue
        names = [*known, *SUITE_METRICS] if allow_metrics else known
        close = closest(name, names)
        hint = f"; did you mean {close!r}?" if close else ""
        problems.append(Problem(source, key_path, f"unknown name {name!r} in {str(text)!r}{hint}"))
    return expression


def space_from_text(text: str, source: str, space_dir: Path | None = None) -> SearchSpace:
    """Check a search-space document; every problem is reported at once as a ConfigError."""
    document = parse_yaml_mapping(text, source)
    try:
        spec = SpaceFile.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc, source, model=SpaceFile)) from None
    problems: list[Problem] = []
    space_dir = space_dir or Path(source).parent

    base_hardware: dict[str, Any] = {}
    try:
        base_hardware = hardware_to_dict(load_hardware(_resolve_base(spec.base, space_dir)))
    except ConfigError as exc:
        for problem in exc.problems:
            where = f"{problem.source}: {problem.key_path}" if problem.key_path else problem.source
            problems.append(Problem(source, "base", f"{where}: {problem.message}"))
    base_names = dict(_flatten(base_hardware, "base"))

    for index, reference in enumerate(spec.references):
        try:
            load_hardware(_resolve_base(reference, space_dir))
        except ConfigError as exc:
            problems.append(Problem(source, f"references[{index}]", exc.problems[0].message))

    seen: dict[str, str] = {}
    for section, names in (
        ("parameters", spec.parameters),
        ("constants", spec.constants),
        ("derived", spec.derived),
    ):
        for name in names:
            _check_identifier(name, section, problems, source)
            if name in seen:
                problems.append(
                    Problem(source, f"{section}.{name}", f"also defined in {seen[name]}")
                )
            seen[name] = section

    known: set[str] = set(base_names) | set(spec.parameters) | set(spec.constants)
    derived_expressions: dict[str, Expression] = {}
    for name, text_value in spec.derived.items():
        expression = _compile(text_value, f"derived.{name}", known, problems, source)
        if expression is not None:
            derived_expressions[name] = expression
        known.add(name)  # later derived quantities may use earlier ones

    hardware_expressions: dict[str, Expression] = {}
    for path, text_value in spec.hardware.items():
        key = f"hardware.{path}"
        if path in ("name", "description") or not all(p.isidentifier() for p in path.split(".")):
            problems.append(Problem(source, key, "must be a dotted path to a hardware field"))
            continue
        expression = _compile(text_value, key, known, problems, source)
        if expression is not None:
            hardware_expressions[path] = expression

    remove_conditions: dict[str, Expression] = {}
    for path, text_value in spec.remove.items():
        key = f"remove.{path}"
        if base_hardware and not (_path_exists(base_hardware, path) or path in spec.hardware):
            fields = [*_leaf_paths(base_hardware), *spec.hardware]
            close = closest(path, fields)
            hint = f"; did you mean {close!r}?" if close else ""
            problems.append(
                Problem(source, key, f"not a field of the base design nor set here{hint}"))
        expression = _compile(text_value, key, known, problems, source)
        if expression is not None:
            remove_conditions[path] = expression

    constraint_expressions: dict[str, Expression] = {}
    for name, constraint in spec.constraints.items():
        _check_identifier(name, "constraints", problems, source)
        expression = _compile(
            constraint.expression, f"constraints.{name}.expression", known, problems, source,
            allow_metrics=True,
        )
        if expression is not None:
            constraint_expressions[name] = expression

    objective_expressions: dict[str, Expression] = {}
    for index, objective in enumerate(spec.objectives):
        key = f"objectives[{index}]"
        if not objective.name.isidentifier():
            problems.append(Problem(source, f"{key}.name", "must be a name of letters, digits, _"))
        if objective.name in objective_expressions:
            problems.append(Problem(source, f"{key}.name", "duplicate objective name"))
        expression = _compile(
            objective.expression or objective.name, f"{key}.expression", known, problems,
            source, allow_metrics=True,
        )
        if expression is not None:
            objective_expressions[objective.name] = expression

    volume_expression = None
    if spec.economics is not None:
        volume_expression = _compile(
            spec.economics.volume_units, "economics.volume_units", known, problems, source
        )
        volume = spec.economics.volume_units
        if isinstance(volume, int | float) and not isinstance(volume, bool) and volume < 1:
            problems.append(Problem(source, "economics.volume_units",
                                    f"must be at least 1 chip, got {volume:g}"))

    calibration = None
    if spec.calibration is not None:
        try:
            calibration = load_calibration_file(
                _resolve_relative(spec.calibration, space_dir)).calibration
        except ConfigError as exc:
            problems.extend(Problem(source, "calibration", str(p)) for p in exc.problems)

    from dse.space_checks import sampler_problems, structural_problems, suite_problems

    problems.extend(sampler_problems(spec, source))
    suite = _resolve_suite(spec.suite, space_dir)
    problems.extend(suite_problems(suite, base_hardware, objective_expressions,
                                   constraint_expressions, spec, source))

    if problems:
        raise ConfigError(problems)

    space = SearchSpace(
        spec=spec,
        suite=suite,
        source=source,
        directory=str(space_dir),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        base_hardware=base_hardware,
        base_names=base_names,
        derived_expressions=derived_expressions,
        hardware_expressions=hardware_expressions,
        remove_conditions=remove_conditions,
        constraint_expressions=constraint_expressions,
        objective_expressions=objective_expressions,
        calibration=calibration,
        volume_expression=volume_expression,
    )
    structural = structural_problems(space)
    if structural:
        raise ConfigError(structural)
    return space


def _resolve_relative(path: str, space_dir: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else (space_dir / candidate).resolve()


def _resolve_suite(suite: str, space_dir: Path) -> str:
    if suite.endswith((".yaml", ".yml")) or "/" in suite:
        candidate = Path(suite)
        return str(candidate if candidate.is_absolute() else (space_dir / candidate).resolve())
    return suite


def load_space(path: str | Path) -> SearchSpace:
    """Read and check the search-space file at `path`, as `dse space check` and `dse search` do.

    Beyond `space_from_text`, it builds the sampler and evaluates the base design, the
    references and three points of the space once (`dse.space_checks.searchable_problems`):
    a space no search could use is refused before Ray starts.
    """
    from dse.space_checks import searchable_problems

    space = space_from_text(read_yaml_text(path), str(path), Path(path).resolve().parent)
    problems = searchable_problems(space)
    if problems:
        raise ConfigError(problems)
    return space


@dataclass(frozen=True, slots=True)
class ParameterSummary:
    name: str
    kind: str
    unit: str
    domain: str
    cardinality: float
    maps_to: tuple[str, ...]
    """Hardware paths (and derived quantities) whose expressions read this parameter."""


def summarise(space: SearchSpace) -> list[ParameterSummary]:
    """What each parameter is and where it ends up in the hardware, for `dse space check`."""
    derived_readers: dict[str, set[str]] = {}
    for name, expression in space.derived_expressions.items():
        for used in expression.names:
            derived_readers.setdefault(used, set()).add(name)

    def reaches(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        targets = {name}
        for derived in derived_readers.get(name, ()):
            if derived not in seen:
                targets |= reaches(derived, seen | {name})
        return targets

    summaries = []
    for name, parameter in space.parameters.items():
        names = reaches(name)
        paths = sorted(
            path
            for path, expression in space.hardware_expressions.items()
            if expression.names & names
        )
        removes = sorted(
            f"remove {path}"
            for path, expression in space.remove_conditions.items()
            if expression.names & names
        )
        via = sorted(n for n in names if n != name)
        if parameter.kind == "categorical":
            domain = "{" + ", ".join(map(str, parameter.choices or [])) + "}"
        else:
            domain = f"[{parameter.low:g}, {parameter.high:g}]"
            if parameter.step:
                domain += f" step {parameter.step:g}"
            if parameter.log:
                domain += " log"
        summaries.append(
            ParameterSummary(
                name=name,
                kind=parameter.kind,
                unit=parameter.unit,
                domain=domain,
                cardinality=parameter.cardinality(),
                maps_to=tuple(paths + removes + [f"derived {d}" for d in via]),
            )
        )
    return summaries


def points_iter(space: SearchSpace, points_per_float: int) -> Iterator[dict[str, ScalarChoice]]:
    """Every grid point (dense reference samples, the grid sampler)."""
    import itertools

    names = list(space.parameters)
    axes: Sequence[list[ScalarChoice]] = [
        space.parameters[n].grid_values(points_per_float) for n in names
    ]
    for combination in itertools.product(*axes):
        yield dict(zip(names, combination, strict=True))
