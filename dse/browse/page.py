"""The results page: one HTML file, plotly.js and the data inlined or served beside it.

`dse report` writes it self-contained (`standalone=True`: plotly.js, every front design's
breakdown up to `MAX_FRONT_DETAILS` and the parameter importance inlined; it opens from
disk). `dse browse` serves a light page (`standalone=False`): plotly.js comes from
`/assets/plotly-<version>.min.js`, which the browser caches across reloads, breakdowns come
from `/api/trial/N` when clicked, and the importance from `/api/importance` after the
plots are drawn, so none of them delays first paint. Rebuilt on every load, so a running
search shows its latest trials.

What it embeds, to stay small on a million-trial result set:
- every design on the front (up to `MAX_FRONT_POINTS`);
- an evenly spaced sample of dominated feasible designs and of infeasible designs
  (greyed in the plots; in the table under "all designs");
- the reference chips, the convergence history, metadata.json and space.yaml.
Designs go column by column (one list per column), not as one object per design, which
halves the JSON.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import asdict
from importlib import resources
from typing import Any

import numpy as np

from dse.browse.detail import design_details, reference_details, reference_names
from dse.browse.importance import importance_for, log_parameters
from dse.browse.pareto import (
    FEASIBLE_SQL,
    convergence_history,
    designs_counter,
    hypervolume_frame,
    non_dominated_mask,
)
from dse.browse.results import (
    Results,
    band_columns,
    check_trial_columns,
    columns_of,
    connect,
    derived_columns,
    design_groups,
    header,
    hypervolume_references,
    quote_identifier,
    register_numbers,
    run_query,
)

MAX_FRONT_POINTS = 20_000
MAX_FRONT_DETAILS = 2_000
MAX_DOMINATED_POINTS = 4_000
MAX_INFEASIBLE_POINTS = 1_000
# NOTE: these caps keep the page under ~10 MB and plotly responsive (SVG scatter slows
# past ~10k markers per plot); the front is never sampled below 20k designs, and the
# greyed background is a sample because only its shape matters there.


def _evenly(indices: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` of `indices`, evenly spaced (deterministic, keeps early and late)."""
    if indices.size <= limit:
        return indices
    picks = np.linspace(0, indices.size - 1, limit).round().astype(np.int64)
    return indices[np.unique(picks)]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def page_data(results: Results, *, embed_details: bool = True) -> dict[str, Any]:
    """Everything the page draws, as JSON-ready data.

    `embed_details`: include the breakdowns of the first `MAX_FRONT_DETAILS` front designs
    (a report file needs them; a served page fetches them from `/api/trial/N`).
    """
    meta = results.metadata
    objective_columns = [f"objective_{name}" for name in results.objective_names]
    directions = [o.direction for o in meta.objectives]
    con = connect(results)
    try:
        columns = columns_of(con, "trials")
        check_trial_columns(results, columns)
        selected = ", ".join(quote_identifier(c) for c in ["trial_number", *objective_columns])
        arrays = run_query(
            results,
            con,
            f"SELECT {selected}, ({FEASIBLE_SQL}) AS usable FROM trials ORDER BY trial_number",
        ).fetchnumpy()
        numbers = np.asarray(arrays["trial_number"], dtype=np.int64)
        values = (
            np.column_stack([np.asarray(arrays[c], dtype=np.float64) for c in objective_columns])
            if numbers.size
            else np.empty((0, len(objective_columns)))
        )
        usable = np.asarray(arrays["usable"], dtype=bool) if numbers.size else np.zeros(0, bool)
        finite = np.isfinite(values).all(axis=1) if numbers.size else np.zeros(0, bool)
        feasible_mask = usable & finite
        front = np.zeros(numbers.size, dtype=bool)
        front[feasible_mask] = non_dominated_mask(values[feasible_mask], directions)
        # one point per distinct design (`design_groups`), as `dse pareto` counts them
        groups = design_groups(results, con, numbers[front].tolist())
        on_front = front.copy()
        front &= np.isin(numbers, groups.representatives)
        front_idx = np.flatnonzero(front)[:MAX_FRONT_POINTS]
        dominated_idx = _evenly(np.flatnonzero(feasible_mask & ~on_front), MAX_DOMINATED_POINTS)
        infeasible_idx = _evenly(np.flatnonzero(~usable & finite), MAX_INFEASIBLE_POINTS)
        embedded = np.concatenate([front_idx, dominated_idx, infeasible_idx])
        embedded_numbers = numbers[embedded]

        param_columns = [f"param_{n}" for n in results.parameter_names]
        derived = derived_columns(results, columns)
        bands = band_columns(results, columns, results.objective_names, con)
        row_columns = [
            "trial_number", "state", "feasible", "infeasible_reason",
            *param_columns, *objective_columns, *derived, *bands,
        ]
        register_numbers(con, "embedded_numbers", embedded_numbers)
        cursor = run_query(
            results,
            con,
            f"SELECT {', '.join(quote_identifier(c) for c in row_columns)} FROM trials "
            "WHERE trial_number IN (SELECT n FROM embedded_numbers) ORDER BY trial_number",
        )
        front_set = set(numbers[front_idx].tolist())
        fetched = cursor.fetchall()
        designs = {
            "columns": row_columns,
            "values": [[_clean(row[k]) for row in fetched] for k in range(len(row_columns))],
            "front": [row[0] in front_set for row in fetched],
            # the trials that built each front design (`design_groups`); null off the front
            "trials": [
                list(groups.trials[row[0]]) if row[0] in front_set else None for row in fetched
            ],
        }
        detail_numbers = (
            [int(n) for n in numbers[front_idx[:MAX_FRONT_DETAILS]]] if embed_details else []
        )
        details = {
            str(d.trial_number): d.to_dict() for d in design_details(results, detail_numbers, con)
        } if detail_numbers else {}
        names = reference_names(results, con)
        references = [d.to_dict() for d in reference_details(results, names, con)]
        reference_values = run_query(
            results, con, f"SELECT {selected} FROM refs ORDER BY trial_number DESC"
        ).fetchnumpy()
    finally:
        con.close()
    frame = hypervolume_frame(
        directions,
        np.column_stack(
            [np.asarray(reference_values[c], dtype=np.float64) for c in objective_columns]
        ).reshape(-1, len(objective_columns)),
        hypervolume_references(results),
        values[feasible_mask],
    )
    history = convergence_history(numbers, values, usable, directions, frame,
                                  count_designs=designs_counter(results))
    return {
        "metadata": meta.model_dump(mode="json"),
        "root": str(results.root),
        "space_yaml": results.space_text,
        "objectives": [o.model_dump(mode="json") for o in meta.objectives],
        "parameters": [p.model_dump(mode="json") for p in meta.parameters],
        "log_parameters": log_parameters(results),
        "columns": {
            "parameters": param_columns,
            "objectives": objective_columns,
            "derived": derived,
            "bands": bands,
        },
        "headers": {c: header(results, c) for c in row_columns},
        "counts": {
            "trials": int(numbers.size),
            "feasible": int(feasible_mask.sum()),
            "front": int(front.sum()),
            "front_shown": int(front_idx.size),
            "dominated_shown": int(dominated_idx.size),
            "infeasible_shown": int(infeasible_idx.size),
        },
        "designs": designs,
        "details": details,
        "references": references,
        "history": [asdict(point) for point in history],
        "hypervolume_frame": asdict(frame),
    }


def embedded_designs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """`page_data(...)["designs"]` (column by column) as one dict per design, as the page
    rebuilds them: the row's columns plus `front` and `trials`."""
    designs = data["designs"]
    rows = list(zip(*designs["values"], strict=True))
    return [
        {**dict(zip(designs["columns"], row, strict=True)), "front": front, "trials": trials}
        for row, front, trials in zip(rows, designs["front"], designs["trials"], strict=True)
    ]


PAGE_SCRIPTS = ("page.js", "page_table.js", "page_detail.js")
"""The page's script, in three files run as one (page_detail.js ends by drawing the page)."""


def _asset(name: str) -> str:
    return resources.files("dse.browse").joinpath(name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    # NOTE: plotly.js comes from the installed plotly package, inlined, so the page works
    # offline and from a file:// URL; a CDN <script> would break both.
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def plotly_asset_path() -> str:
    """Where `dse browse` serves plotly.js; the version in the name keeps caches honest."""
    return f"/assets/plotly-{plotly_version()}.min.js"


def build_page(results: Results, *, standalone: bool = True) -> str:
    """The whole page as one HTML string.

    `standalone`: everything inlined (a report file). Otherwise plotly.js is a `<script
    src>` to `plotly_asset_path()` and breakdowns and importance are fetched from the server
    that serves the page (`dse browse`).
    """
    data = page_data(results, embed_details=standalone)
    data["served"] = not standalone
    if standalone:
        data["importance"] = importance_for(results).to_dict()
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    title = f"dse results: {results.metadata.space_file or results.root.name}"
    plotly_tag = (
        f"<script>{_plotly_js()}</script>" if standalone
        # NOTE: deferred, so the summary and the table are drawn while plotly.js loads
        else f'<script defer src="{plotly_asset_path()}"></script>'
    )
    parts = {
        "TITLE": html.escape(title),
        "CSS": _asset("page.css"),
        "PLOTLY": plotly_tag,
        "PAGE_JS": "\n".join(_asset(name) for name in PAGE_SCRIPTS),
        "DATA": payload,
    }
    # One pass over the template only, so text inside plotly.js or the data is never
    # mistaken for a placeholder.
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))


def error_page(message: str) -> str:
    """A page that says why the results cannot be shown (never a blank page)."""
    text = html.escape(message)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>dse: cannot show results"
        "</title></head><body style='font-family:sans-serif;margin:2em'>"
        f"<h1>Cannot show these results</h1><pre id='error'>{text}</pre></body></html>"
    )
