"""End-to-end measurements against dse's predictions from kernels alone (issue 3).

`scripts/measure_end_to_end.py` measures, on a GPU with PyTorch, one Llama-style decoder
layer (prefill forward, training forward + backward, graph-replayed decode step) and
ResNet-50 (training step, inference forward) in bf16, and writes a CSV with one row per
measurement (`id, workload, params, measured_s, device, torch`; `params` is JSON). This
module restates each row as the operators dse's evaluators emit for it and predicts its
time on a preset (`nvidia-h100-sxm` by default): nothing here is fitted to the rows.

- decoder layer: `evaluators._transformer.block_forward_ops` (+ `block_backward_ops` for
  training) for one layer of the named built-in model on one chip, run in one core call;
  eager launches for prefill and training (the script runs them eagerly), a captured graph
  for decode (the script replays a CUDA graph); the layer's weights, and for decode its KV
  cache, are the resident data;
- ResNet-50: the `cnn` evaluator's `step_time_s` for a one-chip workload of that batch.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dse.config import load_hardware
from dse.errors import ConfigError, Problem
from dse.hardware import ELEMENT_BYTES, Hardware
from dse.workload import Operator
from evaluators._program import Phase, run_phases
from evaluators._transformer import (
    block_backward_ops,
    block_forward_ops,
    kv_cache_bytes_per_token,
    weight_matmul_shapes,
)
from evaluators.evaluation import evaluate_workload
from evaluators.models import BUILTIN_MODELS, TransformerArchitecture
from evaluators.workload_files import parse_model_workloads

COLUMNS = ("id", "workload", "params", "measured_s")
MODES = {"decoder_layer": ("prefill", "train", "decode"), "resnet50": ("train", "inference")}


@dataclass(frozen=True, slots=True)
class Measurement:
    row_id: str
    workload: str
    params: Mapping[str, Any]
    measured_s: float
    device: str = ""


@dataclass(frozen=True, slots=True)
class EndToEndComparison:
    measurement: Measurement
    predicted_s: float
    infeasible_reasons: tuple[str, ...] = ()
    """Why the design cannot run the row as stated (e.g. no such precision); the time is
    then what the core computed regardless."""

    @property
    def error(self) -> float:
        """(predicted - measured) / measured, on time."""
        return self.predicted_s / self.measurement.measured_s - 1.0


def read_measurements(path: Path) -> list[Measurement]:
    """The rows of a measurement CSV; every problem at once, as a ConfigError."""
    source = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([Problem(source, "", f"cannot read: {exc.strerror}")]) from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError([Problem(source, "", f"missing columns: {', '.join(missing)}")])
    out: list[Measurement] = []
    problems: list[Problem] = []
    for line, row in enumerate(reader, start=2):
        key = f"line {line} ({row['id']})"
        try:
            params = json.loads(row["params"])
            measured = float(row["measured_s"])
        except (ValueError, TypeError) as exc:
            problems.append(Problem(source, key, f"params must be JSON and measured_s a "
                                                 f"number: {exc}"))
            continue
        mode = params.get("mode") if isinstance(params, dict) else None
        if row["workload"] not in MODES or mode not in MODES[row["workload"]]:
            problems.append(Problem(source, key, f"unknown workload/mode "
                                                 f"{row['workload']!r}/{mode!r}; known: "
                                                 f"{dict(MODES)}"))
        elif row["workload"] == "decoder_layer" and params.get("model") not in BUILTIN_MODELS:
            problems.append(Problem(source, key, f"unknown model {params.get('model')!r}"))
        elif not measured > 0:
            problems.append(Problem(source, key, "measured_s must be positive"))
        else:
            out.append(Measurement(row["id"], row["workload"], params, measured,
                                   row.get("device") or ""))
    if problems:
        raise ConfigError(problems)
    return out


def _layer_s(hw: Hardware, arch: TransformerArchitecture, mode: str, batch: int, seq: int,
             precision: str) -> tuple[float, tuple[str, ...]]:
    e = ELEMENT_BYTES[precision]
    weights = float(e * sum(k * n for k, n in weight_matmul_shapes(arch, 1)))
    resident = weights

    def forward(seq_q: int, seq_kv: int, attention_pass: str = "forward") -> list[Operator]:
        return block_forward_ops(arch, batch=batch, seq_q=seq_q, seq_kv=seq_kv, tp=1,
                                 dtype=precision, sequence_parallel=False, count=1,
                                 attention_pass=attention_pass)

    if mode == "decode":
        ops = forward(1, seq)
        resident += batch * seq * kv_cache_bytes_per_token(arch, 1, e) / arch.layers
    elif mode == "train":
        ops = forward(seq, seq, "forward_backward") + block_backward_ops(
            arch, batch=batch, seq=seq, tp=1, dtype=precision, sequence_parallel=False,
            count=1)
    else:
        ops = forward(seq, seq)
    result = run_phases([hw], [Phase("layer", tuple(ops))], resident_bytes=resident,
                        graph_captured=mode == "decode")
    return float(result.phase_time_s["layer"][0]), tuple(result.reasons[0])


def predict(hw: Hardware, m: Measurement) -> tuple[float, tuple[str, ...]]:
    """Predicted seconds for the row on `hw`, and why `hw` cannot run it (if so)."""
    p = m.params
    precision = str(p.get("precision", "bf16"))
    batch = int(p["batch"])
    if m.workload == "decoder_layer":
        arch = BUILTIN_MODELS[str(p["model"])]
        assert isinstance(arch, TransformerArchitecture)
        return _layer_s(hw, arch, str(p["mode"]), batch, int(p["seq"]), precision)
    kind = "training" if p["mode"] == "train" else "inference"
    workload = parse_model_workloads([{"name": m.row_id, "kind": kind, "model": "resnet50",
                                       "precision": precision, "batch": batch}], m.row_id)[0]
    result = evaluate_workload(hw, workload)
    return result.metrics.get("step_time_s", math.nan), tuple(result.infeasible_reasons)


def compare(measurements: Sequence[Measurement], preset: str = "nvidia-h100-sxm"
            ) -> list[EndToEndComparison]:
    hw = load_hardware(preset)
    return [EndToEndComparison(m, *predict(hw, m)) for m in measurements]


def median_abs_error(comparisons: Sequence[EndToEndComparison]) -> float:
    return statistics.median(abs(c.error) for c in comparisons) if comparisons else math.nan
