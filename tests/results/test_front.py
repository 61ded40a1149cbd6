"""The front cache (dse.results.front) and the trial ranges the manifest records."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from dse.browse.detail import design_details
from dse.browse.pareto import pareto_front
from dse.browse.results import open_results
from dse.results import ResultsFolder
from dse.results.front import write_front
from dse.results.layout import FRONT_FILE
from dse.results.schema import metadata_document
from dse.search.evaluation import PointToEvaluate, evaluate_points
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def _search_folder(out: Path, parts: int = 3, per_part: int = 4):  # type: ignore[no-untyped-def]
    """A folder as a search writes it: metadata, then `parts` commits of real outcomes."""
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    folder = ResultsFolder.open(out)
    folder.makedirs()
    folder.start(space, metadata_document(
        space, dse_version="test", seed=0, sampler="async_nsga2",
        trials_budget=parts * per_part, started_at=datetime.now(UTC)))
    for p in range(parts):
        points = [
            PointToEvaluate(p * per_part + i, {"sram_capacity_mib": 32.0 * (1 + i + p),
                                               "hbm_stacks": 2 + (i + p) % 6,
                                               "compute_units": 66 + 20 * i + 11 * p})
            for i in range(per_part)
        ]
        folder.write_outcomes(space, evaluate_points(space, points))
    return space, folder


def test_manifest_records_each_parts_trial_numbers_and_show_reads_only_those(
    tmp_path: Path,
) -> None:
    _search_folder(tmp_path / "out")
    lines = (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[1:]
    spans = [
        entry["trials"] for line in lines
        for name, entry in json.loads(line)["commit"].items() if name.startswith("trials/")
    ]
    assert spans == [[0, 3], [4, 7], [8, 11]]
    results = open_results(tmp_path / "out")
    narrowed = results.holding([5])
    assert [Path(p).name for p in narrowed.trial_files] == [
        Path(results.trial_files[1]).name
    ]
    assert len(narrowed.evaluation_files) == 1 + (results.references_file is not None)
    # the details read through the narrowed parts are the same trial
    (detail,) = design_details(results, [5])
    assert detail.trial_number == 5


def test_the_cached_front_is_the_computed_front_until_the_folder_changes(
    tmp_path: Path,
) -> None:
    space, folder = _search_folder(tmp_path / "out")
    computed = pareto_front(open_results(tmp_path / "out"))
    assert open_results(tmp_path / "out").front is None  # no cache written yet
    numbers = [row[0] for row in computed.rows]
    assert computed.front_size >= 2
    entry = write_front(folder, numbers, [o.name for o in space.objectives],
                        computed.trials_feasible)
    folder.finish("finished", front=entry)

    results = open_results(tmp_path / "out")
    assert results.front is not None
    assert (results.front.rows, results.front.trials) == (len(numbers), 12)
    cached = pareto_front(results)
    assert cached.rows == computed.rows
    assert (cached.trials_total, cached.trials_feasible, cached.trials_matching,
            cached.front_size) == (computed.trials_total, computed.trials_feasible,
                                   computed.trials_matching, computed.front_size)
    # only the cache was read: without the parts the same table comes back
    assert pareto_front(dataclasses.replace(results, trial_files=())).rows == computed.rows

    # a cache edited by hand is not used
    cache = tmp_path / "out" / FRONT_FILE
    original = cache.read_bytes()
    cache.write_bytes(original + b"x")
    assert open_results(tmp_path / "out").front is None
    cache.write_bytes(original)
    assert open_results(tmp_path / "out").front is not None

    # nor once another commit lands (e.g. a --resume went on)
    more = [PointToEvaluate(12, {"sram_capacity_mib": 512.0, "hbm_stacks": 8,
                                 "compute_units": 198})]
    folder.write_outcomes(space, evaluate_points(space, more))
    results = open_results(tmp_path / "out")
    assert results.front is None
    assert pareto_front(results).trials_total == 13
