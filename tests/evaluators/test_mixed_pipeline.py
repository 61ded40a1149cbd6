"""Mixed pipeline: reconfiguration where the design can, host round trips where it cannot."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from dse.hardware import ReconfigSpec
from evaluators import evaluate_workload, evaluate_workloads


class TestMixedPipeline(EvaluatorSuite):
    evaluator = "mixed_pipeline"
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "mixed-resnet", "kind": "training", "model": "resnet50",
        "evaluator": "mixed_pipeline", "precision": "bf16", "batch": 256,
        "pipeline": {"rows_scanned": 100000000, "join_rows": 10000000}}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "mixed-dlrm-1", "kind": "training", "model": "dlrm",
        "evaluator": "mixed_pipeline", "precision": "bf16", "batch": 65536}
    throughput_metric = "samples_per_s"

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        phases, classes = result.time_by_phase_s, result.time_by_operator_class_s
        m = result.metrics
        assert phases["preprocess"] == pytest.approx(m["preprocess_time_s"], rel=1e-9)
        assert phases["query"] == pytest.approx(m["query_time_s"], rel=1e-9)
        assert phases["forward_and_backward"] + phases["optimizer"] <= m["training_time_s"]
        assert "reconfigure" in classes


def test_phases_add_up_and_training_dominates_on_a_gpu() -> None:
    result = evaluate_workload(preset("nvidia-h100-sxm"),
                               workload_from(TestMixedPipeline.feasible_doc))
    m = result.metrics
    assert m["preprocess_time_s"] + m["query_time_s"] + m["training_time_s"] + m[
        "switch_time_s"] == pytest.approx(m["step_time_s"])
    assert 0 < m["non_training_fraction"] < 0.5
    assert m["switch_time_s"] == 0.0  # fixed-function: no reconfiguration cost


def test_reconfigurable_fabric_pays_three_switches_per_cycle() -> None:
    h100 = preset("nvidia-h100-sxm")
    fabric = h100.with_changes(reconfig=ReconfigSpec(spatial_fusion=True,
                                                     reconfiguration_s=0.002))
    fixed, reconfigurable = evaluate_workloads([h100, fabric],
                                               workload_from(TestMixedPipeline.feasible_doc))
    added = reconfigurable.metrics["step_time_s"] - fixed.metrics["step_time_s"]
    # Three 2 ms reconfigurations, partly won back by spatial fusion of the operators.
    assert reconfigurable.metrics["switch_time_s"] == pytest.approx(0.002, rel=0.01)
    assert added < 3 * 0.002 + 1e-9


def test_query_scalars_cost_round_trips_unless_the_device_decides() -> None:
    h100 = preset("nvidia-h100-sxm")
    cpu_less = h100.with_changes(host=dataclasses.replace(h100.host,
                                                          device_scalar_control=True))
    doc = {**TestMixedPipeline.feasible_doc, "pipeline": {"rows_scanned": 1000000000}}
    host, device = evaluate_workloads([h100, cpu_less], workload_from(doc))
    assert device.metrics["query_time_s"] < host.metrics["query_time_s"]


def test_memory_is_the_training_models() -> None:
    from evaluators.cnn import memory_per_chip_bytes

    workload = workload_from(TestMixedPipeline.feasible_doc)
    result = evaluate_workload(preset("nvidia-h100-sxm"), workload)
    assert result.metrics["memory_per_chip_bytes"] == pytest.approx(
        memory_per_chip_bytes(workload, 256))


def test_sram_and_ddr_designs_train_in_micro_batches() -> None:
    """The mixed pipeline's CNN training runs the fastest of the CNN evaluator's
    micro-batch options (GC200: 4, as for the CNN evaluator alone)."""
    work = workload_from({"name": "m", "kind": "training", "model": "resnet50",
                          "evaluator": "mixed_pipeline", "batch": 256, "precision": "fp16"})
    gc, a100 = evaluate_workloads([preset("graphcore-gc200"), preset("nvidia-a100-80gb")],
                                  work)
    assert gc.feasible and a100.feasible
    assert gc.metrics["micro_batch"] == 4
    assert a100.metrics["micro_batch"] == 256
    assert gc.metrics["memory_per_chip_bytes"] < a100.metrics["memory_per_chip_bytes"]
