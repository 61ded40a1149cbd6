"""Opening a results folder and querying its Parquet files with duckdb.

The folder layout is the search's contract, defined once in `dse.results.layout`
(metadata.json, space.yaml, trials/ and evaluations/ parts, references, manifest.jsonl;
the Optuna journal is not read here).

Only the files the manifest lists are read, each checked for size and checksum first
(`dse.results.verify`): a damaged committed part is a ConfigError naming it, a part the
manifest does not list (a copy) is ignored with a warning, and a folder without a
manifest (written before manifests) is read as found, with a warning. A search may still
be writing: everything here works on the parts committed at the moment of the call.

Every way a folder can be unusable (missing, empty, half-written, another format version,
an unreadable file) is a `ConfigError` naming the path and what to do, never a traceback.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from dse.errors import ConfigError, Problem
from dse.results.front import FrontCache, read_front
from dse.results.layout import FORMAT_VERSION, METADATA_FILE, SPACE_FILE, TRIALS_DIR
from dse.results.verify import committed_parts
from dse.results.writer import ResultsFolder


class ObjectiveInfo(BaseModel):
    # NOTE: extra="ignore" (not "forbid") because this file is written by the search, not
    # by a user: a newer writer may add a field compatibly without bumping format_version,
    # and a browser should still open it. Incompatible changes bump format_version.
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    direction: Literal["maximize", "minimize"]
    unit: str = ""


class ParameterInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    unit: str = ""
    kind: str = ""


class ResultsMetadata(BaseModel):
    """`metadata.json` of a results folder."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    format_version: int
    dse_version: str = ""
    space_file: str = ""
    space_sha256: str = ""
    seed: int | None = None
    sampler: str = ""
    trials_budget: int | None = None
    suite: str = ""
    objectives: tuple[ObjectiveInfo, ...]
    parameters: tuple[ParameterInfo, ...]
    constraints: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    started_at: str | None = None
    finished_at: str | None = None
    status: Literal["running", "finished", "failed"]
    manifest: str | None = None
    """`manifest.jsonl` in folders written since manifests (absent before)."""


@dataclass(frozen=True, slots=True)
class Results:
    """A results folder as found at one moment: its metadata and its complete Parquet parts."""

    root: Path
    metadata: ResultsMetadata
    trial_files: tuple[str, ...]
    evaluation_files: tuple[str, ...]
    references_file: str | None
    space_text: str | None
    notes: tuple[str, ...] = ()
    """Parts skipped (not in the manifest) or read unchecked (no manifest), one line each."""
    trial_numbers: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Smallest and largest trial number of each part (by path) the manifest records."""
    front: FrontCache | None = None
    """The front cache the search wrote at its end, while it still describes the folder."""

    def holding(self, numbers: Sequence[int]) -> Results:
        """The same folder with only the parts that can hold `numbers`: a reader of a few
        trials then opens a few parts, not every part of a million-trial search."""
        wanted = sorted(set(int(n) for n in numbers))

        def keep(paths: tuple[str, ...]) -> tuple[str, ...]:
            kept = []
            for path in paths:
                span = self.trial_numbers.get(path)
                index = bisect.bisect_left(wanted, span[0]) if span else 0
                if span is None or (index < len(wanted) and wanted[index] <= span[1]):
                    kept.append(path)
            return tuple(kept)

        return replace(self, trial_files=keep(self.trial_files),
                       evaluation_files=keep(self.evaluation_files))

    @property
    def objective_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.metadata.objectives)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.metadata.parameters)

    def objective(self, name: str) -> ObjectiveInfo:
        for info in self.metadata.objectives:
            if info.name == name:
                return info
        raise KeyError(name)


def open_results(path: str | os.PathLike[str]) -> Results:
    """Open a results folder written by `dse search`, or explain why it cannot be browsed.

    A URI (`s3://bucket/prefix?endpoint_override=…`) is read through a local mirror
    (`dse.results.mirror`), brought up to date on every open.
    """
    from dse.results.mirror import is_remote, local_mirror

    root = local_mirror(str(path)) if is_remote(path) else Path(path)
    source = str(path)
    if not root.exists():
        raise ConfigError(f"no such results folder (run `dse search ... --out {root}`)", source)
    if not root.is_dir():
        raise ConfigError("not a folder: give the results folder `dse search --out` wrote", source)
    metadata_path = root / METADATA_FILE
    if not metadata_path.is_file():
        if any(root.iterdir()):
            message = (
                "no metadata.json: not a dse results folder, or one written by a version of "
                f"dse older than results format {FORMAT_VERSION}"
            )
        else:
            message = "empty folder: no search has written results here yet"
        raise ConfigError(message, source)
    metadata = _read_metadata(metadata_path)
    folder = ResultsFolder.open(root)
    parts = committed_parts(folder, warn=False)  # the notes travel in Results.notes
    space_path = root / SPACE_FILE
    return Results(
        root=root,
        metadata=metadata,
        trial_files=tuple(folder.path(name) for name in parts.trials),
        # the reference chips' per-workload rows sit beside the trials' (trial_number < 0)
        evaluation_files=tuple(folder.path(name) for name in parts.evaluations)
        + ((folder.path(parts.reference_evaluations),) if parts.reference_evaluations else ()),
        references_file=folder.path(parts.references) if parts.references else None,
        space_text=space_path.read_text(encoding="utf-8") if space_path.is_file() else None,
        notes=parts.notes,
        trial_numbers={folder.path(name): span for name, span in parts.trial_numbers.items()},
        front=read_front(folder, folder.read_json(METADATA_FILE), parts.manifest_bytes),
    )


def _read_metadata(path: Path) -> ResultsMetadata:
    source = str(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", source) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"not valid JSON (half-written or damaged?): {exc.msg} at line {exc.lineno}", source
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError("must be a JSON object", source)
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError(
            [
                Problem(
                    source,
                    "format_version",
                    f"results format {version!r} is not the one this dse reads "
                    f"({FORMAT_VERSION}); browse it with the dse version that wrote it "
                    f"({raw.get('dse_version') or 'unknown'}) or rerun the search",
                )
            ]
        )
    try:
        return ResultsMetadata.model_validate(raw)
    except ValidationError as exc:
        from dse.config._problems import key_path

        problems = [
            Problem(source, key_path(tuple(err["loc"])), err["msg"]) for err in exc.errors()
        ]
        raise ConfigError(problems) from None


# --- duckdb -------------------------------------------------------------------------------


def _sql_list(paths: Sequence[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_trials_sql(results: Results, with_reference: bool) -> str:
    """A typed, empty `trials` relation for a search that has not finished a trial yet."""
    meta = results.metadata
    columns = [
        "CAST(NULL AS BIGINT) AS trial_number",
        "CAST(NULL AS VARCHAR) AS state",
        "CAST(NULL AS BOOLEAN) AS feasible",
        "CAST(NULL AS VARCHAR) AS infeasible_reason",
        "CAST(NULL AS VARCHAR) AS error",
    ]
    for param in meta.parameters:
        sql_type = "VARCHAR" if param.kind == "categorical" else "DOUBLE"
        columns.append(f"CAST(NULL AS {sql_type}) AS {quote_identifier('param_' + param.name)}")
    for objective in meta.objectives:
        columns.append(f"CAST(NULL AS DOUBLE) AS {quote_identifier('objective_' + objective.name)}")
    for constraint in meta.constraints:
        columns.append(f"CAST(NULL AS DOUBLE) AS {quote_identifier('constraint_' + constraint)}")
    columns.append("CAST(NULL AS TIMESTAMPTZ) AS evaluated_at")
    if with_reference:
        columns.append("CAST(NULL AS VARCHAR) AS reference")
    return "SELECT " + ", ".join(columns) + " WHERE false"


def connect(results: Results) -> duckdb.DuckDBPyConnection:
    """An in-memory duckdb connection with views `trials`, `evaluations` and `refs`.

    The views read exactly the parts that existed when `results` was opened, so a search
    writing new parts meanwhile cannot change the answer half-way through a query.
    """
    con = duckdb.connect(":memory:")
    try:
        if results.trial_files:
            con.execute(
                "CREATE VIEW trials AS SELECT * FROM read_parquet("
                f"{_sql_list(results.trial_files)}, union_by_name = true)"
            )
        else:
            con.execute("CREATE VIEW trials AS " + _empty_trials_sql(results, False))
        if results.evaluation_files:
            con.execute(
                "CREATE VIEW evaluations AS SELECT * FROM read_parquet("
                f"{_sql_list(results.evaluation_files)}, union_by_name = true)"
            )
        else:
            con.execute(
                "CREATE VIEW evaluations AS SELECT CAST(NULL AS BIGINT) AS trial_number, "
                "CAST(NULL AS VARCHAR) AS workload, CAST(NULL AS VARCHAR) AS evaluator, "
                "CAST(NULL AS BOOLEAN) AS feasible, CAST(NULL AS VARCHAR) AS infeasible_reason "
                "WHERE false"
            )
        if results.references_file:
            con.execute(
                "CREATE VIEW refs AS SELECT * FROM read_parquet("
                f"{_sql_list([results.references_file])})"
            )
        else:
            con.execute("CREATE VIEW refs AS " + _empty_trials_sql(results, True))
    except duckdb.Error as exc:
        con.close()
        raise unreadable(results, exc) from None
    return con


def register_numbers(con: duckdb.DuckDBPyConnection, name: str, numbers: Any) -> None:
    """Temporary table `name(n BIGINT)` holding `numbers` (trial numbers).

    # NOTE: not `con.register` of an Arrow table: duckdb imports pandas for that, about
    # 1 s of every browse command's start-up on the 2-core machine; a numpy array bound
    # as a query parameter does not.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_identifier(name)} AS "
        "SELECT unnest(?::BIGINT[]) AS n",
        [np.asarray(numbers, dtype=np.int64)],
    )


def unreadable(results: Results, exc: BaseException) -> ConfigError:
    """A ConfigError for a Parquet part duckdb could not read (damaged, not Parquet)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConfigError(
        f"cannot read the Parquet files: {text} (a part copied or written by hand?)",
        str(results.root),
    )


def run_query(
    results: Results, con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> duckdb.DuckDBPyConnection:
    """Execute `sql`, turning duckdb's file errors into a ConfigError about the folder."""
    try:
        return con.execute(sql, list(params))
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise unreadable(results, exc) from None


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Column names of a view, in order."""
    rows = con.execute(f"DESCRIBE {relation}").fetchall()
    return [str(row[0]) for row in rows]


def check_trial_columns(results: Results, columns: Sequence[str]) -> None:
    """Every column metadata.json promises must be in the trial parts."""
    present = set(columns)
    wanted = ["trial_number", "state", "feasible"]
    wanted += [f"objective_{name}" for name in results.objective_names]
    wanted += [f"param_{name}" for name in results.parameter_names]
    missing = [name for name in wanted if name not in present]
    if missing:
        raise ConfigError(
            [
                Problem(
                    str(results.root / TRIALS_DIR),
                    name,
                    "column missing from the trial Parquet files (written by another "
                    "version of dse?)",
                )
                for name in missing
            ]
        )


def hypervolume_references(results: Results) -> list[float | None]:
    """Each objective's `hypervolume_reference` from the results' space.yaml (None: unset).

    # NOTE: read leniently (plain YAML, no full space validation): the space file was
    # validated when the search started, and a browser must still open results whose
    # space file a later dse would reject. Anything unreadable means "unset", which is
    # what the search used when the key was absent.
    """
    given: dict[str, float | None] = {}
    try:
        document = yaml.safe_load(results.space_text or "") or {}
        for objective in document.get("objectives") or []:
            value = objective.get("hypervolume_reference")
            given[str(objective.get("name"))] = float(value) if value is not None else None
    except (yaml.YAMLError, AttributeError, TypeError, ValueError):
        given = {}
    return [given.get(name) for name in results.objective_names]


def band_columns(results: Results, columns: Sequence[str], names: Sequence[str],
                 con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """`objective_<name>_low`, `_high` (the error band, `dse.results.schema`) of the
    objectives `names` that have them; none in folders written before bands. With `con`,
    only those of objectives with a band in some trial (cost and power have none)."""
    present = set(columns) - {f"objective_{n}" for n in results.objective_names}
    names = [n for n in names if {f"objective_{n}_low", f"objective_{n}_high"} <= present]
    if con is not None and names:
        counts = run_query(results, con, "SELECT " + ", ".join(
            f"count(*) FILTER (WHERE isfinite({quote_identifier(f'objective_{n}_low')}))"
            for n in names) + " FROM trials").fetchall()[0]
        names = [n for n, count in zip(names, counts, strict=True) if count]
    return [f"objective_{name}_{end}" for name in names for end in ("low", "high")]


def derived_columns(results: Results, columns: Sequence[str]) -> list[str]:
    """`derived_*` columns to show, sorted, leaving out those that repeat an objective.

    # NOTE: a derived figure that is also an objective (unit_cost_usd is both when cost is
    # optimised) is shown once, as the objective, so no two headers read the same.
    """
    return sorted(
        c
        for c in columns
        if c.startswith("derived_") and c.removeprefix("derived_") not in results.objective_names
    )


def unit_of_column(results: Results, column: str) -> str:
    """The unit of a trial column, from metadata or from its name's unit suffix."""
    if column.startswith("objective_"):
        name = column.removeprefix("objective_")
        for objective in results.metadata.objectives:
            if name in (objective.name, f"{objective.name}_low", f"{objective.name}_high"):
                return objective.unit
    if column.startswith("param_"):
        name = column.removeprefix("param_")
        for param in results.metadata.parameters:
            if param.name == name:
                return param.unit
    return unit_from_name(column)


_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd", "USD"),
    ("_mm2", "mm²"),
    ("_m2", "m²"),
    ("_w", "W"),
    ("_j", "J"),
    ("_s", "s"),
    ("_bytes", "B"),
    ("_byte_per_s", "B/s"),
    ("_flop_per_s", "FLOP/s"),
    ("_per_s", "1/s"),
    ("_hz", "Hz"),
    ("_mib", "MiB"),
    ("_gib", "GiB"),
    ("_nm", "nm"),
)


_PER_THINGS = ("chip", "step", "request", "token", "output_token", "sample", "sequence")
_COUNTED = ("tokens", "output_tokens", "samples", "requests", "steps", "sequences",
            "queries", "images")


def _singular(thing: str) -> str:
    word = thing.split("_")[-1]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def unit_from_name(name: str) -> str:
    """House style puts the unit at the end of every name: `die_area_mm2` -> `mm²`,
    `kv_cache_bytes_per_chip` -> `B/chip`, `output_tokens_per_s_per_chip` ->
    `tokens/s/chip`, `energy_per_output_token_j` -> `J/token`, `batch` -> `count`."""
    # `..._per_<thing>` at the end divides whatever unit comes before it
    denominators: list[str] = []
    trimmed = name
    for prefix in ("metric_", "derived_", "objective_", "param_", "constraint_"):
        trimmed = trimmed.removeprefix(prefix)
    while True:
        for thing in sorted(_PER_THINGS, key=len, reverse=True):
            if trimmed.endswith(f"_per_{thing}"):
                denominators.insert(0, _singular(thing))
                trimmed = trimmed.removesuffix(f"_per_{thing}")
                break
        else:
            break
    unit = ""
    for counted in sorted(_COUNTED, key=len, reverse=True):
        if trimmed == f"{counted}_per_s" or trimmed.endswith(f"_{counted}_per_s"):
            unit = f"{_singular(counted)}s/s"
            break
    if not unit:
        for suffix, symbol in sorted(_UNIT_SUFFIXES, key=lambda item: -len(item[0])):
            if trimmed.endswith(suffix):
                unit = symbol
                # `energy_per_output_token_j`: the quantity is per something
                middle = trimmed.removesuffix(suffix)
                for thing in sorted(_PER_THINGS, key=len, reverse=True):
                    if middle.endswith(f"_per_{thing}"):
                        denominators.insert(0, _singular(thing))
                        break
                break
    if not unit and trimmed in _COUNTS:
        unit = _COUNTS[trimmed]
    if not unit and trimmed.endswith("_units"):  # compute_units, volume_units
        unit = "count"
    if not unit and denominators:
        unit = "1"
    return "/".join([unit, *denominators]) if unit else ""


_COUNTS = {"batch": "count", "micro_batch": "count", "clock_fraction": "fraction",
           "infeasible_workloads": "count", "chips": "count", "replicas": "count"}
"""Dimensionless metrics that carry no unit suffix, and what they count."""


def header(results: Results, column: str) -> str:
    """`objective_power_w` -> `power_w [W]`: the display name with its unit."""
    short = column
    for prefix in ("param_", "objective_", "derived_", "constraint_", "metric_"):
        if column.startswith(prefix):
            short = column.removeprefix(prefix)
            break
    unit = unit_of_column(results, column)
    return f"{short} [{unit}]" if unit else short


# --- distinct designs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesignGroups:
    """Trials grouped by the design they build (`dse.distinct`)."""

    trials: dict[int, tuple[int, ...]]
    """First trial number of each design -> every trial number that built it."""
    by_hardware: bool
    """True: grouped by built hardware; False: by identical parameters only (the space
    could not be rebuilt from the folder)."""
    note: str = ""

    @property
    def representatives(self) -> list[int]:
        return sorted(self.trials)

    def size(self) -> int:
        return len(self.trials)


_DESIGN_KEYS: dict[tuple[str, str], Any] = {}


def _design_keys(results: Results) -> Any:
    """The `DesignKeys` of this folder's space (cached per folder), or None with why."""
    cache_key = (str(results.root.resolve()), results.metadata.space_sha256)
    if cache_key not in _DESIGN_KEYS:
        from dse.browse.presets import results_space
        from dse.distinct import DesignKeys

        try:
            _DESIGN_KEYS[cache_key] = DesignKeys(results_space(results))
        except ConfigError as exc:
            _DESIGN_KEYS[cache_key] = "; ".join(
                f"{p.key_path}: {p.message}" if p.key_path else p.message
                for p in exc.problems[:3]
            ) + ("; ..." if len(exc.problems) > 3 else "")
    return _DESIGN_KEYS[cache_key]


def design_keys(
    results: Results, con: duckdb.DuckDBPyConnection, numbers: Sequence[int]
) -> tuple[dict[int, Any], str]:
    """Trial number -> key of the design it builds (`dse.distinct.DesignKeys.key`), for
    trials `numbers`, and a note when the space cannot be rebuilt from the folder (then
    the key is the parameters themselves)."""
    from dse.distinct import params_key

    wanted = [int(n) for n in numbers]
    if not wanted:
        return {}, ""
    register_numbers(con, "design_numbers", wanted)
    param_columns = [f"param_{name}" for name in results.parameter_names]
    selected = ", ".join(quote_identifier(c) for c in ["trial_number", *param_columns])
    try:
        rows = run_query(
            results, con,
            f"SELECT {selected} FROM trials WHERE trial_number IN (SELECT n FROM design_numbers)",
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS design_numbers")
    names = results.parameter_names  # a property that builds a tuple: once, not per row
    points = [(int(row[0]), dict(zip(names, row[1:], strict=True))) for row in rows]
    keys_of = _design_keys(results)
    if isinstance(keys_of, str):
        note = (f"designs told apart by their parameters only: the space cannot be rebuilt "
                f"({keys_of})")
        return {n: params_key(p) for n, p in points}, note
    return {n: keys_of.key(p) for n, p in points}, ""


def design_groups(
    results: Results, con: duckdb.DuckDBPyConnection, numbers: Sequence[int]
) -> DesignGroups:
    """Group trials `numbers` by the design they build: the one place the CLI, the search
    summary and the page count distinct designs.

    Trials that build the same hardware (the dimensions of a route not taken removed)
    are one design, shown as its first trial with the list of all of them. Where the
    space cannot be rebuilt from the folder (a folder without its input copies, moved
    away from its space file) trials group by identical parameters, and `note` says so.
    """
    from dse.distinct import group_by_design

    keys, note = design_keys(results, con, numbers)
    return DesignGroups(group_by_design(list(keys), list(keys.values())), not note, note)


def acting_parameters(results: Results, params: dict[str, Any]) -> tuple[str, ...] | None:
    """Parameters that act on the design `params` build (None: space not rebuildable)."""
    keys_of = _design_keys(results)
    if isinstance(keys_of, str):
        return None
    if any(name not in params for name in results.parameter_names):
        return None
    acting: tuple[str, ...] = keys_of.acting(params)
    return acting


def same_design_trials(
    results: Results, con: duckdb.DuckDBPyConnection, number: int, params: dict[str, Any],
    acting: Sequence[str],
) -> tuple[int, ...]:
    """Every trial that built the design trial `number` built (itself included), found
    among the trials with the same values of the parameters that act on it."""
    if not acting:
        return (int(number),)
    condition = " AND ".join(
        f"{quote_identifier('param_' + name)} IS NOT DISTINCT FROM ?" for name in acting
    )
    candidates = [
        int(row[0]) for row in run_query(
            results, con, f"SELECT trial_number FROM trials WHERE {condition}",
            [params[name] for name in acting],
        ).fetchall()
    ]
    keys, _note = design_keys(results, con, [*candidates, int(number)])
    own = keys.get(int(number))
    return tuple(sorted(n for n in candidates if keys.get(n) == own)) or (int(number),)

