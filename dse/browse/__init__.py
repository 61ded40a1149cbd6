"""Browsing search results: Pareto tables in the terminal, one design in full, and a web page.

Reads a results folder written by the search (layout in `dse.browse.results`) with duckdb,
never assumes the search has finished, and never imports optuna or ray.

Entry points:
- `open_results(path)` -> `Results` (metadata + file lists; raises ConfigError on a folder
  that is missing, empty, half-written or from another format version)
- `pareto_front(results, ...)` -> `ParetoTable` (the non-dominated feasible designs)
- `design_detail(results, trial_number, ...)` -> `DesignDetail` (what `dse show` prints)
- `build_page(results)` -> one self-contained HTML page; `serve(results, ...)` serves it.
"""

from __future__ import annotations

from dse.browse.detail import DesignDetail, design_detail, reference_detail
from dse.browse.pareto import (
    ParetoTable,
    convergence_history,
    non_dominated_mask,
    pareto_front,
)
from dse.browse.results import Results, open_results

__all__ = [
    "DesignDetail",
    "ParetoTable",
    "Results",
    "convergence_history",
    "design_detail",
    "non_dominated_mask",
    "open_results",
    "pareto_front",
    "reference_detail",
]
