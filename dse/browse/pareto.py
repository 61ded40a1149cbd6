"""The non-dominated feasible designs of a results folder, and how the front grew.

Objectives are compared by their declared direction (`maximize` / `minimize` in
metadata.json). A design is on the front when it is feasible, all its objectives are
finite, and no other such design is at least as good in every objective and strictly
better in one. Designs with identical objective vectors are all kept: they are distinct
designs that nothing dominates. Trials that build the same hardware are one design
(`dse.browse.results.design_groups`): the front lists it once, as its first trial, with
every trial that built it.

The non-domination filter and the hypervolume are the search's (`dse.search.pareto`);
this module adds what browsing needs on top: a pre-filter for a million trials, the
front as a sorted table, and the history of the front as trials accumulate.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import moocore
import numpy as np

from dse.browse.results import (
    Results,
    _design_keys,
    band_columns,
    check_trial_columns,
    columns_of,
    connect,
    derived_columns,
    design_groups,
    design_keys,
    header,
    quote_identifier,
    register_numbers,
    run_query,
)
from dse.errors import ConfigError, Problem
from dse.search.pareto import (
    default_reference,
    default_scale,
    hypervolume,
    pareto_mask,
    to_minimisation,
)

FEASIBLE_SQL = "state = 'complete' AND feasible"
"""A finished trial whose design satisfied every constraint."""


def inert_parameters(
    results: Results, points: Sequence[Mapping[str, Any]]
) -> list[frozenset[str]] | None:
    """For each sampled point, the parameters that do not act on the design it builds
    (`ddr_channels` on an HBM-route design of `sram_vs_hbm.yaml`); None when the space
    cannot be rebuilt from the folder.

    # NOTE: `DesignKeys.acting` moves every parameter and rebuilds each neighbour
    # (0.31 s for the 400 trials of a `dse search sram_vs_hbm.yaml --trials 400` folder;
    # `design_details` quotes about 25 ms a trial), which adds up on a 2,000-row
    # importance sample or a long front. Which parameters act is decided by the route:
    # the `remove:` paths a point's values select, and its categorical values (a route
    # switch, or a branch of an expression). It is worked out once per distinct route
    # (the first point seen) and reused for every point of that route: 29 ms for those
    # 400 trials (2 routes), the same sets as moving every parameter on all 400. A
    # numeric parameter that acts only on one side of a numeric threshold inside an
    # expression would be judged by the route's first point; the shipped spaces'
    # expressions branch on categorical parameters only.
    """
    from dse.distinct import _plain
    from dse.search.expressions import ExpressionError

    keys_of = _design_keys(results)
    if isinstance(keys_of, str):
        return None
    space = keys_of.space
    names = tuple(results.parameter_names)
    categorical = [n for n, spec in space.parameters.items() if spec.kind == "categorical"]
    by_route: dict[tuple[Any, ...], frozenset[str]] = {}
    inert: list[frozenset[str]] = []
    for point in points:
        if any(point.get(n) is None for n in names) or set(names) != set(space.parameters):
            inert.append(frozenset())
            continue
        params = {n: _plain(point[n]) for n in names}
        try:
            namespace = space.values(params)
            removed: tuple[str, ...] | None = tuple(sorted(
                path for path, condition in space.remove_conditions.items()
                if condition.evaluate(namespace)
            ))
        except (ExpressionError, KeyError, TypeError, ValueError, ZeroDivisionError):
            removed = None  # does not build: nothing to tell apart
        route = (removed, tuple(params[n] for n in categorical))
        if route not in by_route:
            by_route[route] = (frozenset() if removed is None
                               else frozenset(names) - set(keys_of.acting(params)))
        inert.append(by_route[route])
    return inert


def _blank_inert(
    results: Results, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """`rows` with the values of parameters that do not act on each row's design as
    None: a table prints '-', CSV an empty cell, JSON null (the value is whatever the
    sampler drew for a dimension the design does not have)."""
    where = {c.removeprefix("param_"): i for i, c in enumerate(columns) if c.startswith("param_")}
    if not rows or not where:
        return list(rows)
    inert = inert_parameters(
        results, [{n: row[i] for n, i in where.items()} for row in rows]
    )
    if inert is None:
        return list(rows)
    blanked = []
    for row, names in zip(rows, inert, strict=True):
        cells = list(row)
        for name in names:
            if name in where:
                cells[where[name]] = None
        blanked.append(tuple(cells))
    return blanked


def non_dominated_mask(
    values: np.ndarray, directions: Sequence[str], prefilter_above: int = 20_000
) -> np.ndarray:
    """Boolean mask of the rows of `values` (designs x objectives) that nothing dominates.

    The filter itself is the search's (`dse.search.pareto.pareto_mask`: non-finite rows
    never win, ties are all kept). Above `prefilter_above` rows, rows strictly dominated
    by a few pivot designs are dropped first (exact: a pivot is a real design), so the
    full filter sees a few percent of a million trials.
    """
    points = np.asarray(values, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != len(directions):
        raise ValueError(f"values must be (n, {len(directions)}), got shape {points.shape}")
    mask = np.zeros(points.shape[0], dtype=bool)
    finite = np.flatnonzero(np.isfinite(points).all(axis=1))
    if finite.size == 0:
        return mask
    candidates = finite
    if finite.size > prefilter_above:
        # NOTE: moocore alone takes about 0.3 s on 1,000,000 correlated 3-objective
        # trials; the pre-filter brings it to under 0.1 s, which keeps `dse pareto` near
        # a second at that size (benchmarks/pareto_million.py).
        minimised = to_minimisation(points[finite], directions)
        candidates = finite[_drop_dominated_by_pivots(minimised)]
    mask[candidates[pareto_mask(points[candidates], directions)]] = True
    return mask


def _drop_dominated_by_pivots(minimised: np.ndarray, sample_size: int = 4_096,
                              pivots: int = 32) -> np.ndarray:
    """Indices of rows not strictly dominated by any pivot (front designs of a sample)."""
    sample = minimised[np.linspace(0, len(minimised) - 1, sample_size).astype(np.int64)]
    front = sample[moocore.is_nondominated(sample, keep_weakly=True)][:1024]
    # Greedy cover of the sample: each pivot is the front design that strictly dominates
    # the most sample rows not yet dominated, so the candidate set shrinks fastest. (On
    # correlated objectives, as a cost model gives, the designs nearest the ideal corner
    # each dominate only a thin slice.)
    covers = np.stack([(sample >= f).all(axis=1) & (sample > f).any(axis=1) for f in front])
    uncovered = np.ones(len(sample), dtype=bool)
    picked: list[int] = []
    for _ in range(pivots):
        gains = (covers & uncovered).sum(axis=1)
        best = int(np.argmax(gains))
        if gains[best] == 0:
            break
        picked.append(best)
        uncovered &= ~covers[best]
    candidates = np.arange(len(minimised))
    columns = [np.ascontiguousarray(minimised[:, j]) for j in range(minimised.shape[1])]
    for pivot in front[picked]:
        # Column by column: numpy's reductions along a short axis 1 are several times slower.
        no_better = np.ones(candidates.size, dtype=bool)
        worse = np.zeros(candidates.size, dtype=bool)
        for column, bound in zip(columns, pivot, strict=True):
            no_better &= column >= bound
            worse |= column > bound
        keep = ~(no_better & worse)
        candidates = candidates[keep]
        columns = [column[keep] for column in columns]
    return candidates


@dataclass(frozen=True, slots=True)
class HypervolumeFrame:
    """Reference point and scale of the hypervolume, as `dse search` fixes them."""

    reference: tuple[float, ...]
    scale: tuple[float, ...]


def hypervolume_frame(
    directions: Sequence[str],
    reference_values: np.ndarray,
    given: Sequence[float | None],
    fallback_values: np.ndarray,
) -> HypervolumeFrame:
    """The search's frame: from the reference chips' objectives and the space file's
    `hypervolume_reference`s (`dse.search.pareto.default_reference` / `default_scale`).

    Without reference chips the feasible trials stand in for them, so the volume is
    still positive and comparable along one history.
    """
    # NOTE: using the search's own reference point and scale makes the page's final
    # hypervolume the number `dse search` printed for the same folder, instead of a
    # second, differently normalised figure.
    values = reference_values
    if not np.isfinite(values).all(axis=1).any():
        values = fallback_values
    point = default_reference(values, directions, given)
    return HypervolumeFrame(tuple(point), tuple(default_scale(values, directions, point)))


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """The front after the first `trials` finished trials (by trial number)."""

    trials: int
    feasible: int
    front_size: int
    hypervolume: float


def convergence_history(
    trial_numbers: np.ndarray,
    values: np.ndarray,
    feasible: np.ndarray,
    directions: Sequence[str],
    frame: HypervolumeFrame,
    checkpoints: int = 100,
    count_designs: Callable[[np.ndarray], Callable[[np.ndarray], int]] | None = None,
) -> list[HistoryPoint]:
    """Front size and hypervolume as trials accumulate, at up to `checkpoints` points.

    `values` are the objectives of every finished trial (non-feasible rows are ignored).
    `count_designs(every trial number ever on the front)` returns a counter of the
    distinct designs among some of them (`designs_counter`); without it every trial
    counts.
    The front is grown incrementally: at each checkpoint only the previous front and the
    new trials are filtered, so a million trials costs little more than one filter.
    """
    order = np.argsort(trial_numbers, kind="stable")
    sorted_numbers = np.asarray(trial_numbers, dtype=np.int64)[order]
    values = np.asarray(values, dtype=np.float64)[order]
    usable = np.asarray(feasible, dtype=bool)[order] & np.isfinite(values).all(axis=1)
    total = values.shape[0]
    if total == 0:
        return []
    ends = np.unique(np.linspace(0, total, min(checkpoints, total) + 1).astype(np.int64)[1:])
    history: list[HistoryPoint] = []
    front = np.empty((0, values.shape[1]))
    front_numbers = np.empty(0, dtype=np.int64)
    fronts: list[np.ndarray] = []
    start = 0
    feasible_so_far = 0
    for end in ends:
        batch = values[start:end][usable[start:end]]
        feasible_so_far += batch.shape[0]
        candidates = np.vstack([front, batch])
        candidate_numbers = np.concatenate(
            [front_numbers, sorted_numbers[start:end][usable[start:end]]]
        )
        # NOTE: the filter without non_dominated_mask's pivot pre-filter: here most
        # candidates are the previous front, which no pivot dominates, so the pre-filter
        # only added work (60 of the 80 s `dse report` took on a million trials whose
        # front is 136,000 designs, cProfile); moocore alone takes ~12 ms a checkpoint.
        kept = pareto_mask(candidates, directions)
        front, front_numbers = candidates[kept], candidate_numbers[kept]
        fronts.append(front_numbers)
        history.append(
            HistoryPoint(
                trials=int(end),
                feasible=feasible_so_far,
                front_size=int(front.shape[0]),
                hypervolume=hypervolume(front, directions, frame.reference, frame.scale),
            )
        )
        start = int(end)
    if count_designs is not None and fronts:
        count = count_designs(np.unique(np.concatenate(fronts)))
        history = [
            dataclasses.replace(point, front_size=count(numbers))
            for point, numbers in zip(history, fronts, strict=True)
        ]
    return history


def designs_counter(results: Results) -> Callable[[np.ndarray], Callable[[np.ndarray], int]]:
    """`count_designs` for `convergence_history`: given every trial number that is ever
    on the front, a counter of distinct designs among some of them, as `design_groups`
    counts (their keys looked up in one query)."""

    def prepare(all_numbers: np.ndarray) -> Callable[[np.ndarray], int]:
        con = connect(results)
        try:
            keys, _note = design_keys(results, con, all_numbers.tolist())
        finally:
            con.close()

        # NOTE: each trial's design as a small integer, once, so a checkpoint counts
        # distinct designs with numpy: `group_by_design` per checkpoint (a Python sort
        # and dict of every front trial) took 41 of `dse report`'s 73 s on a million
        # trials with a 136,000-design front (cProfile). Same count: a None key is a
        # design of its own, equal keys are one design.
        ids: dict[Any, int] = {}
        numbers_sorted = np.unique(np.asarray(all_numbers, dtype=np.int64))
        design_ids = np.asarray([
            ids.setdefault(("trial", n) if (key := keys.get(n)) is None else key, len(ids))
            for n in numbers_sorted.tolist()
        ], dtype=np.int64)

        def count(numbers: np.ndarray) -> int:
            where = np.searchsorted(numbers_sorted, np.asarray(numbers, dtype=np.int64))
            seen = np.zeros(len(ids), dtype=bool)
            seen[design_ids[where]] = True
            return int(np.count_nonzero(seen))

        return count

    return prepare


# --- the front as a table ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParetoTable:
    """The front, sorted best-first by the objectives in the order asked for."""

    columns: tuple[str, ...]
    """trial_number (the design's first trial), trials (every trial that built it), then
    Parquet column names: param_*, objective_*, derived_*."""
    headers: tuple[str, ...]
    """Display names with units, one per column: `power_w [W]`."""
    rows: tuple[tuple[Any, ...], ...]
    objectives: tuple[str, ...]
    """Objective names the front was computed over."""
    trials_total: int
    trials_feasible: int
    trials_matching: int
    """Feasible trials that passed `--where` (all feasible ones when there is no filter)."""
    front_size: int
    """Distinct designs on the whole front, before `--top`."""
    status: str
    notes: tuple[str, ...] = ()

    def select(self, names: Sequence[str]) -> ParetoTable:
        """Only the columns `names` (bare names such as `sram_mib`, or column names such
        as `param_sram_mib`), in that order, after `trial_number`."""
        bare: dict[str, int] = {}
        for i, column in enumerate(self.columns):
            bare.setdefault(column, i)
        for i, column in enumerate(self.columns):
            for prefix in ("objective_", "param_", "derived_", "constraint_"):
                if column.startswith(prefix):
                    bare.setdefault(column.removeprefix(prefix), i)
        unknown = [name for name in names if name not in bare]
        if unknown:
            known = ", ".join(c.removeprefix("objective_").removeprefix("param_")
                              .removeprefix("derived_") for c in self.columns)
            raise ConfigError([Problem("--columns", name, f"no such column; columns: {known}")
                               for name in unknown])
        picked = list(dict.fromkeys([0, *(bare[name] for name in names)]))
        return dataclasses.replace(
            self,
            columns=tuple(self.columns[i] for i in picked),
            headers=tuple(self.headers[i] for i in picked),
            rows=tuple(tuple(row[i] for i in picked) for row in self.rows),
        )

    def records(self) -> list[dict[str, Any]]:
        """One dict per row, keyed by column name (what `--format json` prints)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def choose_objectives(results: Results, objectives: Sequence[str] | None) -> tuple[str, ...]:
    """Validate `--objectives` against metadata; default to all objectives."""
    known = results.objective_names
    if not objectives:
        return known
    unknown = [name for name in objectives if name not in known]
    if unknown:
        raise ConfigError(
            [
                Problem("--objectives", name, f"no such objective; known: {', '.join(known)}")
                for name in unknown
            ]
        )
    return tuple(dict.fromkeys(objectives))


def _parse_tree(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    return tree


def _shape(tree: dict[str, Any]) -> tuple[Any, ...]:
    """What a one-statement SELECT has besides its WHERE expression (clauses, their kind)."""
    statements = tree.get("statements") or []
    if len(statements) != 1:
        return ("statements", len(statements))
    node = statements[0].get("node") or {}
    return tuple(
        sorted((key, json.dumps(value, sort_keys=True) if key != "where_clause" else "")
               for key, value in node.items() if value not in (None, [], {}))
    )


def _check_single_condition(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """`--where` must be one boolean expression: nothing that ends the WHERE clause early
    (`1=1) OR (1=1`), adds a clause (UNION, ORDER BY, LIMIT, GROUP BY, ...) or a statement.

    # NOTE: the clause is parsed by duckdb's own parser (json_serialize_sql) in the WHERE
    # of a probe query, and the probe must have exactly the shape it has with `true` there;
    # a hand-written tokenizer would have to know every quoting rule duckdb has.
    """
    tree = _parse_tree(con, f"SELECT * FROM designs WHERE {where}")
    if tree.get("error"):
        message = str(tree.get("error_message") or "cannot be parsed").splitlines()[0]
        raise ConfigError([Problem("--where", "", f"not a condition: {message}")])
    if _shape(tree) != _shape(_parse_tree(con, "SELECT * FROM designs WHERE true")):
        raise ConfigError([Problem(
            "--where", "", "must be one condition over trial columns; it reaches outside "
            "its WHERE clause (an unmatched parenthesis, UNION, ORDER BY, LIMIT, GROUP BY, "
            "a second statement, ...)"
        )])


def _filtered_view(
    results: Results, con: duckdb.DuckDBPyConnection, where: str | None
) -> tuple[str, list[str]]:
    """A view `designs` over trials with bare-name aliases (`sram_mib` for `param_sram_mib`).

    Returns the WHERE clause to use on it and the trial columns.
    """
    columns = columns_of(con, "trials")
    check_trial_columns(results, columns)
    aliases: dict[str, list[str]] = {}
    for prefix in ("param_", "objective_", "derived_", "constraint_"):
        for column in columns:
            if column.startswith(prefix):
                aliases.setdefault(column.removeprefix(prefix), []).append(column)
    # NOTE: a bare name (`sram_mib` for `param_sram_mib`) is never offered when it is
    # already a column. When several prefixes share it, the first of param_, objective_,
    # derived_, constraint_ wins: the search stores suite figures such as power_w both as
    # an objective and as a derived value (the same number), and `power_w < 600` should
    # work; the prefixed names are always there to be explicit.
    extra = [
        f"{quote_identifier(full[0])} AS {quote_identifier(short)}"
        for short, full in aliases.items()
        if short not in columns
    ]
    select = ", ".join(["*", *extra])
    con.execute(f"CREATE OR REPLACE TEMP VIEW designs AS SELECT {select} FROM trials")
    condition = FEASIBLE_SQL
    if where and where.strip():
        _check_single_condition(con, where)
        # NOTE: newlines around the clause, so a trailing `-- comment` cannot swallow
        # the closing parenthesis.
        condition = f"({FEASIBLE_SQL}) AND (\n{where}\n)"
        try:
            con.execute(f"SELECT count(*) FROM designs WHERE {condition} LIMIT 0").fetchall()
        except (duckdb.ParserException, duckdb.BinderException,
                duckdb.ConversionException) as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise ConfigError(
                [
                    Problem(
                        "--where",
                        "",
                        f"{first_line}; columns: {', '.join(columns_of(con, 'designs'))}",
                    )
                ]
            ) from None
    return condition, columns


def _pick_trials(results: Results, con: duckdb.DuckDBPyConnection, condition: str) -> None:
    """Table `picked_trials(n)`: the trial numbers `condition` (with --where) selects."""
    try:
        numbers = run_query(
            results, con, f"SELECT trial_number FROM designs WHERE {condition}"
        ).fetchnumpy()["trial_number"]
    except duckdb.Error as exc:
        raise ConfigError([Problem("--where", "", str(exc).splitlines()[0])]) from None
    register_numbers(con, "picked_trials", numbers)


def pareto_front(
    results: Results,
    objectives: Sequence[str] | None = None,
    where: str | None = None,
    top: int | None = None,
) -> ParetoTable:
    """The non-dominated feasible designs of `results`, best-first.

    `where` is a SQL boolean expression over trial columns (`param_*`, `objective_*`,
    `derived_*`, or their bare names when unambiguous); `top` keeps the first N rows.
    """
    chosen = choose_objectives(results, objectives)
    directions = [results.objective(name).direction for name in chosen]
    # NOTE: the front over every objective without --where is the one the search cached
    # at its end (dse.results.front): its rows alone hold that front, so only they are
    # read (a million-trial folder: one small file instead of ~300 parts).
    cache = results.front if (
        not (where and where.strip()) and set(chosen) == set(results.objective_names)
    ) else None
    whole = results
    if cache is not None:
        results = replace(results, trial_files=(cache.path,))
    con = connect(results)
    try:
        condition, columns = _filtered_view(results, con, where)
        objective_columns = [f"objective_{name}" for name in chosen]
        selected = ", ".join(quote_identifier(c) for c in ["trial_number", *objective_columns])
        picked = ""
        if condition != FEASIBLE_SQL:
            _pick_trials(results, con, condition)
            picked = " AND trial_number IN (SELECT n FROM picked_trials)"
        # NOTE: the user's clause only ever picks trial numbers (`_pick_trials`); the
        # front is computed from the feasible rows among them by a query without the
        # user's text, so no clause can bring an infeasible or failed trial onto it.
        arrays = run_query(
            results, con, f"SELECT {selected} FROM trials WHERE {FEASIBLE_SQL}{picked}"
        ).fetchnumpy()
        numbers = np.asarray(arrays["trial_number"], dtype=np.int64)
        values = (
            np.column_stack(
                [np.asarray(arrays[c], dtype=np.float64) for c in objective_columns]
            )
            if numbers.size
            else np.empty((0, len(chosen)))
        )
        # the cache holds the front and nothing else: no design there dominates another
        mask = (np.ones(numbers.size, dtype=bool) if cache is not None
                else non_dominated_mask(values, directions))
        groups = design_groups(results, con, numbers[mask].tolist())
        front_numbers = np.asarray(groups.representatives, dtype=np.int64)
        counts = run_query(
            results,
            con,
            f"SELECT count(*), count(*) FILTER (WHERE {FEASIBLE_SQL}) FROM trials",
        ).fetchall()[0]
        trials_total, trials_feasible = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        matching = int(numbers.size)
        if cache is not None:
            trials_total, trials_feasible = cache.trials, cache.feasible
            matching = cache.feasible
            results = whole

        # objectives first (the answer), then their bands, the parameters, derived figures
        shown = ["trial_number", *objective_columns]
        shown += [f"objective_{n}" for n in results.objective_names if n not in chosen]
        shown += band_columns(results, columns, [*chosen, *(n for n in results.objective_names
                                                           if n not in chosen)], con)
        shown += [f"param_{name}" for name in results.parameter_names]
        shown += derived_columns(results, columns)
        order = ", ".join(
            f"{quote_identifier('objective_' + name)} "
            f"{'DESC' if results.objective(name).direction == 'maximize' else 'ASC'}"
            for name in chosen
        )
        register_numbers(con, "front_numbers", front_numbers)
        limit = f" LIMIT {int(top)}" if top is not None and top >= 0 else ""
        rows = run_query(
            results,
            con,
            f"SELECT {', '.join(quote_identifier(c) for c in shown)} FROM trials "
            f"WHERE trial_number IN (SELECT n FROM front_numbers) "
            f"ORDER BY {order}, trial_number{limit}",
        ).fetchall()
    finally:
        con.close()
    return ParetoTable(
        columns=("trial_number", "trials", *shown[1:]),
        headers=("trial_number", "trials", *(header(results, c) for c in shown[1:])),
        rows=tuple((row[0], groups.trials[int(row[0])], *row[1:])
                   for row in _blank_inert(results, shown, rows)),
        objectives=chosen,
        trials_total=trials_total,
        trials_feasible=trials_feasible,
        trials_matching=matching,
        front_size=groups.size(),
        status=results.metadata.status,
        notes=(groups.note,) if groups.note else (),
    )
