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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

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


def training_phases(workload: ModelWorkload, micro_batch: int | None = None
                    ) -> tuple[list[Phase], int]:
    """One training step as phases (`training`, and `training_accumulate` for CNN
    micro-batches), and samples per chip per step."""
    samples = workload.global_batch // workload.system.data_parallel
    if isinstance(workload.model, CnnArchitecture):
        phases = cnn.training_phases(workload, micro_batch)
        return [replace(p, name="training" if p.name == "step" else "training_accumulate")
                for p in phases], samples
    if isinstance(workload.model, RecommendationArchitecture):
        return [Phase("training", tuple(recommendation.step_ops(workload)))], samples
    raise TypeError(f"{NAME} trains CNN or recommendation models, not {workload.model_name}")


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    """One core call per distinct CNN micro-batch among the designs' options
    (`cnn.micro_batch_options`; each design keeps its fastest); one for DLRM."""
    samples = workload.global_batch // workload.system.data_parallel
    groups: dict[int, list[int]] = defaultdict(list)
    for i, hw in enumerate(designs):
        options = (cnn.micro_batch_options(hw, samples)
                   if isinstance(workload.model, CnnArchitecture) else [samples])
        for micro in options:
            groups[micro].append(i)
    out: list[WorkloadMetrics | None] = [None] * len(designs)
    for micro, indices in sorted(groups.items()):
        for i, metrics in zip(indices, _evaluate_group([designs[i] for i in indices],
                                                       workload, micro), strict=True):
            out[i] = cnn.faster(out[i], metrics, "samples_per_s_per_chip")
    return [m for m in out if m is not None]


def _evaluate_group(designs: Sequence[Hardware], workload: ModelWorkload, micro: int
                    ) -> list[WorkloadMetrics]:
    train, samples = training_phases(workload, micro)
    steps = workload.pipeline.batches_between_switches
    phases = [
        Phase("preprocess", (*preprocess_ops(workload, samples * steps),
                             Reconfigure("query"))),
        Phase("query", (*query_ops(workload), Reconfigure("training"))),
        *[replace(p, repeats=p.repeats * steps) for p in train],
        Phase("switch_back", (Reconfigure("preprocess"),)),
    ]
    if isinstance(workload.model, CnnArchitecture):
        memory = cnn.memory_per_chip_bytes(workload, micro)
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
        times["training"] += times.pop("training_accumulate", 0.0)
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
            "micro_batch": float(micro),
            "clock_fraction": result.clock_fraction[d],
        })
        if reasons:
            out.append(infeasible(workload.name, NAME, reasons, values))
        else:
            out.append(WorkloadMetrics(workload.name, NAME, True, (), values,
                                       result.time_by_bound(d), *result.breakdown(d)))
    return out
