"""Predicted versus published training and inference results (`dse validate published`).

Each case is one row of `dse/data/reference/published_results.csv` restated as a
model-level workload on a preset (the plan the publication describes: parallelism,
micro-batch, recompute, precision, batch, prompt/output lengths) and the quantity the row
reports, computed from the prediction the way the publication computed it:

- Megatron-LM (Narayanan et al. 2021) TFLOP/s per GPU: their Eq. 3 FLOP count, which
  includes the full activation recompute (a hardware-FLOP count), over predicted step time;
- Korthikanti et al. 2022 MFU rows: their model-FLOP count (no recompute);
- other training rows: tokens/s per chip, or model TFLOP/s per chip (6N + attention);
- inference rows: generated (output) tokens/s per chip only; where a source counts prompt
  + generated tokens the CSV's per-chip column already holds the generated-only figure;
- power rows: average board power per chip.

Decoder-serving rows name the serving software the publication used (the CSV's
`software` column, mapped to a family of `evaluators.serving`): its per-step host work is
the only thing fitted to these rows, and only on NVIDIA rows (A100, H100, H200) --
`fit_serving_overheads()` -- so the Gaudi2 serving rows check it held out. vLLM on the
MI300X is the ROCm build, fitted on other LLM-Inference-Bench runs than the ones quoted
here (`dse.validation.llm_inference_bench`), so the MI300X rows are held out too.
Everything else is held out: the evaluators' other factors are global and documented
where they are defined, and the core's calibration is fitted on H100 kernel measurements
(`dse validate kernels`).
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from dse.config import load_hardware
from dse.data.reference import reference_text
from dse.hardware import Hardware
from evaluators.api import WorkloadMetrics
from evaluators.evaluation import evaluate_workload
from evaluators.models import TransformerArchitecture
from evaluators.serving import SERVING_OVERHEADS, ServingOverhead
from evaluators.workload_files import ModelWorkload, parse_model_workloads

# Acceptance targets (issue 3): median |error| <= 15 %, no row off by more than 2x.
TARGET_MEDIAN_ABS_ERROR = 0.15
TARGET_MAX_RATIO = 2.0

CHIP_PRESETS: Mapping[str, str] = {
    "NVIDIA A100 80GB SXM4": "nvidia-a100-80gb",
    "NVIDIA H100 SXM5 80GB": "nvidia-h100-sxm",
    "NVIDIA H200 SXM 141GB": "nvidia-h200",
    "AMD Instinct MI300X": "amd-mi300x",
    "Intel Gaudi2": "intel-gaudi2",
}

FIT_PRESETS: tuple[str, ...] = ("nvidia-a100-80gb", "nvidia-h100-sxm", "nvidia-h200")
"""Chips whose serving rows fit the serving frameworks' host overhead; others are held out."""


def serving_family(software: str, chip: str = "") -> str:
    """The `evaluators.serving` family of a CSV `software` entry on a CSV `chip`.

    NOTE: trtllm-bench with the PyTorch backend (TensorRT-LLM 0.19+, 2025) overlaps the
    scheduler with the device step (its "overlap scheduler"); the 2024 TensorRT-LLM used
    in LLM-Inference-Bench does not, so they are different families, like vLLM before
    and after v0.6.0. vLLM on AMD chips is the ROCm build, its own family: LLM-Inference-
    Bench ran vLLM v0.6.1 built from `Dockerfile.rocm` on the MI300X (its
    `vLLM/MI300X/README.md`), whose GEMMs and per-layer costs differ from the CUDA build.
    """
    text = software.lower()
    if "vllm" in text and chip.startswith("AMD"):
        return "vllm-rocm-2024"
    if "trtllm-bench" in text:
        return "tensorrt-llm-2025"
    if "tensorrt-llm" in text:
        return "tensorrt-llm-2024"
    if "vllm" in text:
        return "vllm-2024"
    if "deepspeed" in text or "habana" in text:
        return "deepspeed"
    return "ideal"


@dataclass(frozen=True, slots=True)
class PublishedCase:
    """One published row restated as a workload, and how to read the prediction."""

    row_id: str
    workload: Mapping[str, Any]
    quantity: str
    """A key of QUANTITIES: how the published figure is computed from the prediction."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    row_id: str
    chip: str
    preset: str
    description: str
    workload_name: str
    quantity: str
    unit: str
    published: float
    predicted: float
    feasible: bool
    note: str
    role: str = "held-out"
    """`fit` when the row fits the serving overhead (NVIDIA serving rows), else `held-out`."""
    serving: str = ""
    """The serving family the row was restated with (decoder serving rows only)."""

    @property
    def error(self) -> float:
        """Signed relative error, (predicted - published) / published."""
        return self.predicted / self.published - 1.0 if self.published else math.nan

    @property
    def ratio(self) -> float:
        """max(predicted/published, published/predicted); inf when nothing was predicted."""
        if self.predicted <= 0 or self.published <= 0:
            return math.inf
        return max(self.predicted / self.published, self.published / self.predicted)


def _megatron_counts(workload: ModelWorkload, step_s: float, recompute: bool) -> float:
    """TFLOP/s per GPU by Narayanan et al. 2021 Eq. 3 (recompute) or the model count."""
    arch = workload.model
    assert isinstance(arch, TransformerArchitecture)
    b, s, layers, h, v = (workload.global_batch, workload.seq_len, arch.layers, arch.hidden,
                          arch.vocab)
    if recompute:
        flops = 96.0 * b * s * layers * h * h * (1 + s / (6 * h) + v / (16 * layers * h))
    else:
        flops = 72.0 * b * s * layers * h * h * (1 + s / (6 * h) + v / (12 * layers * h))
    return flops / step_s / workload.system.chips / 1e12


Quantity = Callable[[ModelWorkload, WorkloadMetrics], float]

QUANTITIES: Mapping[str, tuple[str, Quantity]] = {
    "megatron_eq3_tflops_per_chip": (
        "TFLOP/s/GPU", lambda w, m: _megatron_counts(w, m.metrics["step_time_s"], True)),
    "megatron_model_tflops_per_chip": (
        "TFLOP/s/GPU", lambda w, m: _megatron_counts(w, m.metrics["step_time_s"], False)),
    "model_tflops_per_chip": ("TFLOP/s/chip", lambda w, m: m.metrics["model_tflops_per_chip"]),
    "tokens_per_s_per_chip": ("tokens/s/chip", lambda w, m: m.metrics["tokens_per_s_per_chip"]),
    "output_tokens_per_s_per_chip": (
        "output tokens/s/chip", lambda w, m: m.metrics["output_tokens_per_s_per_chip"]),
    "samples_per_s_per_chip": ("samples/s/chip",
                               lambda w, m: m.metrics["samples_per_s_per_chip"]),
    "power_w": ("W", lambda w, m: m.metrics["power_w"]),
}


def _gpt(layers: int, hidden: int, heads: int, vocab: int = 51200) -> dict[str, Any]:
    return {"layers": layers, "hidden": hidden, "heads": heads, "vocab": vocab,
            "ffn_kind": "gelu"}


def _train(name: str, model: Any, seq: int, batch: int, system: dict[str, Any],
           recompute: str = "full", precision: str = "bf16") -> dict[str, Any]:
    return {"name": name, "kind": "training", "model": model, "precision": precision,
            "seq_len": seq, "global_batch": batch, "recompute": recompute,
            "system": system}


def serve_doc(name: str, model: str, prompt: int, output: int, batch: int | str,
              chips: int = 1, precision: str = "bf16") -> dict[str, Any]:
    """A decoder-serving workload document: `batch` prompts on `chips` tensor-parallel."""
    return {"name": name, "kind": "inference", "model": model, "precision": precision,
            "prompt_tokens": prompt, "output_tokens": output, "batch": batch,
            "system": {"chips": chips, "tensor_parallel": chips}}


def _ptdp(tp: int, pp: int, dp: int, mb: int) -> dict[str, Any]:
    return {"chips": tp * pp * dp, "tensor_parallel": tp, "pipeline_parallel": pp,
            "data_parallel": dp, "micro_batch": mb}


def _seqpar(tp: int, pp: int) -> dict[str, Any]:
    return {**_ptdp(tp, pp, 1, 1), "sequence_parallel": True}


def _fsdp(chips: int, mb: int) -> dict[str, Any]:
    return {"chips": chips, "data_parallel": chips, "micro_batch": mb, "zero_stage": 3}


_MEGATRON = ("Narayanan et al. 2021 Table 1/2 plan; micro-batch not in the row (chosen to "
             "fit); full recompute; Eq. 3 FLOP count")
_KORTHIKANTI = ("Korthikanti et al. 2022 plan (TP8, PP as GPUs/8, batch = GPUs); sequence "
                "parallel + selective recompute; model-FLOP count")
_FOUNDRY = ("LLM Foundry FSDP full shard; micro-batch not in the row (chosen to fit); "
            "tokens/s/GPU")
_ARGONNE = "LLM-Inference-Bench static batch, generated tokens only (prompt excluded)"
_TRTLLM = "trtllm-bench max load (batch auto), output tokens only"

CASES: tuple[PublishedCase, ...] = (
    # --- Megatron-LM PTD-P on A100 (Narayanan et al. 2021) ----------------------------
    PublishedCase("M001", _train("gpt-1.7b", _gpt(24, 2304, 24), 2048, 512, _ptdp(1, 1, 32, 4)),
                  "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M002", _train("gpt-3.6b", _gpt(30, 3072, 32), 2048, 512, _ptdp(2, 1, 32, 4)),
                  "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M003", _train("gpt-7.5b", _gpt(36, 4096, 32), 2048, 512, _ptdp(4, 1, 32, 4)),
                  "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M004", _train("gpt-18.4b", _gpt(40, 6144, 48), 2048, 1024,
                                 _ptdp(8, 1, 32, 4)), "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M005", _train("gpt-39.1b", _gpt(48, 8192, 64), 2048, 1536,
                                 _ptdp(8, 2, 32, 2)), "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M006", _train("gpt-76.1b", _gpt(60, 10240, 80), 2048, 1792,
                                 _ptdp(8, 4, 32, 2)), "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M008", _train("gpt-310b", _gpt(96, 16384, 128), 2048, 2160,
                                 _ptdp(8, 16, 15, 1)), "megatron_eq3_tflops_per_chip",
                  _MEGATRON),
    PublishedCase("M009", _train("gpt-530b", _gpt(105, 20480, 128), 2048, 2520,
                                 _ptdp(8, 35, 9, 1)), "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M011", _train("gpt3-175b-384", "gpt3-175b", 2048, 1536, _ptdp(8, 12, 4, 1)),
                  "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M012", _train("gpt3-175b-768", "gpt3-175b", 2048, 1536, _ptdp(8, 12, 8, 1)),
                  "megatron_eq3_tflops_per_chip", _MEGATRON),
    PublishedCase("M013", _train("gpt3-175b-1536", "gpt3-175b", 2048, 1536,
                                 _ptdp(8, 12, 16, 1)), "megatron_eq3_tflops_per_chip",
                  _MEGATRON),
    PublishedCase("M014", _train("gpt3-175b-zero3", "gpt3-175b", 2048, 1536, _fsdp(384, 4)),
                  "megatron_eq3_tflops_per_chip",
                  "ZeRO-3 over 384 GPUs, 4 sequences each; Eq. 3 FLOP count"),
    # --- Korthikanti et al. 2022: sequence parallel + selective recompute -------------
    PublishedCase("M016", _train("gpt-22b-sp", _gpt(48, 6144, 64), 2048, 4, _seqpar(8, 1),
                                 "selective"), "megatron_model_tflops_per_chip", _KORTHIKANTI),
    PublishedCase("M017", _train("gpt-175b-sp", _gpt(96, 12288, 96), 2048, 64, _seqpar(8, 8),
                                 "selective"), "megatron_model_tflops_per_chip", _KORTHIKANTI),
    PublishedCase("M018", _train("gpt-530b-sp", _gpt(105, 20480, 128), 2048, 280,
                                 _seqpar(8, 35), "selective"), "megatron_model_tflops_per_chip",
                  _KORTHIKANTI),
    PublishedCase("M019", _train("gpt-1t-sp", _gpt(128, 25600, 160), 2048, 512,
                                 _seqpar(8, 64), "selective"), "megatron_model_tflops_per_chip",
                  _KORTHIKANTI),
    # --- H100 large-scale training -----------------------------------------------------
    PublishedCase("M021", _train("gpt3-175b-h100", _gpt(96, 12288, 96, 131072), 4096, 1152,
                                 _seqpar(8, 12), "selective"), "model_tflops_per_chip",
                  "Megatron-Core; plan TP8 PP12 assumed (not in the row); MFU of 989 TF"),
    PublishedCase("M023", _train("llama3-405b", {
        "layers": 128, "hidden": 16384, "heads": 128, "kv_heads": 8, "ffn_hidden": 53248,
        "vocab": 128256, "ffn_kind": "swiglu"}, 8192, 2048,
        {**_ptdp(8, 16, 64, 1), "sequence_parallel": True, "zero_stage": 1,
         "virtual_stages": 2}, "none"),
        "model_tflops_per_chip", "Llama 3 TP8 PP16 DP64, interleaved 1F1B, optimizer state "
        "sharded over DP; 126 layers balanced over 16 stages (first/last stage one layer "
        "lighter) modelled as 128; BF16 MFU count"),
    # --- LLM Foundry (MosaicML) FSDP -----------------------------------------------------
    PublishedCase("M029", _train("mpt-70b-h100", "mpt-70b", 2048, 512, _fsdp(64, 8)),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M030", _train("mpt-30b-h100", "mpt-30b", 2048, 256, _fsdp(32, 8)),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M031", _train("mpt-13b-h100", "mpt-13b", 4096, 64, _fsdp(8, 8)),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M033", _train("mpt-1b-h100", "mpt-1b", 2048, 64, _fsdp(8, 8), "none"),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M034", _train("mpt-3b-h100-fp8", "mpt-3b", 2048, 64, _fsdp(8, 8), "none",
                                 "fp8"), "tokens_per_s_per_chip", _FOUNDRY + "; fp8 matmuls"),
    PublishedCase("M035", _train("mpt-70b-a100", "mpt-70b", 2048, 512, _fsdp(64, 8)),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M037", _train("mpt-13b-a100", "mpt-13b", 2048, 16, _fsdp(8, 2), "none"),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M038", _train("mpt-7b-a100", "mpt-7b", 2048, 32, _fsdp(8, 4), "none"),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M039", _train("mpt-1b-a100", "mpt-1b", 2048, 64, _fsdp(8, 8), "none"),
                  "tokens_per_s_per_chip", _FOUNDRY),
    PublishedCase("M041", _train("mpt-7b-gaudi2", "mpt-7b", 2048, 64, _fsdp(8, 8), "none"),
                  "model_tflops_per_chip",
                  "LLM Foundry on Gaudi2; published as '>260' TFLOP/s: compared with 260"),
    # --- TensorRT-LLM max-load throughput --------------------------------------------------
    PublishedCase("M074", serve_doc("llama3-8b-1k", "llama3-8b", 1000, 1000, "auto",
                                 precision="fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M075", serve_doc("llama3-8b-1k-h200", "llama3-8b", 1000, 1000, "auto",
                                 precision="fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M076", serve_doc("llama3-8b-128", "llama3-8b", 128, 128, "auto",
                                 precision="fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M078", serve_doc("llama3-70b-1k-h200", "llama3-70b", 1000, 1000, "auto",
                                 precision="fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M080", serve_doc("llama3-405b-1k", "llama3-405b", 1000, 1000, "auto", 8,
                                 "fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M081", serve_doc("llama3-405b-1k-h200", "llama3-405b", 1000, 1000, "auto", 8,
                                 "fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    PublishedCase("M083", serve_doc("llama3-8b-2k", "llama3-8b", 2048, 2048, "auto",
                                 precision="fp8"), "output_tokens_per_s_per_chip", _TRTLLM),
    # --- LLM-Inference-Bench (Argonne): fixed batch, 1024 in / 1024 out --------------------
    PublishedCase("M084", serve_doc("llama3-8b-b1", "llama3-8b", 1024, 1024, 1),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M085", serve_doc("llama3-8b-b64", "llama3-8b", 1024, 1024, 64),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M087", serve_doc("llama3-8b-b64-h100", "llama3-8b", 1024, 1024, 64),
                  "output_tokens_per_s_per_chip", _ARGONNE + " (vLLM)"),
    PublishedCase("M088", serve_doc("llama3-8b-b64-h100-trt", "llama3-8b", 1024, 1024, 64),
                  "output_tokens_per_s_per_chip", _ARGONNE + " (TensorRT-LLM)"),
    PublishedCase("M091", serve_doc("llama3-8b-b1-mi300x", "llama3-8b", 1024, 1024, 1),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M092", serve_doc("llama3-8b-b16-mi300x", "llama3-8b", 1024, 1024, 16),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M093", serve_doc("llama3-8b-b1-gaudi2", "llama3-8b", 1024, 1024, 1),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M094", serve_doc("llama3-8b-b16-gaudi2", "llama3-8b", 1024, 1024, 16),
                  "output_tokens_per_s_per_chip", _ARGONNE),
    PublishedCase("M097", serve_doc("llama3-70b-tp4-a100", "llama3-70b", 1024, 1024, 1, 4),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP4"),
    PublishedCase("M098", serve_doc("llama3-70b-tp4-h100", "llama3-70b", 1024, 1024, 1, 4),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP4"),
    PublishedCase("M100", serve_doc("llama3-70b-tp4-mi300x", "llama3-70b", 1024, 1024, 1, 4),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP4"),
    PublishedCase("M101", serve_doc("llama3-70b-tp8-b64-mi300x", "llama3-70b", 1024, 1024, 64, 8),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP8"),
    PublishedCase("M102", serve_doc("llama3-70b-tp4-gaudi2", "llama3-70b", 1024, 1024, 1, 4),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP4"),
    PublishedCase("M103", serve_doc("llama3-70b-tp8-gaudi2", "llama3-70b", 1024, 1024, 1, 8),
                  "output_tokens_per_s_per_chip", _ARGONNE + "; TP8"),
    # --- MLPerf Inference offline (kernel-dominated vision/encoder) ------------------------
    PublishedCase("M067", {"name": "resnet50-offline", "kind": "inference", "model": "resnet50",
                           "precision": "int8", "batch": "auto"},
                  "samples_per_s_per_chip", "MLPerf offline ResNet-50, INT8, batch auto"),
    # --- Board power during serving (LLM-Inference-Bench) ----------------------------------
    PublishedCase("M106", serve_doc("llama3-8b-b1-power", "llama3-8b", 1024, 1024, 1),
                  "power_w", "average board power, batch 1"),
    PublishedCase("M107", serve_doc("llama3-8b-b64-power", "llama3-8b", 1024, 1024, 64),
                  "power_w", "average board power, batch 64"),
    PublishedCase("M108", serve_doc("llama3-8b-b1-power-h100", "llama3-8b", 1024, 1024, 1),
                  "power_w", "average board power, batch 1"),
)


EXCLUDED: Mapping[str, str] = {
    "M068": "MLPerf BERT-Large runs unpadded variable-length sequences; at the padded 384 "
            "tokens the published 9,164 samples/s would need 2.4 PFLOP/s of int8, above "
            "the H200's 1.98 peak, so the work per sample is not known from the row",
    "M027": "global batch (2M tokens = 1024 sequences) does not divide over 124 data-parallel "
            "replicas; the plan is not stated precisely enough to restate",
    "M063": "MLPerf Llama2-70B (OpenOrca) prompt/output lengths are dataset-defined and not "
            "in the row",
}
"""Rows of the CSV on the validated chips that are not restated, and why."""


@lru_cache(maxsize=1)
def published_rows() -> dict[str, dict[str, str]]:
    """The published results CSV (copied into the package with its sources), by id."""
    text = reference_text("published_results.csv")
    return {row["id"]: row for row in csv.DictReader(text.splitlines())}


def _number(text: str) -> float:
    cleaned = text.strip().lstrip(">~").replace(",", "")
    return float(cleaned)


def published_value(row: Mapping[str, str], quantity: str) -> float:
    """The row's figure in the unit of `quantity` (per chip where the row has one)."""
    if quantity == "power_w":
        return _number(row["value"])
    try:
        return _number(row["per_chip_value"])
    except ValueError:
        return _number(row["value"])


def case_serving(case: PublishedCase) -> str:
    """The serving family of a decoder-serving case ('' for other rows)."""
    if case.workload.get("kind") != "inference" or "prompt_tokens" not in case.workload:
        return ""
    row = published_rows()[case.row_id]
    return serving_family(row["software"], row["chip"])


def case_role(case: PublishedCase) -> str:
    """`fit` for NVIDIA rows of a serving family that is fitted, else `held-out`."""
    family = case_serving(case)
    preset = CHIP_PRESETS[published_rows()[case.row_id]["chip"]]
    fitted = (family not in ("", "ideal", "deepspeed")
              and case.quantity == "output_tokens_per_s_per_chip")
    return "fit" if fitted and preset in FIT_PRESETS else "held-out"


def restated_workload(case: PublishedCase, serving: str | None = None) -> ModelWorkload:
    """The case as a workload; decoder-serving rows carry the row's serving software."""
    raw = dict(case.workload)
    family = case_serving(case) if serving is None else serving
    if family:
        raw["serving"] = {"software": family}
    return parse_model_workloads([raw], f"<case {case.row_id}>")[0]


def compare_case(case: PublishedCase, hardware_by_preset: Mapping[str, Hardware] | None = None
                 ) -> Comparison:
    row = published_rows()[case.row_id]
    preset = CHIP_PRESETS[row["chip"]]
    hw = (hardware_by_preset or {}).get(preset) or load_hardware(preset)
    workload = restated_workload(case)
    metrics = evaluate_workload(hw, workload)
    unit, quantity = QUANTITIES[case.quantity]
    predicted = quantity(workload, metrics) if metrics.metrics.get(
        "step_time_s", metrics.metrics.get("request_latency_s", 0.0)) else 0.0
    return Comparison(case.row_id, row["chip"], preset, row["workload_model"], workload.name,
                      case.quantity,
                      unit, published_value(row, case.quantity), float(predicted),
                      metrics.feasible, case.note + (
                          "" if metrics.feasible else
                          " | INFEASIBLE: " + "; ".join(metrics.infeasible_reasons)),
                      case_role(case), case_serving(case))


def compare_all(cases: Sequence[PublishedCase] = CASES, chip: str | None = None
                ) -> list[Comparison]:
    hardware: dict[str, Hardware] = {}
    out: list[Comparison] = []
    for case in cases:
        row = published_rows()[case.row_id]
        preset = CHIP_PRESETS[row["chip"]]
        if chip and chip not in (preset, row["chip"]):
            continue
        if preset not in hardware:
            hardware[preset] = load_hardware(preset)
        out.append(compare_case(case, hardware))
    return out


@dataclass(frozen=True, slots=True)
class Summary:
    rows: int
    median_abs_error: float
    max_ratio: float
    rows_beyond_2x: int
    chips: tuple[str, ...]

    @property
    def meets_targets(self) -> bool:
        return (self.median_abs_error <= TARGET_MEDIAN_ABS_ERROR
                and self.max_ratio <= TARGET_MAX_RATIO)


def summarise(comparisons: Sequence[Comparison]) -> Summary:
    errors = [abs(c.error) if c.predicted > 0 else math.inf for c in comparisons]
    ratios = [c.ratio for c in comparisons]
    return Summary(
        rows=len(comparisons),
        median_abs_error=statistics.median(errors) if errors else math.nan,
        max_ratio=max(ratios) if ratios else math.nan,
        rows_beyond_2x=sum(1 for r in ratios if r > TARGET_MAX_RATIO),
        chips=tuple(sorted({c.preset for c in comparisons})),
    )


def group_summaries(comparisons: Sequence[Comparison]) -> dict[str, Summary]:
    """Summaries of the fit rows, the held-out rows, the held-out serving rows (the check
    of the fitted serving overhead on MI300X and Gaudi2) and each chip."""
    groups: dict[str, list[Comparison]] = {
        "fit (serving overhead, NVIDIA)": [c for c in comparisons if c.role == "fit"],
        "held-out": [c for c in comparisons if c.role == "held-out"],
        "held-out serving (non-NVIDIA)": [
            c for c in comparisons if c.role == "held-out" and c.serving
            and c.preset not in FIT_PRESETS],
    }
    for preset in sorted({c.preset for c in comparisons}):
        groups[preset] = [c for c in comparisons if c.preset == preset]
    return {name: summarise(rows) for name, rows in groups.items() if rows}


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    return {"id": c.row_id, "chip": c.chip, "preset": c.preset, "workload": c.description,
            "role": c.role, "serving": c.serving,
            "restated_as": c.workload_name,
            "quantity": c.quantity, "unit": c.unit, "published": c.published,
            "predicted": c.predicted, "error": c.error, "feasible": c.feasible,
            "note": c.note}


@dataclass(frozen=True, slots=True)
class ServingFit:
    """The fitted host overhead of one serving family and the rows it was fitted on."""

    family: str
    overhead: ServingOverhead
    rows: tuple[str, ...]
    rms_log_error: float


def fit_serving_overheads(cases: Sequence[PublishedCase] = CASES) -> dict[str, ServingFit]:
    """Fit each serving family's per-step and per-sequence host seconds on its fit rows.

    Fit rows are the NVIDIA decoder-serving rows reporting output tokens/s (power rows are
    checks, not fit). A row's prediction with host overhead `a + b x batch` per step is
    the ideal-runtime prediction scaled by T0 / (T0 + steps (a + b batch)), with T0 the
    ideal request latency, so one evaluation per row suffices. Least squares on
    log(predicted / published), a, b >= 0.
    """
    from scipy.optimize import least_squares

    hardware: dict[str, Hardware] = {}
    by_family: dict[str, list[tuple[str, float, float, float, float]]] = {}
    for case in cases:
        if case_role(case) != "fit":
            continue
        row = published_rows()[case.row_id]
        preset = CHIP_PRESETS[row["chip"]]
        hw = hardware.setdefault(preset, load_hardware(preset))
        workload = restated_workload(case, serving="ideal")
        m = evaluate_workload(hw, workload).metrics
        by_family.setdefault(case_serving(case), []).append(
            (case.row_id, m["output_tokens_per_s_per_chip"], m["request_latency_s"],
             float(workload.output_tokens), m["batch"]))
    fits: dict[str, ServingFit] = {}
    for family, rows in sorted(by_family.items()):
        published = np.array([published_value(published_rows()[r[0]],
                                              "output_tokens_per_s_per_chip") for r in rows])
        ideal = np.array([r[1] for r in rows])
        latency = np.array([r[2] for r in rows])
        steps = np.array([r[3] for r in rows])
        batch = np.array([r[4] for r in rows])

        def residual(x: np.ndarray, ideal: np.ndarray = ideal, latency: np.ndarray = latency,
                     steps: np.ndarray = steps, batch: np.ndarray = batch,
                     published: np.ndarray = published) -> np.ndarray:
            host = steps * (x[0] * 1e-3 + x[1] * 1e-3 * batch)
            return np.log(ideal * latency / (latency + host) / published)

        result = least_squares(residual, x0=np.array([1.0, 0.01]), bounds=(0.0, np.inf))
        per_step_s, per_sequence_s = (float(v) * 1e-3 for v in result.x)
        fits[family] = ServingFit(
            family, ServingOverhead(per_step_s, per_sequence_s,
                                    SERVING_OVERHEADS[family].evidence),
            tuple(r[0] for r in rows),
            float(np.sqrt(np.mean(residual(result.x) ** 2))))
    return fits


def main() -> None:
    """`python -m dse.validation.published`: print the serving-overhead fits."""
    from dse.validation.llm_inference_bench import fit_rocm_serving

    fits = [*fit_serving_overheads().values(), fit_rocm_serving()]
    for fit in fits:
        o = fit.overhead
        print(f"{fit.family}: per_step_s={o.per_step_s:.6g} "
              f"per_sequence_s={o.per_sequence_s:.6g} per_layer_s={o.per_layer_s:.6g} "
              f"decode_gemm_peak_fraction={o.decode_gemm_peak_fraction:.4g} "
              f"rows={len(fit.rows)} ({', '.join(fit.rows[:4])}"
              f"{', ...' if len(fit.rows) > 4 else ''}) "
              f"rms_log_error={fit.rms_log_error:.3f}")


if __name__ == "__main__":
    main()
