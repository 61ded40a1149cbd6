"""A small writer of results folders that follows the search's format-1 contract exactly.

Until tests can run the real search cheaply everywhere, browse tests read folders made
here: real Parquet via pyarrow, written atomically (hidden temp name, then os.replace),
with the same columns, types and metadata as `dse search` writes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

PARAMETERS = [
    {"name": "sram_mib", "unit": "MiB", "kind": "float"},
    {"name": "hbm_stacks", "unit": "", "kind": "int"},
    {"name": "memory_route", "unit": "", "kind": "categorical"},
]
OBJECTIVES = [
    {"name": "throughput_score", "direction": "maximize", "unit": ""},
    {"name": "power_w", "direction": "minimize", "unit": "W"},
    {"name": "unit_cost_usd", "direction": "minimize", "unit": "USD"},
]
CONSTRAINTS = ["power_cap_w"]
WORKLOADS = ["gpt3-175b-train", "llama2-70b-infer"]
BOUNDS = ["compute", "sram", "hbm", "ddr", "host", "interconnect"]
SPACE_YAML = "# a test search space\nparameters:\n  sram_mib: {low: 16, high: 1024}\n"


def metadata(status: str = "finished", **overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "format_version": 1,
        "dse_version": "0.1.0",
        "space_file": "search_spaces/test.yaml",
        "space_sha256": "0" * 64,
        "seed": 7,
        "sampler": "nsga2",
        "trials_budget": 1000,
        "suite": "test-suite",
        "objectives": OBJECTIVES,
        "parameters": PARAMETERS,
        "constraints": CONSTRAINTS,
        "references": ["nvidia-a100-sxm", "nvidia-h100-sxm"],
        "started_at": "2026-11-26T23:00:00Z",
        "finished_at": None if status == "running" else "2026-11-26T23:10:00Z",
        "status": status,
    }
    meta.update(overrides)
    return meta


@dataclass(frozen=True, slots=True)
class Synthetic:
    """Columns of a generated search: trial rows and evaluation rows as dicts of lists."""

    trials: dict[str, list[Any]]
    evaluations: dict[str, list[Any]]
    references: dict[str, list[Any]]


def synthesize(n_trials: int, seed: int = 0, with_evaluations: bool = True) -> Synthetic:
    """Plausible trials: more SRAM and HBM raise throughput, power and cost together."""
    rng = np.random.default_rng(seed)
    sram = rng.uniform(16, 1024, n_trials)
    stacks = rng.integers(0, 7, n_trials)
    route = np.where(stacks > 0, "hbm", "sram+ddr")
    noise = rng.lognormal(0.0, 0.25, (3, n_trials))
    throughput = (0.3 + np.log2(sram / 8) * 0.1 + stacks * 0.15) * noise[0]
    power = (200 + sram * 0.3 + stacks * 60) * noise[1]
    cost = (3000 + sram * 12 + stacks * 900) * noise[2]
    die_area = 300 + sram * 0.6
    failed = rng.random(n_trials) < 0.03
    over_cap = power > 700
    feasible = ~failed & ~over_cap
    objectives_ok = ~failed
    trials: dict[str, list[Any]] = {
        "trial_number": list(range(n_trials)),
        "state": ["failed" if f else "complete" for f in failed],
        "feasible": feasible.tolist(),
        "infeasible_reason": [
            "" if ok else ("evaluation failed" if f else "power_w exceeds the 700 W cap")
            for ok, f in zip(feasible, failed, strict=True)
        ],
        "error": ["ZeroDivisionError: in test" if f else "" for f in failed],
        "param_sram_mib": sram.tolist(),
        "param_hbm_stacks": stacks.astype(np.int64).tolist(),
        "param_memory_route": route.tolist(),
        "derived_die_area_mm2": die_area.tolist(),
        "derived_unit_cost_usd": cost.tolist(),
        "objective_throughput_score": np.where(objectives_ok, throughput, np.nan).tolist(),
        "objective_power_w": np.where(objectives_ok, power, np.nan).tolist(),
        "objective_unit_cost_usd": np.where(objectives_ok, cost, np.nan).tolist(),
        "constraint_power_cap_w": (power - 700).tolist(),
    }
    start = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    trials["evaluated_at"] = [start + timedelta(seconds=i) for i in range(n_trials)]
    evaluations: dict[str, list[Any]] = {
        key: []
        for key in ["trial_number", "workload", "evaluator", "feasible", "infeasible_reason",
                    "metric_step_time_s", "metric_tokens_per_s", "metric_power_w"]
        + [f"bound_{b}_s" for b in BOUNDS]
    }
    if with_evaluations:
        for i in range(n_trials):
            for w, workload in enumerate(WORKLOADS):
                step = 1.0 / max(throughput[i], 1e-3) * (1 + w)
                shares = rng.dirichlet(np.ones(len(BOUNDS)))
                evaluations["trial_number"].append(i)
                evaluations["workload"].append(workload)
                evaluations["evaluator"].append("training" if w == 0 else "inference")
                evaluations["feasible"].append(bool(feasible[i]))
                evaluations["infeasible_reason"].append(trials["infeasible_reason"][i])
                evaluations["metric_step_time_s"].append(step)
                evaluations["metric_tokens_per_s"].append(2048.0 / step)
                evaluations["metric_power_w"].append(float(power[i]))
                for b, share in zip(BOUNDS, shares, strict=True):
                    evaluations[f"bound_{b}_s"].append(float(step * share))
    references: dict[str, list[Any]] = {key: [] for key in trials}
    references["reference"] = []
    for r, (name, tp, pw, cs) in enumerate(
        [("nvidia-a100-sxm", 0.6, 400.0, 15000.0), ("nvidia-h100-sxm", 1.0, 700.0, 27500.0)]
    ):
        row = {
            "trial_number": -1 - r, "state": "complete", "feasible": True,
            "infeasible_reason": "", "error": "", "param_sram_mib": 50.0 + 30 * r,
            "param_hbm_stacks": 5, "param_memory_route": "hbm",
            "derived_die_area_mm2": 826.0 - 12 * r, "derived_unit_cost_usd": cs,
            "objective_throughput_score": tp, "objective_power_w": pw,
            "objective_unit_cost_usd": cs, "constraint_power_cap_w": pw - 700,
            "evaluated_at": start, "reference": name,
        }
        for key, value in row.items():
            references[key].append(value)
    return Synthetic(trials, evaluations, references)


TRIAL_TYPES = {
    "trial_number": pa.int64(), "state": pa.string(), "feasible": pa.bool_(),
    "infeasible_reason": pa.string(), "error": pa.string(), "param_sram_mib": pa.float64(),
    "param_hbm_stacks": pa.int64(), "param_memory_route": pa.string(),
    "derived_die_area_mm2": pa.float64(), "derived_unit_cost_usd": pa.float64(),
    "objective_throughput_score": pa.float64(), "objective_power_w": pa.float64(),
    "objective_unit_cost_usd": pa.float64(), "constraint_power_cap_w": pa.float64(),
    "evaluated_at": pa.timestamp("us", tz="UTC"), "reference": pa.string(),
}


def _table(columns: dict[str, list[Any]]) -> pa.Table:
    return pa.table(
        {name: pa.array(values, TRIAL_TYPES.get(name)) for name, values in columns.items()}
    )


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write a Parquet file the way the search does: hidden temp name, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.tmp"
    pq.write_table(table, temp)
    os.replace(temp, path)


def _slice(columns: dict[str, list[Any]], rows: Sequence[int]) -> dict[str, list[Any]]:
    return {name: [values[i] for i in rows] for name, values in columns.items()}


def write_results(
    out: Path,
    data: Synthetic,
    parts: int = 3,
    status: str = "finished",
    with_references: bool = True,
    manifest: bool = True,
    **metadata_overrides: Any,
) -> Path:
    """A complete results folder for `data`, its trials split over `parts` Parquet files.

    `manifest=False`: a folder as dse wrote it before manifests (no manifest.jsonl).
    """
    out.mkdir(parents=True, exist_ok=True)
    if manifest:
        metadata_overrides = {"manifest": "manifest.jsonl", **metadata_overrides}
    (out / "metadata.json").write_text(json.dumps(metadata(status, **metadata_overrides)))
    (out / "space.yaml").write_text(SPACE_YAML)
    (out / "study.journal").write_text("")
    n = len(data.trials["trial_number"])
    bounds = np.linspace(0, n, parts + 1).astype(int)
    for p in range(parts):
        rows = range(bounds[p], bounds[p + 1])
        if not len(rows):
            continue
        trials_part = out / "trials" / f"part-{p:05d}.parquet"
        write_atomically(_table(_slice(data.trials, rows)), trials_part)
        numbers = set(rows)
        eval_rows = [
            i for i, t in enumerate(data.evaluations["trial_number"]) if t in numbers
        ]
        if eval_rows:
            write_atomically(
                _table(_slice(data.evaluations, eval_rows)),
                out / "evaluations" / f"part-{p:05d}.parquet",
            )
    if with_references:
        write_atomically(_table(data.references), out / "references.parquet")
    if manifest:
        _write_manifest(out)
    return out


def _write_manifest(out: Path) -> None:
    """manifest.jsonl listing every part written, one commit per trials part (+ refs)."""
    from dse.results.manifest import commit_line, describe, header_line

    def listed(relative: str) -> Any:
        path = out / relative
        return describe(relative, path.read_bytes(), pq.read_metadata(path).num_rows)

    text = header_line()
    if (out / "references.parquet").exists():
        text += commit_line([listed("references.parquet")])
    for part in sorted((out / "trials").glob("part-*.parquet")):
        files = [f"trials/{part.name}"]
        if (out / "evaluations" / part.name).exists():
            files.insert(0, f"evaluations/{part.name}")
        text += commit_line([listed(name) for name in files])
    (out / "manifest.jsonl").write_bytes(text)


@pytest.fixture(scope="session")
def small_data() -> Synthetic:
    return synthesize(300, seed=1)


@pytest.fixture(scope="session")
def small_results(tmp_path_factory: pytest.TempPathFactory, small_data: Synthetic) -> Path:
    return write_results(tmp_path_factory.mktemp("results") / "small", small_data)


@dataclass(frozen=True, slots=True)
class Writer:
    """The writer's functions, handed to tests as a fixture (conftest is not importable)."""

    synthesize = staticmethod(synthesize)
    write_results = staticmethod(write_results)
    write_atomically = staticmethod(write_atomically)
    metadata = staticmethod(metadata)


@pytest.fixture(scope="session")
def writer() -> Writer:
    return Writer()


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def real_search_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real search: `dse search search_spaces/quickstart.yaml --trials 30` (~10 s)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("real-search") / "quickstart"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "from dse.cli import main; main()", "search",
         str(REPO / "search_spaces" / "quickstart.yaml"), "--trials", "30",
         "--out", str(out), "--quiet", "--workers", "2", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=300, check=False, cwd=REPO,
    )
    if done.returncode != 0:
        pytest.fail(f"dse search failed ({done.returncode}):\n{done.stderr[-3000:]}")
    # what the search printed on stdout: with --format json, only its front
    (out.parent / "search_stdout.json").write_text(done.stdout)
    return out
