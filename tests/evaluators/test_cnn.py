"""CNN (ResNet-50) training and inference."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from evaluators import evaluate_workload, evaluate_workloads
from evaluators.cnn import conv_output_elements_per_sample, memory_per_chip_bytes
from evaluators.models import BUILTIN_MODELS, CnnArchitecture


class TestCnnTraining(EvaluatorSuite):
    evaluator = "cnn"
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-train", "kind": "training", "model": "resnet50",
        "precision": "bf16", "batch": 256}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-huge-batch", "kind": "training", "model": "resnet50",
        "precision": "bf16", "batch": 4096}
    throughput_metric = "samples_per_s"
    breakdown_docs: ClassVar[tuple[dict[str, Any], ...]] = (
        # host-bound: eager PyTorch's per-kernel host cost outlasts the device's step
        {"name": "resnet50-eager-64", "kind": "training", "model": "resnet50",
         "precision": "bf16", "batch": 64, "framework": "eager-pytorch"},
    )

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        phases, classes = result.time_by_phase_s, result.time_by_operator_class_s
        assert max(classes, key=classes.get) in ("convolution", "elementwise", "host_wait")
        if doc["kind"] == "training":
            assert {"forward_and_backward", "optimizer"} <= set(phases)
        else:
            assert max(phases, key=phases.get) == "forward"
        if doc.get("framework") == "eager-pytorch":
            assert phases["host_wait"] == classes["host_wait"] > 0.2 * sum(phases.values())


class TestCnnInference(TestCnnTraining):
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-infer", "kind": "inference", "model": "resnet50",
        "precision": "bf16", "batch": 128}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-infer-huge", "kind": "inference", "model": "resnet50",
        "precision": "bf16", "batch": 262144}
    breakdown_docs: ClassVar[tuple[dict[str, Any], ...]] = ()


def test_resnet50_shape_matches_the_paper() -> None:
    arch = BUILTIN_MODELS["resnet50"]
    assert isinstance(arch, CnnArchitecture)
    # He et al. 2016: 25.6 M parameters, 3.8-4.1 G multiply-adds at 224x224.
    assert arch.params == pytest.approx(25.56e6, rel=0.01)
    assert arch.forward_flops_per_sample() / 2 == pytest.approx(4.09e9, rel=0.03)


def test_training_memory_matches_hand_calculation() -> None:
    workload = workload_from(TestCnnTraining.feasible_doc)
    arch = BUILTIN_MODELS["resnet50"]
    assert isinstance(arch, CnnArchitecture)
    state = arch.params * (2 + 12)  # bf16 weights + fp32 master, gradient, momentum
    saved = 256 * 3 * conv_output_elements_per_sample(arch) * 2
    assert memory_per_chip_bytes(workload, 256) == pytest.approx(state + saved)


def test_training_costs_about_three_forwards() -> None:
    h100 = preset("nvidia-h100-sxm")
    train = evaluate_workload(h100, workload_from(TestCnnTraining.feasible_doc))
    infer = evaluate_workload(h100, workload_from({
        **TestCnnTraining.feasible_doc, "name": "fwd", "kind": "inference"}))
    ratio = infer.metrics["samples_per_s"] / train.metrics["samples_per_s"]
    assert 2.5 < ratio < 7.0  # backward 2x forward, plus unfused batch-norm passes


def test_data_parallel_training_scales_nearly_linearly() -> None:
    h100 = preset("nvidia-h100-sxm")
    one = evaluate_workload(h100, workload_from(TestCnnTraining.feasible_doc))
    eight = evaluate_workload(h100, workload_from({
        **TestCnnTraining.feasible_doc, "name": "dp8", "batch": 2048,
        "system": {"chips": 8}}))
    assert eight.metrics["samples_per_s"] == pytest.approx(8 * one.metrics["samples_per_s"],
                                                           rel=0.1)


def test_scratchpad_designs_run_the_fastest_micro_batch_and_pay_for_spills() -> None:
    """Graphcore (897 MiB scratchpad, DDR behind it): the ResNet-50 state (25.6 M
    parameters x 14 B = 358 MB) stays on chip and the saved activations of a 4-sample
    micro-batch (4 x 3 tensors x 11.1 M elements x 2 B) fit what is left, those of 8 do
    not: the spilled share goes to DDR and back, so 4 is the fastest; an A100 (a cache)
    runs the whole batch."""
    from evaluators._common import USABLE_MEMORY_FRACTION
    from evaluators._program import run_phases
    from evaluators.cnn import (
        activation_bytes,
        metrics_from,
        micro_batch_options,
        training_phases,
    )

    doc = {"name": "r", "kind": "training", "model": "resnet50", "precision": "fp16",
           "batch": 256}
    work = workload_from(doc)
    gc200 = preset("graphcore-gc200")
    assert micro_batch_options(gc200, 256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert micro_batch_options(preset("nvidia-a100-80gb"), 256) == [256]
    room = USABLE_MEMORY_FRACTION * gc200.sram.capacity_bytes - memory_per_chip_bytes(work, 0)
    assert 4 * activation_bytes(work, 1) <= room < 8 * activation_bytes(work, 1)
    (gc,) = evaluate_workloads([gc200], work)
    assert gc.metrics["micro_batch"] == 4 and gc.metrics["accumulation_steps"] == 64
    # the footprint is one micro-batch's activations, not the whole batch's
    assert gc.metrics["memory_per_chip_bytes"] == pytest.approx(
        memory_per_chip_bytes(work, 0) + 4 * activation_bytes(work, 1))

    def run(micro: int) -> Any:
        result = run_phases([gc200], training_phases(work, micro),
                            resident_bytes=memory_per_chip_bytes(work, 0))
        return metrics_from([gc200], work, result, 256, "cnn", micro_batch=micro)[0]

    # micro-batch 32 saves 2.2 GB for its backward pass: most of it round-trips through
    # the 20 GB/s DDR (without that charge it ran 1.9x faster than micro-batch 4)
    spilled = run(32)
    assert spilled.time_by_bound_s["ddr"] > 0.9 * spilled.metrics["step_time_s"]
    assert spilled.metrics["samples_per_s_per_chip"] < 0.2 * gc.metrics["samples_per_s_per_chip"]
    assert run(4).time_by_bound_s["ddr"] < 0.1 * gc.metrics["step_time_s"]
    a100 = evaluate_workload(preset("nvidia-a100-80gb"), work)
    assert a100.metrics["micro_batch"] == 256 and a100.metrics["accumulation_steps"] == 1


def test_micro_batches_keep_inference_activations_on_a_small_scratchpad() -> None:
    """SambaNova SN10 (305 MiB scratchpad): at batch 256 one ResNet-50 layer's input and
    output (about 1.9 MB per image) cannot stay on chip, so the software runs smaller
    micro-batches; that is faster than streaming every feature map through DDR."""
    from evaluators._program import run_phases
    from evaluators.cnn import inference_phases, memory_per_chip_bytes, metrics_from

    work = workload_from({"name": "r", "kind": "inference", "model": "resnet50",
                          "batch": 256})
    sn10 = preset("sambanova-sn10")
    chosen = evaluate_workload(sn10, work)
    micro = int(chosen.metrics["micro_batch"])
    assert 1 <= micro < 256
    whole = run_phases([sn10], inference_phases(work, 256, 256),
                       resident_bytes=memory_per_chip_bytes(work, 0))
    whole_rate = metrics_from([sn10], work, whole, 256, "cnn")[0].metrics[
        "samples_per_s_per_chip"]
    assert chosen.metrics["samples_per_s_per_chip"] > 1.5 * whole_rate


# --- the framework that runs the layers (`framework:`) --------------------------------


def _resnet(kind: str, batch: int, framework: str | None = None) -> Any:
    doc: dict[str, Any] = {"name": f"r-{kind}-{framework}", "kind": kind, "model": "resnet50",
                           "precision": "bf16", "batch": batch}
    if framework is not None:
        doc["framework"] = framework
    return workload_from(doc)


def test_eager_pytorch_launches_every_layer_kernel_of_resnet50() -> None:
    from evaluators.cnn import kernels_per_step

    arch = BUILTIN_MODELS["resnet50"]
    assert isinstance(arch, CnnArchitecture)
    # 53 convolutions: 33 followed by ReLU, 16 ending a bottleneck (add, ReLU), 4 projections
    roles = [c.activation for c in arch.convs for _ in range(c.count)]
    assert (roles.count("relu"), roles.count("residual"), roles.count("none")) == (33, 16, 4)
    # inference: 53 convs + BN/ReLU (33 x 2) + BN/add/ReLU (16 x 3) + BN (4) + 2 pools + fc
    # + 53 autocast weight casts
    assert kernels_per_step(arch, "bf16", False, "eager-pytorch") == 53 + 66 + 48 + 4 + 3 + 53
    # training: convs x 3, each pass forward and backward (33 x 4 + 16 x 6 + 4 x 2), pools
    # and their backward (4), 3 classifier matmuls, casts both ways, loss + optimizer (6)
    assert kernels_per_step(arch, "bf16", True, "eager-pytorch") == (
        159 + 132 + 96 + 8 + 4 + 3 + 106 + 6)


def test_eager_pytorch_pays_the_separate_memory_bound_passes() -> None:
    """Inference at batch 256: BN (read + write), ReLU (read + write), add (2 reads + a
    write) over ~11 M conv-output elements per image in bf16 move ~30 GB more than the
    fused model; at 3.35 TB/s x 0.88 that alone is ~10 ms."""
    from dse.workload import Elementwise
    from evaluators.cnn import conv_ops

    arch = BUILTIN_MODELS["resnet50"]
    assert isinstance(arch, CnnArchitecture)
    extra = sum(op.count * (op.bytes_read + op.bytes_written)
                for op in conv_ops(arch, 256, "bf16", False, "eager-pytorch")
                if isinstance(op, Elementwise))
    assert 25e9 < extra < 40e9
    h100 = preset("nvidia-h100-sxm")
    ideal = evaluate_workload(h100, _resnet("inference", 256)).metrics["step_time_s"]
    eager = evaluate_workload(h100, _resnet("inference", 256, "eager-pytorch"))
    compiled = evaluate_workload(h100, _resnet("inference", 256, "torch-compile"))
    assert eager.metrics["step_time_s"] - ideal > 0.8 * extra / (3.35e12 * 0.8826)
    assert ideal < compiled.metrics["step_time_s"] < eager.metrics["step_time_s"]
    assert eager.time_by_bound_s["hbm"] > eager.time_by_bound_s["compute"]


def test_tensorrt_and_ideal_are_the_same_fused_model() -> None:
    h100 = preset("nvidia-h100-sxm")
    ideal = evaluate_workload(h100, _resnet("inference", 64))
    trt = evaluate_workload(h100, _resnet("inference", 64, "tensorrt"))
    assert trt.metrics["step_time_s"] == ideal.metrics["step_time_s"]


def test_eager_training_at_a_small_batch_waits_on_the_host() -> None:
    from evaluators.cnn import EAGER_TRAINING_HOST_S_PER_KERNEL

    h100 = preset("nvidia-h100-sxm")
    small = evaluate_workload(h100, _resnet("training", 64, "eager-pytorch"))
    large = evaluate_workload(h100, _resnet("training", 256, "eager-pytorch"))
    floor = 514 * EAGER_TRAINING_HOST_S_PER_KERNEL
    assert small.metrics["step_time_s"] == pytest.approx(floor, rel=1e-6)
    assert small.time_by_bound_s["host"] > 0.2 * floor
    assert large.metrics["step_time_s"] > floor and large.time_by_bound_s["host"] < 1e-3


def test_framework_key_is_checked(tmp_path: Any) -> None:
    from dse.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        workload_from({"name": "t", "kind": "training", "model": "resnet50", "batch": 8,
                       "framework": "tensorrt"})
    assert "framework: tensorrt runs inference only" in str(info.value)
    with pytest.raises(ConfigError) as info:
        workload_from({"name": "l", "kind": "inference", "model": "llama3-8b",
                       "prompt_tokens": 8, "output_tokens": 8, "batch": 1,
                       "framework": "eager-pytorch"})
    assert "framework: a CNN framework applies to CNN classification models" in str(info.value)
    with pytest.raises(ConfigError, match="framework"):
        workload_from({"name": "x", "kind": "inference", "model": "resnet50", "batch": 8,
                       "framework": "jax"})
    assert _resnet("inference", 8).framework == "ideal"
