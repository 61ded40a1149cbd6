"""Detection: host-side NMS makes the interaction wall visible; device scalars remove it."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from evaluators import evaluate_workloads
from evaluators.detection import postprocess_ops


class TestDetection(EvaluatorSuite):
    evaluator = "detection"
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "retinanet", "kind": "inference", "model": "retinanet-resnet50",
        "precision": "bf16", "batch": 1, "postprocess": {"nms_iterations": 100}}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "retinanet-huge", "kind": "inference", "model": "retinanet-resnet50",
        "precision": "bf16", "batch": 8192}
    throughput_metric = "samples_per_s"

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        phases, classes = result.time_by_phase_s, result.time_by_operator_class_s
        assert set(phases) == {"network", "postprocess"}
        assert phases["postprocess"] == pytest.approx(result.metrics["postprocess_time_s"])
        assert classes["host_sync"] > 0  # NMS reads a scalar back every iteration


def test_nms_loop_reads_a_scalar_per_iteration() -> None:
    ops = postprocess_ops(workload_from(TestDetection.feasible_doc), batch=2)
    readbacks = [o for o in ops if o.op == "scalar_readback"]
    assert readbacks[0].count == 200


def test_interaction_wall_and_the_cpu_less_design() -> None:
    h100 = preset("nvidia-h100-sxm")
    cpu_less = h100.with_changes(host=dataclasses.replace(h100.host,
                                                          device_scalar_control=True))
    host_nms, device_nms = evaluate_workloads([h100, cpu_less],
                                              workload_from(TestDetection.feasible_doc))
    # On the GPU the 100 host round trips are a large share of the image's latency ...
    assert host_nms.metrics["postprocess_fraction"] > 0.3
    assert host_nms.time_by_bound_s["host"] > host_nms.time_by_bound_s["compute"]
    # ... and device-side scalar control removes most of it.
    assert device_nms.metrics["postprocess_time_s"] < 0.25 * host_nms.metrics[
        "postprocess_time_s"]
    assert device_nms.metrics["samples_per_s"] > 1.3 * host_nms.metrics["samples_per_s"]


def test_more_nms_iterations_cost_more_round_trips() -> None:
    h100 = preset("nvidia-h100-sxm")
    few = evaluate_workloads([h100], workload_from(TestDetection.feasible_doc))[0]
    many = evaluate_workloads([h100], workload_from({
        **TestDetection.feasible_doc, "postprocess": {"nms_iterations": 400}}))[0]
    extra = many.metrics["postprocess_time_s"] - few.metrics["postprocess_time_s"]
    per_iteration = extra / 300
    assert h100.host.sync_roundtrip_s * 0.5 < per_iteration < 10 * h100.host.sync_roundtrip_s


def test_memory_is_weights_plus_two_largest_feature_maps() -> None:
    from evaluators.cnn import memory_per_chip_bytes
    from evaluators.models import BUILTIN_MODELS, CnnArchitecture

    arch = BUILTIN_MODELS["retinanet-resnet50"]
    assert isinstance(arch, CnnArchitecture)
    largest = max(c.in_channels * c.size * c.size for c in arch.convs)
    assert largest == 256 * 200 * 200  # stage-1 bottleneck input at 800/4 resolution
    workload = workload_from({**TestDetection.feasible_doc, "batch": 4})
    assert memory_per_chip_bytes(workload, 4) == arch.params * 2 + 4 * 2 * largest * 2
