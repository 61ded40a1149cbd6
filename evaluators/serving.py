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
that fit) and CHECKED on the held-out MI300X (vLLM on ROCm) and Gaudi2 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ServingSoftware = Literal["ideal", "vllm-2024", "tensorrt-llm-2024", "tensorrt-llm-2025",
                          "deepspeed"]
SERVING_SOFTWARE: tuple[str, ...] = ("ideal", "vllm-2024", "tensorrt-llm-2024",
                                     "tensorrt-llm-2025", "deepspeed")


@dataclass(frozen=True, slots=True)
class ServingOverhead:
    """Host seconds the accelerator waits per generation step."""

    per_step_s: float
    per_sequence_s: float
    evidence: str

    def host_s_per_step(self, sequences: int) -> float:
        return self.per_step_s + self.per_sequence_s * sequences


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
