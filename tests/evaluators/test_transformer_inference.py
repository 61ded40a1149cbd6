"""Transformer inference: KV cache by hand, auto batch, prefill/decode, memory placement."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from dse.hardware import DdrSpec, SramSpec
from evaluators import evaluate_workload, evaluate_workloads
from evaluators.transformer_inference import (
    _metrics_for,
    auto_batch,
    inference_memory,
    kv_bytes_per_sequence,
    weights_bytes_per_chip,
)

SERVING = {
    "name": "llama2-70b-serving", "kind": "inference", "model": "llama2-70b",
    "precision": "fp8", "prompt_tokens": 1024, "output_tokens": 1024, "batch": "auto",
    "system": {"chips": 8, "tensor_parallel": 8},
}


class TestTransformerInference(EvaluatorSuite):
    evaluator = "transformer_inference"
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "llama3-8b-b16", "kind": "inference", "model": "llama3-8b",
        "precision": "bf16", "prompt_tokens": 512, "output_tokens": 128, "batch": 16,
    }
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "llama3-70b-one-chip", "kind": "inference", "model": "llama3-70b",
        "precision": "bf16", "prompt_tokens": 512, "output_tokens": 128, "batch": 1,
    }
    throughput_metric = "output_tokens_per_s"
    time_metric = "request_latency_s"
    breakdown_docs: ClassVar[tuple[dict[str, Any], ...]] = (
        {"name": "llama3-8b-pp2-vllm", "kind": "inference", "model": "llama3-8b",
         "precision": "bf16", "prompt_tokens": 512, "output_tokens": 64, "batch": 8,
         "serving": {"software": "vllm-2024"}, "system": {"chips": 2, "pipeline_parallel": 2}},
    )

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        phases, classes = result.time_by_phase_s, result.time_by_operator_class_s
        m = result.metrics
        # the first token waits for the prefill on every stage and one framework step
        assert phases["prefill"] == pytest.approx(
            m["time_to_first_token_s"] - m["serving_host_s_per_step"], rel=1e-9)
        assert phases["decode"] > phases["prefill"]
        framework = m["serving_host_s_per_step"] * doc["output_tokens"]
        assert phases.get("serving_framework_host", 0.0) == pytest.approx(framework)
        assert {"gemm", "attention", "elementwise", "embedding"} <= set(classes)


def test_llama2_70b_memory_matches_hand_calculation() -> None:
    workload = workload_from(SERVING)
    h, f, kv, layers, vocab = 8192, 28672, 8 * 128, 80, 32000
    per_layer = h * (h + 2 * kv) + h * h + 3 * h * f + 2 * h
    weights = (layers * per_layer + 2 * vocab * h) / 8 * 1  # fp8, TP8, untied embeddings
    assert weights_bytes_per_chip(workload) == pytest.approx(weights)
    # K and V, 80 layers, one KV head per chip (8 over TP8), 128 dims, 1 byte, 2048 tokens.
    assert kv_bytes_per_sequence(workload) == pytest.approx(2 * 80 * 1 * 128 * 1 * 2048)
    memory = inference_memory(workload, 64)
    assert memory.kv_cache_bytes == pytest.approx(64 * 2 * 80 * 128 * 2048)


def test_auto_batch_is_the_largest_bucket_that_fits() -> None:
    workload = workload_from(SERVING)
    h100 = preset("nvidia-h100-sxm")
    batch = auto_batch(h100, workload)
    assert batch >= 1
    usable = 0.92 * h100.offchip_capacity_bytes
    assert inference_memory(workload, batch).total_bytes <= usable
    result = evaluate_workload(h100, workload)
    assert result.feasible and result.metrics["batch"] == batch
    h200 = preset("nvidia-h200")  # 141 GB holds a larger batch
    assert auto_batch(h200, workload) > batch


def test_decode_at_batch_one_is_memory_bound_and_follows_bandwidth() -> None:
    doc = {"name": "b1", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
           "prompt_tokens": 128, "output_tokens": 512, "batch": 1}
    h100 = preset("nvidia-h100-sxm")
    result = evaluate_workload(h100, workload_from(doc))
    weights = weights_bytes_per_chip(workload_from(doc))
    floor = weights / h100.hbm.bandwidth_byte_per_s  # type: ignore[union-attr]
    tpot = result.metrics["time_per_output_token_s"]
    assert floor < tpot < 2.0 * floor
    assert result.time_by_bound_s["hbm"] > result.time_by_bound_s["compute"]


def test_weights_that_only_fit_ddr_run_at_ddr_speed() -> None:
    """The SRAM + DDR route: without HBM the same model streams its weights from DDR."""
    h100 = preset("nvidia-h100-sxm")
    ddr_only = h100.with_changes(hbm=None, ddr=DdrSpec(channels=8, capacity_bytes=512e9,
                                                       bandwidth_byte_per_s=400e9))
    doc = {"name": "b1", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
           "prompt_tokens": 128, "output_tokens": 256, "batch": 1}
    hbm_result, ddr_result = evaluate_workloads([h100, ddr_only], workload_from(doc))
    assert ddr_result.feasible
    assert ddr_result.time_by_bound_s["ddr"] > 0.5 * ddr_result.metrics["request_latency_s"]
    assert ddr_result.metrics["time_per_output_token_s"] > 5 * hbm_result.metrics[
        "time_per_output_token_s"]
    # A scratchpad large enough for the weights (wafer-scale route) beats both.
    big_sram = ddr_only.with_changes(sram=SramSpec(capacity_bytes=40 * 2**30,
                                                   bandwidth_byte_per_s=1e15,
                                                   management="scratchpad"))
    sram_result = evaluate_workload(big_sram, workload_from(doc))
    assert sram_result.metrics["time_per_output_token_s"] < hbm_result.metrics[
        "time_per_output_token_s"]


def test_no_room_for_one_sequence_is_infeasible() -> None:
    h100 = preset("nvidia-h100-sxm")
    small = h100.with_changes(hbm=dataclasses.replace(h100.hbm, capacity_bytes=8e9))
    result = evaluate_workload(small, workload_from(SERVING))
    assert not result.feasible and result.metrics["batch"] == 0
    assert "does not fit" in result.infeasible_reasons[0]


def test_encoder_inference_reports_samples() -> None:
    doc = {"name": "bert", "kind": "inference", "model": "bert-large", "precision": "bf16",
           "seq_len": 384, "batch": 64}
    result = evaluate_workload(preset("nvidia-h100-sxm"), workload_from(doc))
    assert result.feasible and result.metrics["samples_per_s"] > 0
    assert "output_tokens_per_s" not in result.metrics


def test_serving_overhead_is_paid_once_per_generation_step() -> None:
    """request latency = ideal latency + output_tokens x (per-step + per-sequence x batch),
    at decode power; TTFT and TPOT each pay one step."""
    from evaluators.serving import SERVING_OVERHEADS

    doc = {"name": "s", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
           "prompt_tokens": 256, "output_tokens": 100, "batch": 16}
    hw = preset("nvidia-h100-sxm")
    ideal = evaluate_workload(hw, workload_from(doc)).metrics
    served = evaluate_workload(hw, workload_from({**doc, "serving": {"software": "vllm-2024"}}))
    overhead = SERVING_OVERHEADS["vllm-2024"]
    per_step = overhead.per_step_s + 16 * overhead.per_sequence_s
    assert per_step == pytest.approx(5.81e-3 + 16 * 4.16e-5)
    m = served.metrics
    assert m["request_latency_s"] == pytest.approx(ideal["request_latency_s"] + 100 * per_step)
    assert m["time_per_output_token_s"] == pytest.approx(
        ideal["time_per_output_token_s"] + per_step)
    assert m["time_to_first_token_s"] == pytest.approx(ideal["time_to_first_token_s"] + per_step)
    assert served.time_by_bound_s["host"] >= 100 * per_step
    # charged at decode power: average power stays between idle and the ideal run's
    assert 0.5 * ideal["power_w"] < m["power_w"] < 1.05 * ideal["power_w"]


def test_rocm_serving_charges_layers_and_slow_decode_gemms() -> None:
    """vllm-rocm-2024: per step `per_sequence x batch + per_layer x 32 layers`, and per
    decode step the GEMMs' 2 x 7.50e9 x 16 FLOPs (Llama 3 8B: 32 x 218.1 M projection
    and MLP weights + the 525 M unembedding) at 2.87 % of the MI300X's bf16 peak."""
    from evaluators.serving import SERVING_OVERHEADS

    doc = {"name": "s", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
           "prompt_tokens": 256, "output_tokens": 100, "batch": 16}
    hw = preset("amd-mi300x")
    ideal = evaluate_workload(hw, workload_from(doc))
    served = evaluate_workload(hw, workload_from({**doc,
                                                  "serving": {"software": "vllm-rocm-2024"}}))
    overhead = SERVING_OVERHEADS["vllm-rocm-2024"]
    per_step = overhead.per_step_s + 16 * overhead.per_sequence_s + 32 * overhead.per_layer_s
    params = 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336) + 4096 * 128256
    assert params == pytest.approx(7.50e9, rel=1e-3)
    gemm_s = 2 * params * 16 / (overhead.decode_gemm_peak_fraction * 1307.4e12)
    assert gemm_s == pytest.approx(6.4e-3, rel=0.01)
    m = served.metrics
    assert m["time_per_output_token_s"] == pytest.approx(
        ideal.metrics["time_per_output_token_s"] + per_step + gemm_s)
    assert m["time_to_first_token_s"] == pytest.approx(
        ideal.metrics["time_to_first_token_s"] + per_step)
    assert m["request_latency_s"] == pytest.approx(
        ideal.metrics["request_latency_s"] + 100 * per_step + 99 * gemm_s)
    assert served.time_by_bound_s["compute"] == pytest.approx(
        ideal.time_by_bound_s["compute"] + 99 * gemm_s)


def test_sram_and_ddr_designs_prefill_in_micro_batches_when_weights_fit_on_chip() -> None:
    """Graphcore GC200: BERT-Large's 16-bit weights (0.67 GB) fit its 897 MiB scratchpad, so
    the encoder forward runs in micro-batches whose block activations fit beside them;
    Llama-3 8B's weights do not, so its batch runs whole (each micro-batch would stream
    the weights from DDR again); HBM designs never split."""
    from evaluators._common import USABLE_MEMORY_FRACTION
    from evaluators.transformer_inference import sram_micro_batch, workspace_bytes_per_sequence

    bert = workload_from({"name": "b", "kind": "inference", "model": "bert-large",
                          "precision": "bf16", "seq_len": 384, "batch": 256})
    gc200 = preset("graphcore-gc200")
    micro = sram_micro_batch(gc200, bert, 256)
    room = (USABLE_MEMORY_FRACTION * gc200.sram.capacity_bytes
            - weights_bytes_per_chip(bert))
    assert 1 <= micro < 256
    assert micro * workspace_bytes_per_sequence(bert) <= room
    assert 2 * micro * workspace_bytes_per_sequence(bert) > room
    llama = workload_from({"name": "l", "kind": "inference", "model": "llama3-8b",
                           "prompt_tokens": 1024, "output_tokens": 128, "batch": 16})
    assert sram_micro_batch(gc200, llama, 16) == 16
    assert sram_micro_batch(preset("google-tpu-v4"), bert, 256) == 256
    chosen = evaluate_workload(gc200, bert)
    assert chosen.metrics["micro_batch"] == micro
    whole = _metrics_for(bert, [gc200], 256, 256)[0]
    assert chosen.metrics["samples_per_s_per_chip"] > 2 * whole.metrics[
        "samples_per_s_per_chip"]
