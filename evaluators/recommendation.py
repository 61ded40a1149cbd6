"""Recommendation (DLRM): huge embedding tables in DDR or HBM, small MLPs.

Tables are sharded over all chips (model parallel, as in DLRM and TorchRec); the MLPs
are data parallel. Per step each chip gathers its tables' rows for the whole global
batch, exchanges them with an all-to-all so every chip holds its own samples' vectors,
runs the bottom MLP, the pairwise-dot interaction and the top MLP; training runs all of
it backward, scatters the embedding gradients back (all-to-all plus a sparse row update)
and all-reduces the MLP gradients. The tables are resident: the core places them in SRAM,
HBM or DDR according to the design, which is what separates the memory routes here.
"""

from __future__ import annotations

from collections.abc import Sequence

from dse.hardware import Hardware
from dse.workload import Collective, Elementwise, EmbeddingLookup, MatMul, Operator, Transfer
from evaluators._common import (
    element_bytes,
    finite_metrics,
    infeasible,
    memory_reason,
    precision_reasons,
    usable_memory_bytes,
)
from evaluators._program import Phase, run_phases
from evaluators.api import WorkloadMetrics
from evaluators.models import RecommendationArchitecture
from evaluators.workload_files import ModelWorkload

NAME = "recommendation"

# NOTE: embedding tables train in fp32 with a row-wise optimizer whose state is one float
# per row (row-wise Adagrad, MLPerf DLRM reference); inference tables use the workload
# precision (fp16/int8 quantised tables are standard in production DLRM serving).
TRAINING_TABLE_BYTES = 4


def _arch(workload: ModelWorkload) -> RecommendationArchitecture:
    if not isinstance(workload.model, RecommendationArchitecture):
        raise TypeError(f"{NAME} needs a recommendation model, got {workload.model_name}")
    return workload.model


def table_element_bytes(workload: ModelWorkload) -> int:
    return TRAINING_TABLE_BYTES if workload.kind == "training" else element_bytes(
        workload.precision)


def memory_per_chip_bytes(workload: ModelWorkload) -> float:
    """Table shard + row-wise optimizer state + replicated MLPs + activations."""
    arch = _arch(workload)
    chips = workload.system.chips
    e = table_element_bytes(workload)
    tables = arch.embedding_params * e / chips
    if workload.kind == "training":
        tables += sum(arch.table_rows) * 4.0 / chips
    mlp = arch.mlp_params * (16.0 if workload.kind == "training" else element_bytes(
        workload.precision))
    batch = workload.global_batch // workload.system.data_parallel
    widest = max(max(i, o) for i, o in arch.mlp_shapes)
    activations = batch * (len(arch.table_rows) + 1) * arch.embedding_dim * 4.0 * 3 \
        + batch * widest * 4.0 * len(arch.mlp_shapes)
    return tables + mlp + activations


def step_ops(workload: ModelWorkload) -> list[Operator]:
    return [op for _, op in step_parts(workload)]


def step_parts(workload: ModelWorkload) -> list[tuple[str, Operator]]:
    """`step_ops` in order, each with the part of the step it belongs to.

    NOTE: an MLP layer's activation pass and the feature interaction are one operator for
    all passes (`count` = passes), so in training they are `forward_and_backward`.
    """
    arch = _arch(workload)
    plan = workload.system
    chips = plan.chips
    dtype = workload.precision
    e = element_bytes(dtype)
    batch = workload.global_batch // plan.data_parallel
    training = workload.kind == "training"
    both = "forward_and_backward" if training else "forward"
    tables = len(arch.table_rows)
    rows_per_chip = max(sum(arch.table_rows) // chips, 1)
    lookups = workload.global_batch * tables * arch.lookups_per_table // chips
    table_dtype = "fp32" if training else dtype
    ops: list[tuple[str, Operator]] = [
        ("input_transfer",
         Transfer("host_to_device", batch * (arch.dense_features * 4.0 + tables * 4.0))),
        ("forward", EmbeddingLookup(rows=rows_per_chip, dim=arch.embedding_dim,
                                    lookups=max(lookups, 1), dtype=table_dtype)),
    ]
    exchange = batch * tables * arch.embedding_dim * table_element_bytes(workload)
    if chips > 1:
        ops.append(("forward", Collective("all_to_all", exchange, chips)))
    passes = ("forward", "dgrad", "wgrad") if training else ("forward",)
    for i, o in arch.mlp_shapes:
        for p in passes:
            shape = {"forward": (batch, o, i), "dgrad": (batch, i, o), "wgrad": (i, o, batch)}[p]
            ops.append(("forward" if p == "forward" else "backward",
                        MatMul(m=shape[0], n=shape[1], k=shape[2], dtype=dtype)))
        ops.append((both, Elementwise(bytes_read=batch * o * e * len(passes),
                                      bytes_written=batch * o * e * len(passes),
                                      flops=batch * o * 2.0 * len(passes), dtype=dtype)))
    features = tables + 1
    # Pairwise-dot interaction: (features x dim) @ (dim x features) per sample.
    ops.append((both, MatMul(m=features, n=features, k=arch.embedding_dim, batch=batch,
                             dtype=dtype, count=len(passes))))
    if training:
        if chips > 1:
            ops.append(("backward", Collective("all_to_all", exchange, chips)))
        # NOTE: the sparse update reads and rewrites each touched row and its optimizer
        # state: a second gather-scatter pass over the same rows.
        ops.append(("optimizer", EmbeddingLookup(rows=rows_per_chip, dim=arch.embedding_dim,
                                                 lookups=max(lookups, 1), dtype="fp32",
                                                 count=2)))
        ops.append(("optimizer", Elementwise(bytes_read=arch.mlp_params * 16.0,
                                             bytes_written=arch.mlp_params * 12.0,
                                             flops=arch.mlp_params * 10.0, dtype="fp32")))
    return ops


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    arch = _arch(workload)
    plan = workload.system
    overlapped: tuple[Operator, ...] = ()
    if workload.kind == "training" and plan.data_parallel > 1:
        overlapped = (Collective("all_reduce", arch.mlp_params * 4.0, plan.data_parallel),)
    memory = memory_per_chip_bytes(workload)
    tables = arch.embedding_params * table_element_bytes(workload) / plan.chips
    parts = step_parts(workload)
    result = run_phases(designs, [Phase("step", tuple(op for _, op in parts),
                                        overlapped_ops=overlapped,
                                        labels=(*(label for label, _ in parts),
                                                *(["gradient_sync"] * len(overlapped))))],
                        resident_bytes=tables + arch.mlp_params * 4.0)
    step = result.step_time_s()
    energy = result.step_energy_j()
    batch = workload.global_batch // plan.data_parallel
    out: list[WorkloadMetrics] = []
    for d, hw in enumerate(designs):
        reasons = list(precision_reasons(hw, workload.precision)) + list(result.reasons[d])
        if memory > usable_memory_bytes(hw):
            reasons.append(memory_reason(memory, hw, "embedding table shard, MLPs and "
                                         "activations"))
        values = finite_metrics({
            "step_time_s": step[d],
            "samples_per_s": workload.global_batch / step[d],
            "samples_per_s_per_chip": batch / step[d],
            "batch": float(workload.global_batch),
            "power_w": energy[d] / step[d],
            "energy_per_sample_j": energy[d] / batch,
            "memory_per_chip_bytes": memory,
            "embedding_bytes_per_chip": tables,
            "clock_fraction": result.clock_fraction[d],
        })
        if reasons:
            out.append(infeasible(workload.name, NAME, reasons, values))
        else:
            out.append(WorkloadMetrics(workload.name, NAME, True, (), values,
                                       result.time_by_bound(d), *result.breakdown(d)))
    return out
