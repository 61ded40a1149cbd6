"""A results folder of the shipped sram_vs_hbm space written by hand (the real results
writer, trial rows chosen by the test), for tests that need designs on both routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "search_spaces" / "sram_vs_hbm.yaml"
ROUTE_PARAMETER = "memory_route"
OBJECTIVES = [{"name": "score", "direction": "maximize", "unit": ""},
              {"name": "power_w", "direction": "minimize", "unit": "W"},
              {"name": "unit_cost_usd", "direction": "minimize", "unit": "USD"}]


def write_route_folder(folder: Path, writer: Any, trials: dict[str, list[Any]],
                       params: list[str]) -> Path:
    """Write `trials` (full trial columns) as an sram_vs_hbm results folder at `folder`."""
    data = writer.synthesize(1)
    data = type(data)(trials, {k: [] for k in data.evaluations}, {})
    out = writer.write_results(
        folder, data, parts=2, with_references=False, space_file=str(SPACE),
        parameters=[{"name": p, "unit": "",
                     "kind": "categorical" if p == ROUTE_PARAMETER else "int"}
                    for p in params],
        objectives=OBJECTIVES, constraints=[], references=[],
    )
    (out / "space.yaml").write_text(SPACE.read_text())
    return Path(out)
