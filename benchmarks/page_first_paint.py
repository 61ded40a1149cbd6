"""Page weight and first paint of `dse browse` in headless Chromium, for results folders.

    .venv/bin/python benchmarks/page_first_paint.py results/quickstart [results/sram_vs_hbm ...]
    .venv/bin/python benchmarks/page_first_paint.py --synthetic 100000

For each folder: serves it with `dse browse`'s server on a free port, opens it in a fresh
headless Chromium profile (/usr/bin/chromium, driven by Playwright) three times, and prints
- the bytes the browser received for the page (HTML plus every script it fetched; the
  first load, with an empty cache, and a reload, with plotly.js cached);
- first contentful paint (the browser's `paint` timing) and "ready": navigation start to
  the moment the first screen (summary, pair plots) and the table are drawn
  (`body[data-ready-ms]`; for a page without it, the wall time until `data-ready`), median
  of the three loads;
- the CPU seconds the page's renderer main thread spent until then (Chrome's
  `Performance.getMetrics` ThreadTime, median): on a busy shared machine the wall times
  above stretch with the load, this much less.

`--synthetic N` writes an N-trial folder with the real results writer first
(`tests/browse/bigfolder.py`), in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dse.browse.server import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def measure(root: Path, loads: int = 3) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    server = make_server(root, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    ready: list[float] = []
    paint: list[float] = []
    weights: list[int] = []
    cpu: list[float] = []
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
                viewport={"width": 1400, "height": 1000},
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            received: list[int] = []

            page.on("requestfinished", lambda request: received.append(
                int(request.sizes()["responseBodySize"])))
            for _ in range(loads):
                received.clear()
                start = time.perf_counter()
                page.goto(url, wait_until="commit", timeout=120_000)
                page.wait_for_selector("body[data-ready=true]", timeout=120_000)
                timing = page.evaluate(
                    """() => {
                        const nav = performance.getEntriesByType('navigation')[0];
                        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                        return {ready: Number(document.body.dataset.readyMs || NaN),
                                fcp: fcp ? fcp.startTime : NaN, nav: nav ? nav.duration : NaN};
                    }"""
                )
                wall = (time.perf_counter() - start) * 1000
                metrics = {m["name"]: m["value"]
                           for m in cdp.send("Performance.getMetrics")["metrics"]}
                cpu.append(float(metrics.get("ThreadTime", float("nan"))))
                ready.append(timing["ready"] if timing["ready"] == timing["ready"] else wall)
                paint.append(timing["fcp"])
                weights.append(sum(received))
            context.close()
    finally:
        server.shutdown()
        server.server_close()
    return {
        "bytes_first_load": weights[0], "bytes_reload": weights[-1],
        "fcp_ms": statistics.median(paint), "ready_ms": statistics.median(ready),
        "ready_all_ms": ready, "cpu_s": statistics.median(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--synthetic", type=int, default=0,
                        help="also measure a generated folder of this many trials")
    args = parser.parse_args()
    folders = list(args.folders)
    temp = None
    if args.synthetic:
        sys.path.insert(0, str(REPO / "tests" / "browse"))
        from bigfolder import write_big_folder

        temp = tempfile.TemporaryDirectory()
        start = time.perf_counter()
        folder = write_big_folder(Path(temp.name) / f"synthetic-{args.synthetic}", args.synthetic)
        print(f"wrote {args.synthetic} trials in {time.perf_counter() - start:.1f} s")
        folders.append(folder)
    for root in folders:
        r = measure(root)
        print(f"{root}: page {r['bytes_first_load'] / 1e6:.2f} MB first load, "
              f"{r['bytes_reload'] / 1e6:.2f} MB reload; first contentful paint "
              f"{r['fcp_ms'] / 1000:.2f} s, ready {r['ready_ms'] / 1000:.2f} s "
              f"(median of {len(r['ready_all_ms'])}: "
              f"{', '.join(f'{v / 1000:.2f}' for v in r['ready_all_ms'])} s); "
              f"renderer main thread {r['cpu_s']:.2f} CPU s")
        print(f"  load average {os.getloadavg()[0]:.1f}")
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
