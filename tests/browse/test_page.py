"""The results page in a real headless Chromium (Debian's, driven by Playwright).

Served by `dse browse`'s server and written by `dse report`: the plots and the table are
there with the right number of front points, clicking a design opens its breakdown, and
the page asks nothing of the network. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dse.browse.page import build_page
from dse.browse.pareto import pareto_front
from dse.browse.results import open_results
from dse.browse.server import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _browser_missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (scripts/install_browser.sh)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (scripts/install_browser.sh)"
    return ""


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh Chromium profile per module; every request not to 127.0.0.1 is recorded."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("DSE_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = context.new_page()
        page.outside_requests = []  # type: ignore[attr-defined]
        page.errors = []  # type: ignore[attr-defined]

        def record(request: Any) -> None:
            url = request.url
            if not (url.startswith("http://127.0.0.1") or url.startswith("file://")
                    or url.startswith("data:") or url.startswith("blob:")):
                page.outside_requests.append(url)  # type: ignore[attr-defined]

        page.on("request", record)
        page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()


def serve_doc(root: Path) -> tuple[str, Any]:
    server = make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="module")
def served(small_results: Path) -> Iterator[str]:
    """`dse browse`'s server on a free port over the small generated results folder."""
    url, server = serve_doc(small_results)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)


def _front_trace_sizes(page: Any) -> list[int]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.pair-plot')].map(
               (div) => div.data.filter((t) => t.name.startsWith('front'))
                                .reduce((n, t) => n + t.x.length, 0))"""
    )


def test_served_page_shows_the_front_and_a_designs_breakdown(browser_page, served, small_results):
    page = browser_page
    front = pareto_front(open_results(small_results))
    _open(page, served)

    # One scatter per pair of the three objectives, plus the 3-D view.
    assert page.locator(".pair-plot.js-plotly-plot").count() == 3
    assert _front_trace_sizes(page) == [front.front_size] * 3
    assert page.locator("#plot-3d.js-plotly-plot").count() == 1
    assert page.locator("#parcoords .parcoords").count() == 1
    assert page.locator("#convergence.js-plotly-plot").count() == 1
    labels = page.locator("#pair-plots .textpoint").evaluate_all(
        "(nodes) => nodes.map((n) => n.textContent)"
    )
    assert {"nvidia-a100-sxm", "nvidia-h100-sxm"} <= set(labels)

    rows = page.locator("#design-table tbody tr")
    assert rows.count() == front.front_size
    assert page.inner_text("#table-count") == f"{front.front_size} designs"
    # Sorted by the first objective (maximised), as `dse pareto` sorts.
    first_trial = front.records()[0]["trial_number"]
    assert rows.first.get_attribute("data-trial") == str(first_trial)

    rows.first.click()
    page.wait_for_selector("#detail-status")
    assert page.inner_text("#detail-status").startswith(f"trial {first_trial}: complete, feasible")
    workloads = page.locator("#detail .workload-row").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.workload)"
    )
    assert workloads == ["gpt3-175b-train", "llama2-70b-infer"]
    detail = json.loads(
        urllib.request.urlopen(f"{served}/api/trial/{first_trial}").read().decode()
    )
    expected_bounds = [w["bound_by"] for w in detail["workloads"]]
    shown_bounds = page.locator("#detail td.bound-by").all_inner_texts()
    assert shown_bounds[0::2] == expected_bounds  # design column; reference column beside it
    assert page.locator("#detail .bound-plot.js-plotly-plot").count() == 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browse-page.png"), full_page=True)
    assert page.outside_requests == []
    assert page.errors == []


def test_table_filters_and_fetches_breakdowns_of_dominated_designs(browser_page, served):
    page = browser_page
    _open(page, served)
    page.uncheck("#front-only")
    page.fill("#table-filter", "memory_route=sram+ddr")
    rows = page.locator("#design-table tbody tr.dominated")
    assert rows.count() > 0
    cells = page.locator("#design-table tbody tr td:nth-child(7)").all_inner_texts()
    assert set(cells) == {"sram+ddr"}
    trial = rows.first.get_attribute("data-trial")
    rows.first.click()
    page.wait_for_selector("#detail-status")
    assert page.inner_text("#detail-status").startswith(f"trial {trial}:")
    assert page.errors == []


def test_report_is_one_self_contained_file(browser_page, small_results, tmp_path):
    page = browser_page
    report = tmp_path / "report.html"
    report.write_text(build_page(open_results(small_results)), encoding="utf-8")
    front = pareto_front(open_results(small_results))
    page.outside_requests.clear()

    _open(page, report.as_uri())

    assert _front_trace_sizes(page) == [front.front_size] * 3
    assert page.locator("#design-table tbody tr").count() == front.front_size
    page.locator("#design-table tbody tr").nth(1).click()
    page.wait_for_selector("#detail-status")
    assert "feasible" in page.inner_text("#detail-status")
    assert "space.yaml" in page.inner_text("#source-section")
    assert "a test search space" in page.inner_text("#space-yaml")
    page.screenshot(path=str(ARTIFACTS / "report-page.png"), full_page=False)
    assert page.outside_requests == []
    assert page.errors == []


def test_unusable_folder_serves_a_page_that_says_why(browser_page, tmp_path):
    page = browser_page
    url, server = serve_doc(tmp_path)  # an empty folder
    try:
        page.goto(url)
        assert "Cannot show these results" in page.inner_text("h1")
        assert "empty folder" in page.inner_text("#error")
    finally:
        server.shutdown()
        server.server_close()


def test_api_answers_json_and_explains_unknown_trials(served):
    front = json.loads(urllib.request.urlopen(f"{served}/api/pareto").read().decode())
    assert front and all("trial_number" in row for row in front)
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{served}/api/trial/99999")
    assert missing.value.code == 404
    assert "no such finished trial" in json.loads(missing.value.read().decode())["error"]


def test_page_of_a_real_search(browser_page, real_search_results):
    page = browser_page
    front = pareto_front(open_results(real_search_results))
    url, server = serve_doc(real_search_results)
    try:
        _open(page, url)
        pairs = len(front.objectives) * (len(front.objectives) - 1) // 2
        assert _front_trace_sizes(page) == [front.front_size] * pairs
        assert page.locator("#design-table tbody tr").count() == front.front_size
        references = json.loads((real_search_results / "metadata.json").read_text())["references"]
        labels = page.locator("#pair-plots .textpoint").evaluate_all(
            "(nodes) => nodes.map((n) => n.textContent)"
        )
        assert set(references) <= set(labels)
        row = page.locator("#design-table tbody tr").first
        trial = row.get_attribute("data-trial")
        row.click()
        page.wait_for_selector("#detail-status")
        assert page.inner_text("#detail-status").startswith(f"trial {trial}: complete, feasible")
        assert page.locator("#detail .workload-row").count() > 0
        assert page.locator("#detail .bound-plot.js-plotly-plot").count() == 1
        _check_error_bands(page, real_search_results, front.front_size, int(trial or -1))
        page.screenshot(path=str(ARTIFACTS / "real-search-page.png"), full_page=True)
        assert page.outside_requests == []
        assert page.errors == []
    finally:
        server.shutdown()
        server.server_close()


def _check_error_bands(page: Any, root: Path, front_size: int, trial: int) -> None:
    """The score (its band from the inference workloads) has error bars on every front
    point and reference chip; cost and power have none. The design view compares the
    trial with the first reference as `dse compare` does."""
    from dse.browse.detail import design_details, reference_details, with_comparisons

    bars = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.pair-plot')].map((div) =>
               [div.dataset.pair, [div.querySelectorAll('g.errorbar path.xerror').length,
                                   div.querySelectorAll('g.errorbar path.yerror').length]]))"""
    )
    assert bars == {"score|power_w": [front_size + 2, 0],
                    "score|unit_cost_usd": [front_size + 2, 0],
                    "power_w|unit_cost_usd": [0, 0]}
    results = open_results(root)
    design, _reference = with_comparisons(
        design_details(results, [trial]) + reference_details(results, ["nvidia-a100-80gb"]))
    score = next(v for v in design.versus if v.objective == "score")
    assert score.distinguishable is not None
    row = page.inner_text("#detail table[data-section=versus] tr[data-objective=score]")
    assert f"{score.relative:.4g}x" in row
    assert ("not distinguishable" in row) == (not score.distinguishable)


def test_page_of_a_search_that_has_not_finished_a_trial(browser_page, tmp_path, writer):
    page = browser_page
    (tmp_path / "metadata.json").write_text(json.dumps(writer.metadata("running")))
    (tmp_path / "space.yaml").write_text("# just started\n")
    url, server = serve_doc(tmp_path)
    try:
        _open(page, url)
        assert page.inner_text("#summary .badge") == "running"
        assert "0 trials" in page.inner_text("#summary")
        assert page.inner_text("#table-count") == "0 designs"
        assert page.inner_text("#convergence") == "No finished trials yet."
        assert page.errors == []
    finally:
        server.shutdown()
        server.server_close()


def test_sorting_and_brushing_drive_the_table(browser_page, served, small_results):
    page = browser_page
    _open(page, served)
    front = pareto_front(open_results(small_results)).records()

    page.click("#design-table th[data-column='objective_power_w']")
    shown = [int(n) for n in page.locator("#design-table tbody tr").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.trial)")]
    by_power = sorted(front, key=lambda r: (r["objective_power_w"], r["trial_number"]))
    assert shown == [r["trial_number"] for r in by_power]

    # Brush the sram_mib axis of the parallel coordinates to [100, 400] MiB.
    page.evaluate(
        """() => Plotly.restyle(document.getElementById('parcoords'),
                                {'dimensions[0].constraintrange': [[100, 400]]})"""
    )
    inside = {r["trial_number"] for r in front if 100 <= r["param_sram_mib"] <= 400}
    assert 0 < len(inside) < len(front)
    page.wait_for_function(
        f"document.querySelectorAll('#design-table tbody tr').length === {len(inside)}"
    )
    brushed = page.locator("#design-table tbody tr").evaluate_all(
        "(rows) => rows.map((r) => Number(r.dataset.trial))")
    assert set(brushed) == inside
    page.click("#clear-brush")
    page.wait_for_function(
        f"document.querySelectorAll('#design-table tbody tr').length === {len(front)}"
    )
    assert page.errors == []
