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
    page.goto(url, wait_until="commit", timeout=120_000)
    page.wait_for_selector("body[data-ready=true]", timeout=120_000)


def _draw(page: Any, box: str) -> None:
    """Scroll a lazily drawn part (3-D view, explorer, convergence, parcoords) into view."""
    page.locator(box).scroll_into_view_if_needed()
    page.wait_for_selector(f"{box}[data-drawn=true]", timeout=60_000)


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
    for box in ("#plot-3d-box", "#parcoords-section", "#convergence-section"):
        _draw(page, box)
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
        _draw(page, "#convergence-section")
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
    _draw(page, "#parcoords-section")
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


# --- what issue 15 asked of the page ----------------------------------------------------

LAYOUT_PROBLEMS = """() => {
  // Labels cut off by their plot's edge, and legends over data, titles, tick labels or a
  // colour bar, in every drawn plotly plot on the page.
  const problems = [];
  const box = (n) => n.getBoundingClientRect();
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
                         && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const div of document.querySelectorAll('.js-plotly-plot')) {
    if (!div.offsetParent) continue;
    const name = div.id || div.dataset.pair || div.className;
    const svg = box(div.querySelector('.main-svg'));
    const labels = [...div.querySelectorAll(
      '.xtitle, .ytitle, .y2title, .xtick text, .ytick text, .y2tick text, .legendtext,'
      + ' .colorbar text, .textpoint text, .gtitle')].filter((n) => box(n).width > 0);
    for (const n of labels) {
      const r = box(n);
      if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1
          || r.bottom > svg.bottom + 1) problems.push(`${name}: "${n.textContent}" is clipped`);
    }
    const legend = div.querySelector('.legend');
    if (!legend || !box(legend).width) continue;
    const others = [...div.querySelectorAll('.nsewdrag, .xtitle, .ytitle, .y2title, .xtick text,'
      + ' .ytick text, .y2tick text, .colorbar')].filter((n) => box(n).width > 0);
    for (const n of others) {
      if (overlap(box(legend), box(n))) {
        problems.push(`${name}: legend overlaps ${n.getAttribute('class')} "${n.textContent}"`);
      }
    }
  }
  return problems;
}"""


def _download_csv(page: Any, button: str, path: Path) -> list[dict[str, str]]:
    """Click a download button, save the file at `path` and read it back as CSV rows."""
    import csv

    with page.expect_download() as download:
        page.click(button)
    download.value.save_as(path)
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _layout_problems(page: Any) -> list[str]:
    return page.evaluate(LAYOUT_PROBLEMS)


def _record_paint(page: Any, name: str) -> dict[str, Any]:
    """First paint (ms from navigation start to the first screen drawn) and page bytes,
    kept in test-artifacts/first-paint.json (measured, not asserted: no timed asserts)."""
    figures = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const fcp = performance.getEntriesByName('first-contentful-paint')[0];
            const scripts = performance.getEntriesByType('resource')
                .filter((e) => e.name.includes('/assets/plotly-'));
            return {ready_ms: Number(document.body.dataset.readyMs),
                    first_contentful_paint_ms: fcp ? Math.round(fcp.startTime) : null,
                    html_bytes_transferred: nav.transferSize,
                    html_bytes: nav.decodedBodySize,
                    plotly_bytes_transferred: scripts.reduce((n, e) => n + e.transferSize, 0),
                    plotly_requests: scripts.length};
        }"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    record = ARTIFACTS / "first-paint.json"
    known = json.loads(record.read_text()) if record.exists() else {}
    known[name] = figures
    record.write_text(json.dumps(known, indent=2) + "\n")
    assert figures["ready_ms"] > 0
    return figures


def _front_traces(page: Any, selector: str) -> list[dict[str, Any]]:
    return page.evaluate(
        f"""() => document.querySelector({json.dumps(selector)}).data
              .filter((t) => t.name.startsWith('front'))
              .map((t) => ({{name: t.name, trials: t.customdata, color: t.marker.color,
                             symbol: t.marker.symbol, showscale: !!t.marker.showscale}}))"""
    )


def test_colour_symbol_log_axes_csv_and_first_paint(browser_page, real_search_results, tmp_path):
    """The acceptance test of issue 15's page: colour by a parameter, switch an axis to log,
    download the table and the front as CSV and read them back, measure first paint."""
    page = browser_page
    results = open_results(real_search_results)
    front = pareto_front(results)
    by_trial = {r["trial_number"]: r for r in front.records()}
    url, server = serve_doc(real_search_results)
    try:
        _open(page, url)
        _record_paint(page, "quickstart-30-trials")
        assert page.errors == []

        # Colour by a parameter: every front point's colour is its hbm_stacks, on a scale.
        page.select_option("#colour-by", "param_hbm_stacks")
        traces = _front_traces(page, ".pair-plot")
        assert sum(len(t["trials"]) for t in traces) == front.front_size
        for trace in traces:
            assert trace["color"] == [by_trial[n]["param_hbm_stacks"] for n in trace["trials"]]
        assert any(t["showscale"] for t in traces)
        # Symbol by a parameter: one marker shape per hbm_stacks value on the front.
        page.select_option("#symbol-by", "param_hbm_stacks")
        traces = _front_traces(page, ".pair-plot")
        stacks = {by_trial[n]["param_hbm_stacks"] for t in traces for n in t["trials"]}
        assert len({t["symbol"] for t in traces}) == len(stacks)
        for trace in traces:
            assert len({by_trial[n]["param_hbm_stacks"] for n in trace["trials"]}) == 1
        page.screenshot(path=str(ARTIFACTS / "colour-and-symbol-by-hbm-stacks.png"))
        assert _layout_problems(page) == []

        # Log axes: sram_capacity_mib is sampled on a log scale, so it starts on one; both
        # axes switch.
        _draw(page, "#explore-section")
        axis = "() => [document.getElementById('explorer').layout.xaxis.type, " \
               "document.getElementById('explorer').layout.yaxis.type]"
        assert page.input_value("#explore-x") == "param_sram_capacity_mib"
        assert page.is_checked("#log-x")
        assert page.evaluate(axis) == ["log", "linear"]
        page.select_option("#explore-y", "objective_power_w")
        page.check("#log-y")
        assert page.evaluate(axis) == ["log", "log"]
        page.uncheck("#log-x")
        assert page.evaluate(axis) == ["linear", "log"]
        ticks = page.locator("#explorer .ytick text").all_inner_texts()
        assert ticks, "the log axis has tick labels"
        page.locator("#explore-section").screenshot(path=str(ARTIFACTS / "explorer-log-y.png"))
        assert _layout_problems(page) == []

        # CSV of the table as shown (front only, sorted best-first) and of the front.
        rows = _download_csv(page, "#download-table", tmp_path / "designs.csv")
        shown = page.locator("#design-table tbody tr").evaluate_all(
            "(rows) => rows.map((r) => Number(r.dataset.trial))")
        assert [int(r["trial_number"]) for r in rows] == shown
        power = "power_w [W]"
        for row in rows:
            assert float(row[power]) == by_trial[int(row["trial_number"])]["objective_power_w"]
        front_rows = _download_csv(page, "#download-front", tmp_path / "front.csv")
        assert [int(r["trial_number"]) for r in front_rows] == list(by_trial)
        for row in front_rows:
            record = by_trial[int(row["trial_number"])]
            assert float(row["sram_capacity_mib [MiB]"]) == record["param_sram_capacity_mib"]
            assert float(row[power]) == record["objective_power_w"]
        assert page.errors == []
        assert page.outside_requests == []
    finally:
        server.shutdown()
        server.server_close()


def test_filter_language_accepts_equality_and_says_when_nothing_matches(
    browser_page, served, small_data
):
    page = browser_page
    _open(page, served)
    page.uncheck("#front-only")
    embedded = set(page.evaluate("() => D.designs.map((d) => d.trial_number)"))
    trials = small_data.trials

    def shown() -> set[int]:
        return set(page.locator("#design-table tbody tr").evaluate_all(
            "(rows) => rows.map((r) => Number(r.dataset.trial))"))

    def expected(keep: Any) -> set[int]:
        return {n for i, n in enumerate(trials["trial_number"]) if n in embedded and keep(i)}

    page.fill("#table-filter", "hbm_stacks == 4")
    assert shown() == expected(lambda i: trials["param_hbm_stacks"][i] == 4) != set()
    assert page.inner_text("#filter-message") == ""
    page.fill("#table-filter", "memory_route == 'sram+ddr' and sram_mib > 500 or hbm_stacks = 6")
    route, sram, stacks = (trials[f"param_{n}"] for n in ("memory_route", "sram_mib", "hbm_stacks"))
    assert shown() == expected(
        lambda i: (route[i] == "sram+ddr" and sram[i] > 500) or stacks[i] == 6)
    page.fill("#table-filter", "power_w != 0 && objective_power_w <> 0")
    power = trials["objective_power_w"]
    assert shown() == expected(lambda i: power[i] == power[i])  # NaN (failed) never matches

    page.fill("#table-filter", "hbm_stacks == 99")
    assert shown() == set()
    assert page.inner_text("#filter-message") == "no design matches `hbm_stacks == 99`"
    page.fill("#table-filter", "hbm_stack == 8")
    assert page.inner_text("#filter-message").startswith(
        "invalid filter (ignored): unknown column `hbm_stack`; "
        "columns: trial_number, trials, front, sram_mib")
    page.fill("#table-filter", "power_w < lots")
    assert "`power_w` is a number; `lots` is not" in page.inner_text("#filter-message")
    page.fill("#table-filter", "memory_route > 'hbm'")
    assert "compare it with == or !=" in page.inner_text("#filter-message")

    # Front only hides a match: the message says where it is.
    page.check("#front-only")
    dominated_only = page.evaluate(
        "() => D.designs.filter((d) => !d.front).map((d) => d.trial_number)")[0]
    page.fill("#table-filter", f"trial_number == {dominated_only}")
    assert "1 among all embedded designs" in page.inner_text("#filter-message")
    page.fill("#table-filter", "")
    assert page.errors == []


def test_several_designs_side_by_side_with_several_references(browser_page, served):
    page = browser_page
    _open(page, served)
    rows = page.locator("#design-table tbody tr")
    picked = [rows.nth(k).get_attribute("data-trial") for k in (0, 2, 4)]
    for k in (0, 2, 4):
        rows.nth(k).locator("input.compare-box").check()
    assert page.inner_text("#compare-selected") == "compare ticked (3)"
    page.check("#reference-choices input[value='nvidia-h100-sxm']")
    page.click("#compare-selected")
    page.wait_for_selector("#detail table[data-section=objectives]")
    heads = page.locator("#detail table[data-section=objectives] tr").first.locator("th")
    assert heads.all_inner_texts() == [
        "objectives", "unit", *(f"trial {n}" for n in picked), "nvidia-a100-sxm", "nvidia-h100-sxm"]
    assert page.locator("#detail .detail-status").count() == 3
    page.wait_for_selector("#detail .bound-plot.js-plotly-plot")
    page.locator("#detail-section").screenshot(path=str(ARTIFACTS / "compare-three-designs.png"))
    assert _layout_problems(page) == []
    # Ticked rows stay ticked across a re-sort; "untick all" clears them.
    page.click("#design-table th[data-column='objective_power_w']")
    assert page.locator("#design-table input.compare-box:checked").count() == 3
    page.click("#clear-compare")
    assert page.locator("#design-table input.compare-box:checked").count() == 0
    assert page.errors == []


@pytest.fixture(scope="module")
def big_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 trials written by the real results writer (about 2-4 s)."""
    from tests.browse.bigfolder import write_big_folder

    return write_big_folder(tmp_path_factory.mktemp("big") / "big", 100_000)


def test_page_of_100k_trials_is_light_and_draws_the_front(browser_page, big_results):
    from dse.browse.importance import importance_for

    page = browser_page
    results = open_results(big_results)
    front = pareto_front(results)
    url, server = serve_doc(big_results)
    try:
        _open(page, url)
        first = _record_paint(page, "100k-trials-first-load")
        assert first["plotly_requests"] == 1
        assert first["html_bytes"] < 2_000_000  # the whole page was 11 MB before
        assert first["html_bytes_transferred"] < 600_000  # gzipped
        assert page.evaluate("() => document.documentElement.outerHTML.length") < 2_500_000
        assert _front_trace_sizes(page) == [front.front_size] * 3
        assert page.evaluate("() => D.designs.length") <= 20_000 + 4_000 + 1_000
        assert _layout_problems(page) == []
        page.screenshot(path=str(ARTIFACTS / "100k-trials.png"))

        # Parameter importance arrives after first paint, from Optuna's PED-ANOVA.
        page.wait_for_selector("#importance[data-state=loaded]", timeout=120_000)
        expected = importance_for(results)
        assert expected.targets == ("score", "power_w", "unit_cost_usd", "front")
        bars = page.evaluate("() => document.getElementById('importance').data.map("
                             "(t) => [t.name, t.y, t.x])")
        assert [b[0] for b in bars] == list(expected.targets)
        for k, (_name, params, values) in enumerate(bars):
            got = dict(zip(params, values, strict=True))
            assert got == dict(zip(expected.parameters, expected.values[k], strict=True))
        assert abs(sum(expected.values[0]) - 1) < 1e-9
        page.locator("#importance-section").scroll_into_view_if_needed()
        assert _layout_problems(page) == []

        # Reload: plotly.js comes from the browser's cache, not the network.
        _open(page, url)
        again = _record_paint(page, "100k-trials-reload")
        assert again["plotly_bytes_transferred"] == 0
        assert page.errors == []
        assert page.outside_requests == []
    finally:
        server.shutdown()
        server.server_close()


def test_routes_look_different_from_the_start(browser_page, served, small_results):
    """A categorical parameter (a route) shapes the markers by default: HBM-route and
    DDR-route designs of one front are different symbols, in every pair plot."""
    page = browser_page
    _open(page, served)
    assert page.input_value("#symbol-by") == "param_memory_route"
    route = {r["trial_number"]: r["param_memory_route"]
             for r in pareto_front(open_results(small_results)).records()}
    for k in range(page.locator(".pair-plot").count()):
        traces = _front_traces(page, f".pair-plot:nth-child({k + 1})")
        symbol_of = {}
        for trace in traces:
            routes = {route[n] for n in trace["trials"]}
            assert len(routes) == 1
            symbol_of[routes.pop()] = trace["symbol"]
        assert set(symbol_of) == {"hbm", "sram+ddr"}
        assert symbol_of["hbm"] != symbol_of["sram+ddr"]
        assert any("memory_route=hbm" in t["name"] for t in traces)
    assert _layout_problems(page) == []
    assert page.errors == []
