"""Host work of a serving framework per decode step, which the accelerator waits on.

A serving engine runs host-side work every generation step: scheduling the running
batch, building the step's input tensors and block tables, sampling, detokenising and
returning outputs (Python objects per sequence). Unless the engine overlaps that work
with the device's next step, the device idles while it runs. The vLLM team measured
this on Llama 3 8B on one H100 before v0.6.0: the HTTP API server and the scheduler took
about a third each of the total time, the GPU computed for well under half of it, and
removing the overhead (multi-step scheduling, asynchronous output processing) gave up
to 2.7x throughput (vLLM blog, "vLLM v0.6.0: 2.7x Throughput Improvement and 5x Latency
Reduction", 2024-09-05, https://blog.vllm.ai/2024/09/05/perf-update.html).

dse models this as a global figure per software family, never per chip:
`host_s_per_step = per_step_s + per_sequence_s x sequences in the step`, paid once per
generation step (the prefill step and every decode step) with the accelerator idle.
`ideal` (the default: a runtime that hides its host work) pays nothing.

The figures are FITTED on NVIDIA rows (A100, H100, H200) of the published results only
(`dse.validation.published.fit_serving_overheads`; a test checks the constants below are
that fit) and CHECKED on the held-out Gaudi2 rows.

vLLM built for ROCm in 2024 is its own family, `vllm-rocm-2024`, with two more terms:
`per_layer_s` (per-kernel costs paid for every transformer layer of every step) and
`decode_gemm_peak_fraction` (decode-step GEMMs running at that fraction of the chip's
dense peak, charged on top of the ideal step). It is fitted on LLM-Inference-Bench's
single-GPU MI300X rows at 128, 256, 512 and 2048 tokens
(`dse/data/reference/llm_inference_bench_llama3.csv`, never the 1024-token rows that
`published_results.csv` holds) and checked on the 1024-token and multi-GPU rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FloatArray = np.ndarray

ServingSoftware = Literal["ideal", "vllm-2024", "vllm-rocm-2024", "tensorrt-llm-2024",
                          "tensorrt-llm-2025", "deepspeed"]
SERVING_SOFTWARE: tuple[str, ...] = ("ideal", "vllm-2024", "vllm-rocm-2024",
                                     "tensorrt-llm-2024", "tensorrt-llm-2025", "deepspeed")


@dataclass(frozen=True, slots=True)
class ServingOverhead:
    """Seconds the accelerator loses to the framework per generation step."""

    per_step_s: float
    per_sequence_s: float
    evidence: str
    per_layer_s: float = 0.0
    """Per transformer layer, every step (launch costs graphs do not remove)."""
    decode_gemm_peak_fraction: float = 0.0
    """Decode-step GEMMs run at this fraction of the dense peak on top of the ideal step;
    0: the framework's GEMMs are as fast as the core models them."""

    def host_s_per_step(self, sequences: int, layers: int = 0) -> float:
        return self.per_step_s + self.per_sequence_s * sequences + self.per_layer_s * layers

    def decode_gemm_s(self, gemm_flop: float, peak_flop_per_s: FloatArray) -> FloatArray:
        """Extra seconds per decode step for `gemm_flop` of GEMMs, per design."""
        peak = np.asarray(peak_flop_per_s, dtype=float)
        if self.decode_gemm_peak_fraction <= 0.0:
            return np.zeros_like(peak)
        rate = self.decode_gemm_peak_fraction * peak
        return np.divide(gemm_flop, rate, out=np.zeros_like(peak), where=rate > 0)


# NOTE: fitted by `fit_serving_overheads()` (least squares on log(predicted/published)
# of the NVIDIA rows of each family, both terms >= 0); re-run it and copy the figures
# here when the core or the evaluators change (tests/validation/test_published.py fails
# until they agree). Families without an NVIDIA row cannot be fitted and stay ideal.
SERVING_OVERHEADS: dict[str, ServingOverhead] = {
    "ideal": ServingOverhead(0.0, 0.0, "a runtime that overlaps all host work"),
    "vllm-2024": ServingOverhead(
        5.81e-3, 4.16e-5,
        "vLLM 0.4-0.5 (2024), synchronous scheduling and output processing; fitted on "
        "LLM-Inference-Bench A100/H100 vLLM rows"),
    # NOTE: LLM-Inference-Bench's MI300X runs (vLLM v0.6.1 from Dockerfile.rocm) grow with
    # the batch at a rate proportional to the weights per chip -- at 128 tokens, +0.44 ms
    # per sequence per step for Llama 3 8B on one GPU, +4.4 ms for 70B on one, +0.8 ms for
    # 70B over eight -- i.e. decode GEMMs ran compute-bound near 36 TFLOP/s, about 3 % of
    # the bf16 matrix peak; Nscale measured up to 7.2x from tuning MI300X GEMMs under vLLM
    # in 2024 (nscale.com/blog/nscale-benchmarks-updated-amd-mi300x-gpus-with-gemm-tuning-
    # using-gradlib-and-textprompt). At batch 1 the step grows with the layer count
    # (~10 ms for 32 layers, ~54 ms for 80) beyond what streaming the weights takes: per-
    # layer kernel costs that hipGraph replay did not remove.
    "vllm-rocm-2024": ServingOverhead(
        0.0, 5.81e-5,
        "vLLM v0.6.1 built for ROCm (2024): untuned decode GEMMs and per-layer kernel "
        "costs; fitted on LLM-Inference-Bench single-GPU MI300X rows at 128-512 and 2048 "
        "tokens", per_layer_s=2.01e-4, decode_gemm_peak_fraction=0.0287),
    "tensorrt-llm-2024": ServingOverhead(
        6.65e-3, 0.0,
        "TensorRT-LLM of 2024 (static batches, host work between steps); fitted on "
        "LLM-Inference-Bench A100/H100 TensorRT-LLM rows"),
    "tensorrt-llm-2025": ServingOverhead(
        0.0, 2.99e-6,
        "trtllm-bench, PyTorch backend with the overlap scheduler (TensorRT-LLM 0.19+); "
        "fitted on its H100/H200 rows"),
    "deepspeed": ServingOverhead(
        0.0, 0.0,
        "DeepSpeed / Optimum Habana: no NVIDIA row to fit on, so modelled as ideal"),
}


def serving_overhead(software: str) -> ServingOverhead:
    return SERVING_OVERHEADS[software]
