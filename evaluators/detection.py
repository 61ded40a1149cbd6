"""Object detection with host-side post-processing: where the interaction wall shows.

The backbone, feature pyramid and box/class heads are convolutions (as in `cnn`). After
them, non-maximum suppression runs as a data-dependent loop: each iteration picks the
best remaining box, suppresses its overlaps (a small device kernel over the candidate
boxes) and reads a scalar back to decide whether to go on. On a design without
device-side scalar control every iteration is a host round trip and the program cannot
be captured as a graph; a CPU-less design keeps the loop on the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dse.hardware import Hardware
from dse.workload import Elementwise, Operator, ScalarReadback, Transfer
from evaluators._program import Phase, run_phases
from evaluators.api import WorkloadMetrics
from evaluators.cnn import conv_ops, input_transfer, memory_per_chip_bytes, metrics_from
from evaluators.models import CnnArchitecture
from evaluators.workload_files import ModelWorkload

NAME = "detection"

# NOTE: one NMS iteration compares the chosen box with every candidate (IoU: ~20 FLOP
# per pair) and rewrites a keep-mask; torchvision's batched_nms and the MLPerf SSD
# reference post-processing do this per class-agnostic iteration.
IOU_FLOPS_PER_BOX = 20.0
BOX_BYTES = 16.0  # four fp32 coordinates


def postprocess_ops(workload: ModelWorkload, batch: int) -> list[Operator]:
    """NMS for `batch` images: device kernels, scalar read-backs, results to the host."""
    options = workload.detection
    iterations = options.nms_iterations * batch
    boxes = options.candidate_boxes
    ops: list[Operator] = []
    if iterations:
        ops.append(Elementwise(bytes_read=boxes * (BOX_BYTES + 4.0),
                               bytes_written=boxes * 1.0, flops=boxes * IOU_FLOPS_PER_BOX,
                               dtype="fp32", count=iterations))
        ops.append(ScalarReadback(count=iterations))
    ops.append(Transfer("device_to_host", batch * boxes * (BOX_BYTES + 8.0)))
    return ops


def _phases(workload: ModelWorkload, batch: int) -> list[Phase]:
    arch = workload.model
    assert isinstance(arch, CnnArchitecture)
    return [
        Phase("network", (input_transfer(arch, batch),
                          *conv_ops(arch, batch, workload.precision, False))),
        Phase("postprocess", tuple(postprocess_ops(workload, batch))),
    ]


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    plan = workload.system
    batch = max((workload.batch or plan.data_parallel) // plan.data_parallel, 1)
    # The program asks for graph capture; the core refuses it where a scalar read-back
    # needs the host (CUDA graphs cannot contain a host decision) and grants it where the
    # device runs the scalar control itself.
    result = run_phases(designs, _phases(workload, batch),
                        resident_bytes=memory_per_chip_bytes(workload, 0),
                        graph_captured=True)
    out = metrics_from(designs, workload, result, batch, NAME)
    final: list[WorkloadMetrics] = []
    for d, metrics in enumerate(out):
        values = dict(metrics.metrics)
        post = float(result.phase_time_s["postprocess"][d])
        values["postprocess_time_s"] = post
        values["postprocess_fraction"] = post / values["step_time_s"] if values.get(
            "step_time_s") else 0.0
        values["latency_s"] = values.get("step_time_s", 0.0)
        final.append(replace(metrics, metrics=values))
    return final

