"""Mixed pipeline: preprocessing, a SQL-like scan/join, then training, on one device group.

One cycle decodes and augments a batch of raw samples, scans and joins a table (the
feature/label query that selects the samples), then runs `batches_between_switches`
training steps of the model (a CNN or DLRM). Switching between kinds of work is a
`Reconfigure`: free on fixed-function designs, `reconfiguration_s` on reconfigurable
fabrics. The query's data-dependent sizes (how many rows passed the filter, how many
matched the join) are scalars the control code needs: host round trips on designs
without device-side scalar control.
"""

from __future__ import annotations

from collections.abc import Sequence

from dse.hardware import Hardware
from dse.workload import (
    Elementwise,
    EmbeddingLookup,
    Operator,
    Reconfigure,
    ScalarReadback,
    Sync,
    Transfer,
)
from evaluators import cnn, recommendation
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
from evaluators.models import CnnArchitecture, RecommendationArchitecture
from evaluators.workload_files import ModelWorkload

NAME = "mixed_pipeline"

# NOTE: JPEG decode + resize + crop + normalise costs ~30-60 operations per raw byte on
# GPU decoders (NVIDIA DALI/nvJPEG throughput figures); 40 is used for every design.
PREPROCESS_FLOPS_PER_RAW_BYTE = 40.0
# NOTE: a filter keeps ~10 % of scanned rows (TPC-H Q6-like selectivity); the probe side
# of the join is the filtered rows.
FILTER_SELECTIVITY = 0.1
# NOTE: each partition of the query needs its output size before the next operator can be
# sized (filter count, join match count): one scalar decision per 16 M rows per chip.
ROWS_PER_SCALAR_DECISION = 16_000_000


def preprocess_ops(workload: ModelWorkload, samples_per_chip: int) -> list[Operator]:
    raw = samples_per_chip * workload.pipeline.preprocess_bytes_per_sample
    out_bytes = raw * element_bytes(workload.precision)
    return [Transfer("host_to_device", raw),
            Elementwise(bytes_read=raw, bytes_written=out_bytes,
                        flops=raw * PREPROCESS_FLOPS_PER_RAW_BYTE, dtype="fp32")]


def query_ops(workload: ModelWorkload) -> list[Operator]:
    opts = workload.pipeline
    chips = workload.system.chips
    rows = opts.rows_scanned // chips
    kept = int(rows * FILTER_SELECTIVITY)
    decisions = max(1, -(-rows // ROWS_PER_SCALAR_DECISION))
    ops: list[Operator] = [
        Elementwise(bytes_read=rows * float(opts.row_bytes),
                    bytes_written=kept * float(opts.row_bytes), flops=rows * 4.0,
                    dtype="fp32"),
        ScalarReadback(count=decisions),
    ]
    if opts.join_rows and kept:
        ops.append(EmbeddingLookup(rows=max(opts.join_rows // chips, 1),
                                   dim=max(opts.row_bytes // 4, 1), lookups=kept,
                                   dtype="fp32"))
        ops.append(ScalarReadback(count=decisions))
    ops.append(Sync())
    return ops


def training_ops(workload: ModelWorkload) -> tuple[list[Operator], tuple[Operator, ...], int]:
    """Ops of one training step, ops overlapped with it, and samples per chip per step."""
    if isinstance(workload.model, CnnArchitecture):
        phase = cnn.training_phases(workload)[0]
        return list(phase.ops), phase.overlapped_ops, (
            workload.global_batch // workload.system.data_parallel)
    if isinstance(workload.model, RecommendationArchitecture):
        return recommendation.step_ops(workload), (), (
            workload.global_batch // workload.system.data_parallel)
    raise TypeError(f"{NAME} trains CNN or recommendation models, not {workload.model_name}")


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    train, overlapped, samples = training_ops(workload)
    steps = workload.pipeline.batches_between_switches
    phases = [
        Phase("preprocess", (*preprocess_ops(workload, samples * steps),
                             Reconfigure("query"))),
        Phase("query", (*query_ops(workload), Reconfigure("training"))),
        Phase("training", tuple(train), repeats=float(steps), overlapped_ops=overlapped),
        Phase("switch_back", (Reconfigure("preprocess"),)),
    ]
    if isinstance(workload.model, CnnArchitecture):
        memory = cnn.memory_per_chip_bytes(workload, samples)
        resident = cnn.memory_per_chip_bytes(workload, 0)
    else:
        memory = recommendation.memory_per_chip_bytes(workload)
        resident = memory
    result = run_phases(designs, phases, resident_bytes=resident, graph_captured=True)
    cycle = result.step_time_s()
    energy = result.step_energy_j()
    out: list[WorkloadMetrics] = []
    for d, hw in enumerate(designs):
        reasons = list(precision_reasons(hw, workload.precision)) + list(result.reasons[d])
        if memory > usable_memory_bytes(hw):
            reasons.append(memory_reason(memory, hw, "training state and activations"))
        times = {name: float(result.phase_time_s[name][d] * result.repeats[name])
                 for name in result.phase_time_s}
        reconfig = times["switch_back"]
        values = finite_metrics({
            "step_time_s": cycle[d],
            "samples_per_s": samples * steps * workload.system.data_parallel / cycle[d],
            "samples_per_s_per_chip": samples * steps / cycle[d],
            "preprocess_time_s": times["preprocess"],
            "query_time_s": times["query"],
            "training_time_s": times["training"],
            "switch_time_s": reconfig,
            "non_training_fraction": 1.0 - times["training"] / cycle[d],
            "power_w": energy[d] / cycle[d],
            "energy_per_sample_j": energy[d] / (samples * steps),
            "memory_per_chip_bytes": memory,
            "clock_fraction": result.clock_fraction[d],
        })
        if reasons:
            out.append(infeasible(workload.name, NAME, reasons, values))
        else:
            out.append(WorkloadMetrics(workload.name, NAME, True, (), values,
                                       result.time_by_bound(d)))
    return out
