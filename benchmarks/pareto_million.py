"""Time `dse pareto` on a generated 1,000,000-trial results folder (target: under 2 s).

    .venv/bin/python benchmarks/pareto_million.py [--trials 1000000] [--parts 100] [--keep DIR]

Writes a format-1 results folder (metadata.json, manifest.jsonl and trials/part-*.parquet,
the columns the search writes), then reports:
- the manifest check every reader does first (sizes and SHA-256 of every part);
- `pareto_front()` in-process (median of 5; what the command spends after start-up);
- `dse pareto DIR --top 20` as a fresh process (median of 3; what a user waits for,
  including Python start-up and importing every CLI module);
- `dse report` page assembly (`page_data`) once, for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dse.browse.page import page_data
from dse.browse.pareto import pareto_front
from dse.browse.results import open_results
from dse.results import ResultsFolder, committed_parts
from dse.results.manifest import commit_line, describe, header_line

OBJECTIVES = [
    {"name": "throughput_score", "direction": "maximize", "unit": ""},
    {"name": "power_w", "direction": "minimize", "unit": "W"},
    {"name": "unit_cost_usd", "direction": "minimize", "unit": "USD"},
]
PARAMETERS = [
    {"name": "sram_mib", "unit": "MiB", "kind": "float"},
    {"name": "hbm_stacks", "unit": "", "kind": "int"},
    {"name": "clock_ghz", "unit": "GHz", "kind": "float"},
    {"name": "compute_units", "unit": "", "kind": "int"},
    {"name": "precision", "unit": "", "kind": "categorical"},
]


def write_folder(root: Path, trials: int, parts: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (root / "trials").mkdir(parents=True, exist_ok=True)
    metadata = {
        "format_version": 1, "dse_version": "bench", "space_file": "bench.yaml",
        "space_sha256": "0" * 64, "seed": seed, "sampler": "nsga2", "trials_budget": trials,
        "suite": "bench", "objectives": OBJECTIVES, "parameters": PARAMETERS,
        "constraints": ["power_cap_w", "die_area_cap_mm2"], "references": [],
        "started_at": "2026-11-26T00:00:00Z", "finished_at": "2026-11-26T01:00:00Z",
        "status": "finished", "manifest": "manifest.jsonl",
    }
    (root / "metadata.json").write_text(json.dumps(metadata))
    (root / "space.yaml").write_text("# generated for the benchmark\n")
    bounds = np.linspace(0, trials, parts + 1).astype(np.int64)
    commits: list[bytes] = []
    for p in range(parts):
        n = int(bounds[p + 1] - bounds[p])
        sram = rng.uniform(16, 2048, n)
        stacks = rng.integers(0, 9, n)
        clock = rng.uniform(0.8, 2.2, n)
        units = rng.integers(32, 256, n)
        # Correlated objectives, as a real cost model gives: faster costs power and money.
        speed = np.log2(sram) * 0.1 + stacks * 0.12 + clock * units / 300
        throughput = speed * rng.lognormal(0, 0.15, n)
        power = (150 + units * clock * 1.5 + stacks * 40 + sram * 0.05) * rng.lognormal(0, 0.1, n)
        cost = (2000 + sram * 8 + stacks * 900 + units * 30) * rng.lognormal(0, 0.1, n)
        die = 200 + sram * 0.5 + units * 2.0
        feasible = (power < 900) & (die < 1500)
        failed = rng.random(n) < 0.01
        table = pa.table({
            "trial_number": pa.array(np.arange(bounds[p], bounds[p + 1]), pa.int64()),
            "state": pa.array(np.where(failed, "failed", "complete")),
            "feasible": pa.array(feasible & ~failed),
            "infeasible_reason": pa.array(np.where(feasible, "", "power or area cap")),
            "error": pa.array(np.where(failed, "RuntimeError", "")),
            "param_sram_mib": sram, "param_hbm_stacks": pa.array(stacks, pa.int64()),
            "param_clock_ghz": clock, "param_compute_units": pa.array(units, pa.int64()),
            "param_precision": pa.array(np.where(rng.random(n) < 0.5, "bf16", "fp8")),
            "derived_die_area_mm2": die, "derived_unit_cost_usd": cost,
            "objective_throughput_score": throughput, "objective_power_w": power,
            "objective_unit_cost_usd": cost,
            "constraint_power_cap_w": power - 900, "constraint_die_area_cap_mm2": die - 1500,
            "evaluated_at": pa.array(np.full(n, 1_790_000_000_000_000, dtype=np.int64),
                                     pa.timestamp("us", tz="UTC")),
        })
        temp = root / "trials" / f".part-{p:05d}.parquet.tmp"
        pq.write_table(table, temp)
        os.replace(temp, root / "trials" / f"part-{p:05d}.parquet")
        name = f"trials/part-{p:05d}.parquet"
        commits.append(commit_line([describe(name, (root / name).read_bytes(), n)]))
    # the manifest a search writes: one commit line per part, so readers check every part
    (root / "manifest.jsonl").write_bytes(header_line() + b"".join(commits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="write the folder here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "results"
        started = time.perf_counter()
        if not (root / "metadata.json").exists():
            write_folder(root, args.trials, args.parts)
        print(f"results folder: {root} ({args.trials:,} trials, {args.parts} parts), "
              f"ready in {time.perf_counter() - started:.1f} s")

        t0 = time.perf_counter()
        committed_parts(ResultsFolder.open(root))
        size_mb = sum(p.stat().st_size for p in (root / "trials").iterdir()) / 1e6
        print(f"manifest check (sizes + SHA-256 of {size_mb:.0f} MB of parts, first open in "
              f"this process): {time.perf_counter() - t0:.3f} s")

        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            table = pareto_front(open_results(root))
            timings.append(time.perf_counter() - t0)
        print(f"pareto_front(): median {statistics.median(timings):.3f} s "
              f"(min {min(timings):.3f}); front {table.front_size:,} of "
              f"{table.trials_feasible:,} feasible")

        command = [sys.executable, "-c", "from dse.cli import main; main()", "pareto",
                   str(root), "--top", "20"]
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - t0)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                raise SystemExit(done.returncode)
        verdict = "OK" if statistics.median(walls) < 2.0 else "OVER TARGET"
        print(f"`dse pareto --top 20` process: median {statistics.median(walls):.3f} s "
              f"(min {min(walls):.3f}); target < 2 s: {verdict}")

        t0 = time.perf_counter()
        data = page_data(open_results(root))
        print(f"page_data() for `dse report`/`dse browse`: {time.perf_counter() - t0:.2f} s, "
              f"{len(data['designs']):,} designs embedded")


if __name__ == "__main__":
    main()
