"""The front `dse pareto` reports against a brute-force non-dominated filter over Parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest

from dse.browse.pareto import (
    convergence_history,
    hypervolume_frame,
    non_dominated_mask,
    pareto_front,
)
from dse.browse.results import open_results
from dse.errors import ConfigError
from dse.search.pareto import default_reference, default_scale, hypervolume


def brute_force_front(values: np.ndarray, maximise: list[bool]) -> np.ndarray:
    """O(n^2) definition: nothing at least as good everywhere and better somewhere."""
    signs = np.where(maximise, 1.0, -1.0)
    better = values * signs  # larger is better in every column now
    n = len(better)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        at_least = (better >= better[i]).all(axis=1)
        strictly = (better > better[i]).any(axis=1)
        keep[i] = not (at_least & strictly).any()
    return keep


def read_feasible(root: Path) -> dict[str, np.ndarray]:
    table = ds.dataset(root / "trials", format="parquet").to_table()
    frame = table.to_pandas()
    frame = frame[(frame["state"] == "complete") & frame["feasible"]]
    return {c: frame[c].to_numpy() for c in frame.columns}


OBJECTIVES = ["throughput_score", "power_w", "unit_cost_usd"]
MAXIMISE = [True, False, False]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_front_matches_brute_force_over_the_parquet_rows(tmp_path, writer, seed):
    root = writer.write_results(tmp_path / "r", writer.synthesize(400, seed=seed), parts=4)
    rows = read_feasible(root)
    values = np.column_stack([rows[f"objective_{o}"] for o in OBJECTIVES])
    expected = set(rows["trial_number"][brute_force_front(values, MAXIMISE)].tolist())

    table = pareto_front(open_results(root))

    got = [record["trial_number"] for record in table.records()]
    assert set(got) == expected
    assert len(got) == len(expected) == table.front_size
    assert table.trials_total == 400
    assert table.trials_feasible == len(rows["trial_number"])


def test_two_objective_front_is_sorted_best_first_and_matches_brute_force(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(500, seed=4))
    rows = read_feasible(root)
    values = np.column_stack([rows["objective_throughput_score"], rows["objective_power_w"]])
    expected = set(rows["trial_number"][brute_force_front(values, [True, False])].tolist())

    table = pareto_front(open_results(root), objectives=["throughput_score", "power_w"])

    records = table.records()
    assert {r["trial_number"] for r in records} == expected
    throughput = [r["objective_throughput_score"] for r in records]
    power = [r["objective_power_w"] for r in records]
    assert throughput == sorted(throughput, reverse=True)
    # On a two-objective front, better throughput must cost more power.
    assert power == sorted(power, reverse=True)


def test_where_filters_before_the_front_is_computed(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(400, seed=5))
    rows = read_feasible(root)
    small = rows["param_sram_mib"] < 300
    values = np.column_stack([rows[f"objective_{o}"][small] for o in OBJECTIVES])
    expected = set(rows["trial_number"][small][brute_force_front(values, MAXIMISE)].tolist())

    bare = pareto_front(open_results(root), where="sram_mib < 300")
    prefixed = pareto_front(open_results(root), where="param_sram_mib < 300")

    assert {r["trial_number"] for r in bare.records()} == expected
    assert bare.records() == prefixed.records()
    assert bare.trials_matching == int(small.sum())
    assert all(r["param_sram_mib"] < 300 for r in bare.records())


ESCAPE = (
    "--where: must be one condition over trial columns; it reaches outside its WHERE "
    "clause (an unmatched parenthesis, UNION, ORDER BY, LIMIT, GROUP BY, a second "
    "statement, ...)"
)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("1=1) OR (1=1", '--where: not a condition: syntax error at or near ")"'),
        ("true) OR (NOT feasible", '--where: not a condition: syntax error at or near ")"'),
        ("1=1 UNION ALL SELECT * FROM trials", ESCAPE),
        ("1=1 ORDER BY trial_number", ESCAPE),
        ("1=1 LIMIT 1", ESCAPE),
        ("1=1 GROUP BY trial_number", ESCAPE),
        ("1=1 QUALIFY true", ESCAPE),
        ("1=1; SELECT 1", ESCAPE),
        ("1=1; CREATE OR REPLACE VIEW designs AS SELECT * FROM trials",
         "--where: not a condition: Only SELECT statements can be serialized to json!"),
        ("sram_mib > 1 /* unclosed", '--where: not a condition: unterminated /* comment '
                                     'at or near "/* unclosed"'),
    ],
)
def test_where_cannot_escape_its_clause(small_results, where, message):
    with pytest.raises(ConfigError) as refused:
        pareto_front(open_results(small_results), where=where)
    assert [str(p) for p in refused.value.problems] == [message]


def test_where_only_narrows_the_feasible_set(small_results, small_data):
    """Clauses that would match infeasible and failed trials still give a feasible front."""
    results = open_results(small_results)
    feasible = {n for n, ok, state in zip(small_data.trials["trial_number"],
                                          small_data.trials["feasible"],
                                          small_data.trials["state"], strict=True)
                if ok and state == "complete"}
    assert len(feasible) < len(small_data.trials["trial_number"])  # some are not
    full = pareto_front(results)
    for where in ["true", "NOT feasible OR true", "feasible = false OR state = 'failed' OR 1=1",
                  "trial_number IN (SELECT trial_number FROM trials)",
                  "sram_mib > 0 -- a trailing comment"]:
        table = pareto_front(results, where=where)
        numbers = {r["trial_number"] for r in table.records()}
        assert numbers <= feasible
        assert table.rows == full.rows and table.trials_matching == len(feasible)
    assert pareto_front(results, where="NOT feasible").rows == ()


def test_top_keeps_the_first_rows_and_reports_the_whole_front_size(small_results):
    full = pareto_front(open_results(small_results))
    top = pareto_front(open_results(small_results), top=3)
    assert top.rows == full.rows[:3]
    assert top.front_size == full.front_size > 3


def test_bad_objective_and_bad_where_name_the_problem(small_results):
    results = open_results(small_results)
    with pytest.raises(ConfigError) as unknown:
        pareto_front(results, objectives=["throughput_score", "latency_s"])
    assert "latency_s" in str(unknown.value) and "power_w" in str(unknown.value)
    with pytest.raises(ConfigError) as bad_where:
        pareto_front(results, where="no_such_column > 1")
    assert "--where" in str(bad_where.value) and "param_sram_mib" in str(bad_where.value)


def test_ties_are_all_kept_and_non_finite_rows_never_win():
    values = np.array([[1.0, 1.0], [1.0, 1.0], [0.5, 2.0], [0.4, 2.0], [np.nan, 0.0]])
    mask = non_dominated_mask(values, ["maximize", "maximize"])
    assert mask.tolist() == [True, True, True, False, False]
    assert brute_force_front(values[:4], [True, True]).tolist() == mask[:4].tolist()


def test_random_fronts_agree_with_brute_force_in_mixed_directions():
    rng = np.random.default_rng(11)
    for k in (2, 3, 4):
        values = rng.integers(0, 6, (300, k)).astype(float)  # many ties
        maximise = [bool(i % 2) for i in range(k)]
        directions = ["maximize" if m else "minimize" for m in maximise]
        assert (non_dominated_mask(values, directions) == brute_force_front(values, maximise)).all()


def test_hypervolume_frame_follows_the_search():
    """The page's frame is the one `dse search` fixes from the same reference chips."""
    directions = ["maximize", "minimize"]
    chips = np.array([[1.0, 400.0], [2.0, 700.0]])
    frame = hypervolume_frame(directions, chips, [None, None], np.empty((0, 2)))
    expected = default_reference(chips, directions, [None, None])
    assert frame.reference == tuple(expected)
    assert frame.scale == tuple(default_scale(chips, directions, expected))
    assert frame.reference[0] == 0.0 and frame.reference[1] > 700.0  # worse than every chip
    # A space file's hypervolume_reference wins over the chips.
    given = hypervolume_frame(directions, chips, [None, 1000.0], np.empty((0, 2)))
    assert given.reference == (0.0, 1000.0)
    # No reference chips: the feasible trials stand in for them.
    alone = hypervolume_frame(directions, np.empty((0, 2)), [None, None], chips)
    assert alone == frame


def test_convergence_history_grows_to_the_final_front(small_results):
    results = open_results(small_results)
    rows = ds.dataset(small_results / "trials", format="parquet").to_table().to_pandas()
    values = rows[[f"objective_{o}" for o in OBJECTIVES]].to_numpy()
    usable = ((rows["state"] == "complete") & rows["feasible"]).to_numpy()

    directions = ["maximize", "minimize", "minimize"]
    frame = hypervolume_frame(directions, values[usable], [None] * 3, values[usable])
    history = convergence_history(
        rows["trial_number"].to_numpy(), values, usable, directions, frame, 20
    )

    assert len(history) == 20
    assert history[-1].trials == len(rows)
    assert history[-1].feasible == int(usable.sum())
    assert history[-1].front_size == pareto_front(results).front_size
    volumes = [p.hypervolume for p in history]
    assert volumes == sorted(volumes)  # adding trials never shrinks the dominated volume
    assert volumes[-1] > 0
    front = values[usable][non_dominated_mask(values[usable], directions)]
    assert volumes[-1] == pytest.approx(
        hypervolume(front, directions, frame.reference, frame.scale)
    )


def test_pivot_prefilter_gives_the_same_front():
    rng = np.random.default_rng(12)
    for k in (2, 3, 4):
        values = np.vstack([rng.random((3000, k)), rng.integers(0, 4, (500, k)) / 4.0])
        values[rng.random(len(values)) < 0.01, 0] = np.nan
        directions = ["maximize" if i % 2 else "minimize" for i in range(k)]
        plain = non_dominated_mask(values, directions, prefilter_above=10**9)
        filtered = non_dominated_mask(values, directions, prefilter_above=0)
        assert (plain == filtered).all()
        assert plain.sum() > 0
    small = rng.random((400, 3))
    assert (non_dominated_mask(small, ["maximize"] * 3, prefilter_above=0)
            == brute_force_front(small, [True] * 3)).all()
