"""End-to-end measurements against dse's predictions from kernels alone (issue 3).

Two CSV layouts are read, one row per measurement, `params` as JSON:
- the shipped `dse/data/reference/h100_end_to_end.csv` (columns `chip, workload, kind,
  params, measured_s`; measured on an H100 SXM with PyTorch 2.11 / CUDA 13.0, eager):
  `llm_layer` rows (`prefill_fwd`, `train_fwd_bwd`; params B, S) are one Llama-2-7B-shaped
  decoder layer (32 heads of 128, no grouped KV, SwiGLU 11008: exactly `llama2-7b`'s
  202,383,360 weights per layer); `resnet50` rows (`train_step_amp_bf16`,
  `infer_amp_bf16`; params B) are torchvision ResNet-50, channels-last, autocast bf16;
- what `scripts/measure_end_to_end.py` writes (`id, workload, params, measured_s, device,
  torch`; params name `mode`, `model`, `batch`, `seq`).

This module restates each row as the operators dse's evaluators emit for it and predicts
its time on a preset (`nvidia-h100-sxm` by default). ResNet-50 rows run under the
`eager-pytorch` CNN framework (the measurements are eager); two of them fit its two
constants (`fit_eager_cnn`, roles in `FIT_ROWS`), the others are held out. Nothing is
fitted to the decoder-layer rows.

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
SHIPPED_COLUMNS = ("chip", "workload", "kind", "params", "measured_s")
SHIPPED_FILE = "h100_end_to_end.csv"
MODES = {"decoder_layer": ("prefill", "train", "decode"), "resnet50": ("train", "inference")}
# The shipped layout's (workload, kind) -> (workload, mode); its decoder layer is llama2-7b's.
SHIPPED_KINDS = {
    ("llm_layer", "prefill_fwd"): ("decoder_layer", "prefill"),
    ("llm_layer", "train_fwd_bwd"): ("decoder_layer", "train"),
    ("resnet50", "train_step_amp_bf16"): ("resnet50", "train"),
    ("resnet50", "infer_amp_bf16"): ("resnet50", "inference"),
}
SHIPPED_LAYER_MODEL = "llama2-7b"
# NOTE: the rows `fit_eager_cnn` fits the eager-PyTorch CNN constants on (the others are
# held out): inference at batch 256 is device-bound (sets the convolution efficiency),
# training at batch 64 is host-bound (sets the host cost per kernel).
FIT_ROWS = ("resnet50/inference/B256", "resnet50/train/B64")


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


def _shipped_row(row: dict[str, str]) -> dict[str, str]:
    """A row of the shipped layout in the script's layout (id, workload, params)."""
    workload, kind = row.get("workload", ""), row.get("kind", "")
    target = SHIPPED_KINDS.get((workload, kind))
    try:
        params = json.loads(row.get("params") or "")
    except ValueError:
        return {**row, "id": f"{workload}/{kind}"}
    if target is None or not isinstance(params, dict):
        return {**row, "id": f"{workload}/{kind}",
                "params": json.dumps({"mode": kind} if isinstance(params, dict) else params)}
    name, mode = target
    converted: dict[str, Any] = {"mode": mode, "batch": params.get("B"), "precision": "bf16"}
    row_id = f"{name}/{mode}/B{params.get('B')}"
    if name == "decoder_layer":
        converted.update(model=SHIPPED_LAYER_MODEL, seq=params.get("S"))
        row_id += f"/S{params.get('S')}"
    return {"id": row_id, "workload": name, "params": json.dumps(converted),
            "measured_s": row.get("measured_s", ""), "device": row.get("chip", "")}


def shipped_measurements() -> list[Measurement]:
    """The H100 end-to-end rows shipped with dse."""
    from importlib.resources import files

    path = files("dse.data.reference") / SHIPPED_FILE
    return read_measurements(Path(str(path)))


def read_measurements(path: Path) -> list[Measurement]:
    """The rows of a measurement CSV, in either layout; every problem at once."""
    source = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([Problem(source, "", f"cannot read: {exc.strerror}")]) from exc
    reader = csv.DictReader(text.splitlines())
    fields = reader.fieldnames or []
    shipped_layout = all(c in fields for c in SHIPPED_COLUMNS)
    missing = [c for c in COLUMNS if c not in fields]
    if missing and not shipped_layout:
        raise ConfigError([Problem(source, "", f"missing columns: {', '.join(missing)} "
                                   f"(or the layout {', '.join(SHIPPED_COLUMNS)})")])
    out: list[Measurement] = []
    problems: list[Problem] = []
    for line, raw in enumerate(reader, start=2):
        row = _shipped_row(raw) if shipped_layout else raw
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
    # NOTE: both measurement layouts run ResNet-50 eagerly (no torch.compile, no graph).
    framework = str(p.get("framework", "eager-pytorch"))
    workload = parse_model_workloads([{"name": m.row_id, "kind": kind, "model": "resnet50",
                                       "precision": precision, "batch": batch,
                                       "framework": framework}], m.row_id)[0]
    result = evaluate_workload(hw, workload)
    return result.metrics.get("step_time_s", math.nan), tuple(result.infeasible_reasons)


def compare(measurements: Sequence[Measurement], preset: str = "nvidia-h100-sxm"
            ) -> list[EndToEndComparison]:
    hw = load_hardware(preset)
    return [EndToEndComparison(m, *predict(hw, m)) for m in measurements]


def role(m: Measurement) -> str:
    """`fit` for the rows the eager CNN constants are fitted on, else `held-out`."""
    return "fit" if m.row_id in FIT_ROWS else "held-out"


@dataclass(frozen=True, slots=True)
class EagerCnnFit:
    conv_efficiency_factor: float
    training_host_s_per_kernel: float


def fit_eager_cnn(preset: str = "nvidia-h100-sxm") -> EagerCnnFit:
    """Re-derive `evaluators.cnn`'s eager-PyTorch constants from the shipped fit rows:
    the convolution factor that makes ResNet-50 inference at batch 256 come out as
    measured (bisection; the time falls as the factor rises), then the host cost per
    kernel that makes training at batch 64 (host-bound) come out as measured."""
    from dataclasses import replace

    from evaluators import cnn

    hw = load_hardware(preset)
    rows = {m.row_id: m for m in shipped_measurements()}
    infer, train = rows[FIT_ROWS[0]], rows[FIT_ROWS[1]]
    workload = parse_model_workloads([{"name": "fit", "kind": "inference", "model": "resnet50",
                                       "batch": int(infer.params["batch"]),
                                       "framework": "eager-pytorch"}], "fit")[0]
    eager = cnn.CNN_FRAMEWORK_PROFILES["eager-pytorch"]

    def infer_s(factor: float) -> float:
        profile = replace(eager, conv_efficiency_factor=factor)
        return cnn.evaluate([hw], workload, profile)[0].metrics["step_time_s"]

    low, high = 0.05, 1.0
    for _ in range(30):
        mid = 0.5 * (low + high)
        low, high = (low, mid) if infer_s(mid) < infer.measured_s else (mid, high)
    factor = 0.5 * (low + high)
    arch = BUILTIN_MODELS["resnet50"]
    assert isinstance(arch, cnn.CnnArchitecture)
    kernels = cnn.kernels_per_step(arch, "bf16", True, "eager-pytorch")
    return EagerCnnFit(round(factor, 4), round(train.measured_s / kernels, 8))


def main() -> None:
    fit = fit_eager_cnn()
    print(f"EAGER_CONV_EFFICIENCY_FACTOR = {fit.conv_efficiency_factor}")
    print(f"EAGER_TRAINING_HOST_S_PER_KERNEL = {fit.training_host_s_per_kernel * 1e6:.2f}e-6")


if __name__ == "__main__":
    main()


def median_abs_error(comparisons: Sequence[EndToEndComparison]) -> float:
    return statistics.median(abs(c.error) for c in comparisons) if comparisons else math.nan
