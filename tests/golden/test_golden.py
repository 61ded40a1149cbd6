"""The golden test: every shipped figure of every preset, pinned before a refactor.

`tests/golden/metrics.json` holds, at a relative tolerance of 1e-9, what every hardware
preset scores on every shipped suite (evaluators/suites/ and search_spaces/suites/), on
every document of dse/data/examples/models.yaml and on dse/data/examples/kernels.yaml
(per operator and in total), under the shipped calibration: about ten thousand figures,
covering every evaluator, every `bound_by` value and every memory route (SRAM, HBM, DDR,
host transfers, collectives). The whole set is computed here, not a subset: it costs a
few seconds of CPU (4 s measured on the 2-core CI-like machine).

A refactor that must not change any figure (issue 10) passes this test unchanged. When a
change is meant to move figures (a new preset number, a modelling fix), re-pin:

    python scripts/regen_golden.py            # rewrites tests/golden/metrics.json
    python scripts/regen_golden.py --check    # lists what moved, without writing

and say in the commit that re-pins which figures moved and why: every re-pin must be
explained in its commit.
"""

from __future__ import annotations

from pathlib import Path

from tests.script_module import load_script

ROOT = Path(__file__).resolve().parents[2]


GOLDEN = load_script("regen_golden", ROOT / "scripts/regen_golden.py")


def test_every_shipped_figure_is_as_pinned() -> None:
    moved = GOLDEN.differences(GOLDEN.read(), GOLDEN.golden_metrics())
    assert not moved, (
        f"{len(moved)} pinned figures moved; if meant, run python scripts/regen_golden.py "
        "and explain the re-pin in its commit:\n" + "\n".join(moved[:40]))


def test_the_pin_covers_every_preset_suite_and_example() -> None:
    from dse.config import list_presets
    from evaluators import load_model_workloads

    pinned = GOLDEN.read()
    assert sorted(pinned) == list_presets()
    cases = {key.split("/", 1)[0] for row in pinned.values() for key in row}
    suites = {GOLDEN.suite_label(p) for p in GOLDEN.suite_files()}
    models = {f"models:{w.name}" for w in load_model_workloads(GOLDEN.MODELS_EXAMPLE)}
    assert cases == suites | models | {"kernels"}
    # every evaluator and every bound appears somewhere in what is pinned
    values = {v for row in pinned.values() for v in row.values() if isinstance(v, str)}
    from dse.core import BOUND_NAMES
    from evaluators.registry import EVALUATORS

    bounds = {key.rsplit("/", 1)[1] for row in pinned.values() for key, v in row.items()
              if "/time_by_bound_s/" in key and isinstance(v, float) and v > 0}
    assert set(BOUND_NAMES) <= bounds | values
    evaluated = {key.split("/")[1] for row in pinned.values() for key in row
                 if key.startswith(("suite:", "models:"))}
    assert len(evaluated) > len(EVALUATORS)


def test_the_comparison_catches_a_move_past_the_tolerance(tmp_path: Path) -> None:
    pinned = {"chip": {"suite:x/score": 1.5, "suite:x/w/bound": "hbm", "kernels/0/t": 2e-3}}
    path = tmp_path / "metrics.json"
    GOLDEN.write(pinned, path)
    assert GOLDEN.read(path) == pinned
    assert GOLDEN.differences(pinned, {"chip": {**pinned["chip"],
                                                "suite:x/score": 1.5 * (1 + 1e-11)}}) == []
    moved = GOLDEN.differences(pinned, {"chip": {**pinned["chip"],
                                                 "suite:x/score": 1.5 * (1 + 1e-8),
                                                 "suite:x/w/bound": "sram"}})
    assert moved == ["chip: suite:x/score: 1.5 -> 1.500000015",
                     "chip: suite:x/w/bound: 'hbm' -> 'sram'"]
    gone = GOLDEN.differences(pinned, {"chip": {"suite:x/score": 1.5, "kernels/0/t": 2e-3}})
    assert gone == ["chip: suite:x/w/bound: gone (was 'hbm')"]
