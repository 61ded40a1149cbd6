"""CNN (ResNet-50) training and inference."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from evaluators import evaluate_workload
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


class TestCnnInference(TestCnnTraining):
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-infer", "kind": "inference", "model": "resnet50",
        "precision": "bf16", "batch": 128}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "resnet50-infer-huge", "kind": "inference", "model": "resnet50",
        "precision": "bf16", "batch": 262144}


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
