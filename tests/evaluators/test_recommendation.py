"""DLRM: embedding tables sharded over chips, placed in HBM or DDR by the core."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from evaluator_suite import EvaluatorSuite, preset, workload_from

from dse.hardware import DdrSpec
from evaluators import evaluate_workloads
from evaluators.models import BUILTIN_MODELS, RecommendationArchitecture
from evaluators.recommendation import memory_per_chip_bytes


class TestRecommendation(EvaluatorSuite):
    evaluator = "recommendation"
    feasible_doc: ClassVar[dict[str, Any]] = {
        "name": "dlrm-8", "kind": "training", "model": "dlrm", "precision": "bf16",
        "batch": 65536, "system": {"chips": 8}}
    too_big_doc: ClassVar[dict[str, Any]] = {
        "name": "dlrm-1", "kind": "training", "model": "dlrm", "precision": "bf16",
        "batch": 65536}
    throughput_metric = "samples_per_s"

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        phases, classes = result.time_by_phase_s, result.time_by_operator_class_s
        assert {"forward", "backward", "forward_and_backward", "optimizer"} <= set(phases)
        assert classes["embedding"] > 0 and classes["collective"] > 0  # gathers, all-to-all


def test_criteo_tables_match_mlperf_size() -> None:
    arch = BUILTIN_MODELS["dlrm"]
    assert isinstance(arch, RecommendationArchitecture)
    assert sum(arch.table_rows) == pytest.approx(187.8e6, rel=0.01)
    # fp32 tables: ~96 GB, more than one 80 GB HBM chip holds.
    assert arch.embedding_params * 4 == pytest.approx(96.1e9, rel=0.01)


def test_table_shard_memory_by_hand() -> None:
    workload = workload_from(TestRecommendation.feasible_doc)
    arch = BUILTIN_MODELS["dlrm"]
    assert isinstance(arch, RecommendationArchitecture)
    tables = (arch.embedding_params * 4 + sum(arch.table_rows) * 4) / 8
    assert memory_per_chip_bytes(workload) > tables
    assert memory_per_chip_bytes(workload) < tables * 1.2


def test_tables_in_ddr_are_slower_than_in_hbm() -> None:
    h100 = preset("nvidia-h100-sxm")
    ddr = h100.with_changes(hbm=None, ddr=DdrSpec(channels=8, capacity_bytes=1e12,
                                                  bandwidth_byte_per_s=200e9))
    in_hbm, in_ddr = evaluate_workloads([h100, ddr],
                                        workload_from(TestRecommendation.feasible_doc))
    assert in_ddr.feasible
    assert in_ddr.time_by_bound_s["ddr"] > 0
    assert in_hbm.metrics["samples_per_s"] > 2 * in_ddr.metrics["samples_per_s"]
    # A single DDR chip holds the whole model where one HBM chip cannot.
    single = workload_from(TestRecommendation.too_big_doc)
    hbm_one, ddr_one = evaluate_workloads([h100, ddr], single)
    assert not hbm_one.feasible and ddr_one.feasible
