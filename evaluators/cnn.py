"""Convolutional networks (ResNet-50): training and inference, data parallel.

Each convolution is followed by batch-norm and ReLU (one streaming pass over its output),
bottleneck blocks end in a residual add, and the classifier is a matmul. Training runs
the convolutions forward and backward, reduces gradients over the data-parallel group
(overlapped with the backward pass) and applies SGD with momentum. Input images arrive
over the host link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dse.core.calibration import calibration_in_use, using_calibration
from dse.hardware import Hardware
from dse.workload import Collective, Conv2d, Elementwise, MatMul, Operator, Transfer
from evaluators._common import (
    element_bytes,
    finite_metrics,
    infeasible,
    memory_reason,
    precision_reasons,
    usable_memory_bytes,
)
from evaluators._program import Phase, PhaseResult, run_phases
from evaluators.api import WorkloadMetrics
from evaluators.models import CnnArchitecture, CnnFramework
from evaluators.workload_files import ModelWorkload

NAME = "cnn"

# NOTE: the input pipeline ships decoded, cropped uint8 images (3 x H x W bytes) to the
# device; normalisation to the working precision happens on the device (NVIDIA DALI and
# MLPerf ResNet-50 submissions do this).
INPUT_BYTES_PER_PIXEL = 3.0
# NOTE: training keeps, per convolution output element, the conv output (batch-norm input),
# the normalised output and the ReLU output for the backward pass: three tensors.
SAVED_TENSORS_PER_CONV_OUTPUT = 3.0
# NOTE: SGD with momentum (the MLPerf ResNet-50 reference uses LARS, same state size):
# fp32 master weight, gradient and momentum, 12 bytes per parameter.
OPTIMIZER_STATE_BYTES_PER_PARAM = 12.0
MAX_AUTO_BATCH = 2048
# NOTE: of the SAVED_TENSORS_PER_CONV_OUTPUT, the convolution's own saved input is the
# previous layer's ReLU output (the core counts it with the convolution); the batch-norm
# pass keeps the other two (its input and its normalised output) for the backward.
_NORM_SAVED = SAVED_TENSORS_PER_CONV_OUTPUT - 1.0


@dataclass(frozen=True, slots=True)
class CnnFrameworkProfile:
    """What a CNN framework changes beyond the kernels it launches (`conv_ops`)."""

    conv_efficiency_factor: float = 1.0
    """Multiplies the calibration's `conv_relative_efficiency` for its convolutions."""
    training_host_s_per_kernel: float = 0.0
    """Host seconds per kernel of a training step (dispatch, autocast, autograd
    recording and the backward engine); the step lasts at least this x its kernels."""
    graph_captured: bool = True
    """Replays a captured graph where the chip has one; else every kernel is launched."""


# NOTE: fitted on two rows of dse/data/reference/h100_end_to_end.csv (eager PyTorch 2.11,
# channels_last, cudnn.benchmark, autocast bf16, torchvision ResNet-50 on an H100 SXM) by
# `python -m dse.validation.end_to_end` (tests/validation/test_end_to_end.py checks the
# constants are what the fit gives): the convolution factor on inference at batch 256
# (device-bound: cuDNN called layer by layer reaches ~58 % of what the `ideal` conv
# efficiency assumes; ResNet-50's 1x1 convolutions over 64-256 channels have reduction
# lengths of 64-1024, too short to amortise a tile's prologue and epilogue), the host
# cost on training at batch 64 (host-bound: ~500 kernels a step, each dispatched,
# autocast, recorded by autograd and run by its backward engine). Inference at batch 64
# and training at batch 256 are held out. torch.compile: the same cuDNN convolutions,
# Inductor's fused kernels launched from generated code with no per-op autograd engine
# (no measurement here: host cost left to the core's launch model). TensorRT and
# `ideal`: the tuned, fused kernels MLPerf submissions run (published_results M067).
EAGER_CONV_EFFICIENCY_FACTOR = 0.583
EAGER_TRAINING_HOST_S_PER_KERNEL = 43.02e-6
CNN_FRAMEWORK_PROFILES: dict[str, CnnFrameworkProfile] = {
    "ideal": CnnFrameworkProfile(),
    "tensorrt": CnnFrameworkProfile(),
    "eager-pytorch": CnnFrameworkProfile(EAGER_CONV_EFFICIENCY_FACTOR,
                                         EAGER_TRAINING_HOST_S_PER_KERNEL,
                                         graph_captured=False),
    "torch-compile": CnnFrameworkProfile(EAGER_CONV_EFFICIENCY_FACTOR, 0.0,
                                         graph_captured=False),
}


def _arch(workload: ModelWorkload) -> CnnArchitecture:
    if not isinstance(workload.model, CnnArchitecture):
        raise TypeError(f"{NAME} needs a CNN model, got {workload.model_name}")
    return workload.model


def conv_output_elements_per_sample(arch: CnnArchitecture) -> float:
    total = 0.0
    for c in arch.convs:
        out = -(-c.size // c.stride)
        total += c.count * c.out_channels * out * out
    return total


def activation_bytes(workload: ModelWorkload, batch: int) -> float:
    """Activations kept per chip: the training backward's saved tensors, or for inference
    the two largest live feature maps."""
    arch = _arch(workload)
    e = element_bytes(workload.precision)
    if workload.kind == "training":
        return batch * SAVED_TENSORS_PER_CONV_OUTPUT * conv_output_elements_per_sample(arch) * e
    largest = max(c.in_channels * c.size * c.size for c in arch.convs)
    return batch * 2.0 * largest * e


def memory_per_chip_bytes(workload: ModelWorkload, batch: int) -> float:
    arch = _arch(workload)
    e = element_bytes(workload.precision)
    state = arch.params * (e + (OPTIMIZER_STATE_BYTES_PER_PARAM
                                if workload.kind == "training" else 0.0))
    return state + activation_bytes(workload, batch)


def conv_ops(arch: CnnArchitecture, batch: int, dtype: str, training: bool,
             framework: CnnFramework = "ideal") -> list[Operator]:
    """Convolutions, their batch-norm / activation / residual passes and the classifier,
    as `framework` runs them (see `evaluators.models.CnnFramework`)."""
    if framework in ("eager-pytorch", "torch-compile"):
        return _unfused_conv_ops(arch, batch, dtype, training, framework)
    e = element_bytes(dtype)
    passes = 3.0 if training else 1.0
    ops: list[Operator] = []
    for c in arch.convs:
        ops.append(Conv2d(batch=batch, in_channels=c.in_channels, out_channels=c.out_channels,
                          height=c.size, width=c.size, kernel=c.kernel, stride=c.stride,
                          dtype=dtype, pass_="forward_backward" if training else "forward",
                          count=c.count))
        out = -(-c.size // c.stride)
        elements = batch * c.out_channels * out * out
        # NOTE: inference folds batch-norm into the convolution and fuses ReLU (TensorRT);
        # training runs batch-norm statistics + normalise + ReLU as separate passes.
        if training:
            ops.append(Elementwise(bytes_read=2.0 * elements * e * passes,
                                   bytes_written=elements * e * passes,
                                   flops=8.0 * elements * passes, dtype=dtype,
                                   count=c.count, saved_bytes=_NORM_SAVED * elements * e))
    ops.extend(_classifier_ops(arch, batch, dtype, training))
    return ops


def _classifier_ops(arch: CnnArchitecture, batch: int, dtype: str, training: bool
                    ) -> list[Operator]:
    if not arch.classes:
        return []
    ops: list[Operator] = [MatMul(m=batch, n=arch.classes, k=arch.classifier_in, dtype=dtype)]
    if training:
        ops.append(MatMul(m=batch, n=arch.classifier_in, k=arch.classes, dtype=dtype))
        ops.append(MatMul(m=arch.classifier_in, n=arch.classes, k=batch, dtype=dtype))
    return ops


# Passes over a convolution's output, as (reads, writes) of its size, by what follows
# the convolution (`ConvLayer.activation`).
# NOTE: eager PyTorch (torchvision ResNet, channels_last, autocast) launches each layer
# as its own kernel: cuDNN convolution; batch-norm (inference: read + write; training:
# statistics then normalise, two reads + a write); ReLU (read + write, in place still
# reads and writes); a residual add (two reads + a write) then ReLU. Backward: ReLU's
# threshold_backward (gradient + output read, gradient written), batch-norm backward (a
# reduction over gradient and input, then an elementwise pass reading both: four reads +
# a write), and where a block's shortcut meets its branch the two input gradients are
# summed (two reads + a write). PyTorch's aten kernel list for these ops
# (native_batch_norm, threshold_backward, add_) and torch.profiler traces of torchvision
# ResNet-50 show these kernels one per layer.
_EAGER_FORWARD = {"relu": ((1, 1), (1, 1)), "residual": ((1, 1), (2, 1), (1, 1)),
                  "none": ((1, 1),)}
_EAGER_TRAIN_FORWARD = {"relu": ((2, 1), (1, 1)), "residual": ((2, 1), (2, 1), (1, 1)),
                        "none": ((2, 1),)}
_EAGER_BACKWARD = {"relu": ((2, 1), (4, 1)), "residual": ((2, 1), (4, 1), (2, 1)),
                   "none": ((4, 1),)}
# NOTE: torch.compile (Inductor) keeps cuDNN for the convolutions and fuses what follows
# each into one pointwise kernel (plus a statistics reduction when training): inference
# reads the output (and the shortcut) once and writes once; training adds a reduction
# pass forward and backward (Inductor's generated kernels for conv-bn-relu blocks).
_COMPILED_FORWARD = {"relu": ((1, 1),), "residual": ((2, 1),), "none": ((1, 1),)}
_COMPILED_TRAIN_FORWARD = {"relu": ((1, 0), (1, 1)), "residual": ((1, 0), (2, 1)),
                           "none": ((1, 0), (1, 1))}
_COMPILED_BACKWARD = {"relu": ((3, 0), (3, 1)), "residual": ((3, 0), (4, 1)),
                      "none": ((2, 0), (2, 1))}
# NOTE: FLOP per element of a batch-norm / activation pass (normalise: subtract, scale,
# shift; statistics: sums of x and x^2); small beside its bytes on every chip modelled.
POINTWISE_FLOP_PER_ELEMENT = 4.0


def _passes(framework: str, training: bool) -> tuple[dict, dict]:
    if framework == "eager-pytorch":
        return (_EAGER_TRAIN_FORWARD if training else _EAGER_FORWARD), _EAGER_BACKWARD
    return (_COMPILED_TRAIN_FORWARD if training else _COMPILED_FORWARD), _COMPILED_BACKWARD


def _unfused_conv_ops(arch: CnnArchitecture, batch: int, dtype: str, training: bool,
                      framework: str) -> list[Operator]:
    """Forward (and backward) of every layer as the framework launches it: one kernel per
    convolution and per pass over its output, plus pooling, the classifier and, under
    autocast, the per-step casts of fp32 weights to the working precision."""
    e = element_bytes(dtype)
    forward_passes, backward_passes = _passes(framework, training)
    ops: list[Operator] = []
    for c in arch.convs:
        out = -(-c.size // c.stride)
        size = batch * c.out_channels * out * out * e
        ops.append(Conv2d(batch=batch, in_channels=c.in_channels, out_channels=c.out_channels,
                          height=c.size, width=c.size, kernel=c.kernel, stride=c.stride,
                          dtype=dtype, pass_="forward_backward" if training else "forward",
                          count=c.count))
        chosen = list(forward_passes[c.activation])
        if training:
            chosen += backward_passes[c.activation]
        for i, (reads, writes) in enumerate(chosen):
            ops.append(Elementwise(bytes_read=reads * size, bytes_written=writes * size,
                                   flops=POINTWISE_FLOP_PER_ELEMENT * size / e, dtype=dtype,
                                   count=c.count,
                                   saved_bytes=_NORM_SAVED * size if training and i == 0
                                   else 0.0))
    if arch.stem_max_pool:
        first = arch.convs[0]
        stem = batch * first.out_channels * (-(-first.size // first.stride)) ** 2 * e
        ops.append(Elementwise(bytes_read=stem, bytes_written=stem / 4, dtype=dtype))
        if training:  # max_pool2d_with_indices_backward: gradient + indices in, gradient out
            ops.append(Elementwise(bytes_read=stem / 4 * 2, bytes_written=stem, dtype=dtype))
    if arch.classes:
        pooled = batch * arch.classifier_in * e
        last = arch.convs[-1]
        spatial = (-(-last.size // last.stride)) ** 2
        ops.append(Elementwise(bytes_read=pooled * spatial, bytes_written=pooled, dtype=dtype))
        if training:
            ops.append(Elementwise(bytes_read=pooled, bytes_written=pooled * spatial,
                                   dtype=dtype))
    ops.extend(_classifier_ops(arch, batch, dtype, training))
    if framework == "eager-pytorch" and dtype not in ("fp32", "tf32"):
        # NOTE: autocast keeps fp32 master weights and casts each to the working
        # precision on every forward (one kernel per weight); the backward casts the
        # weight gradient back to fp32.
        convs = sum(c.count for c in arch.convs)
        weights = sum(c.count * c.in_channels * c.out_channels * c.kernel**2
                      for c in arch.convs)
        ops.append(Elementwise(bytes_read=4.0 * weights / convs, bytes_written=e * weights
                               / convs, dtype="fp32", count=convs))
        if training:
            ops.append(Elementwise(bytes_read=e * weights / convs, bytes_written=4.0
                                   * weights / convs, dtype="fp32", count=convs))
    return ops


def kernels_per_step(arch: CnnArchitecture, dtype: str, training: bool,
                     framework: CnnFramework) -> int:
    """Kernels one step launches: `conv_ops`' operators, a training convolution counting
    three (forward, data gradient, weight gradient), plus the loss and optimizer's few."""
    launches = 0
    for op in conv_ops(arch, 1, dtype, training, framework):
        per_op = 3 if isinstance(op, Conv2d) and op.pass_ == "forward_backward" else 1
        launches += per_op * op.count
    # NOTE: cross-entropy forward/backward and PyTorch's foreach SGD (multi-tensor
    # kernels over all parameters): a handful of launches, counted as 6.
    return launches + (6 if training else 0)


def input_transfer(arch: CnnArchitecture, batch: int) -> Transfer:
    return Transfer("host_to_device",
                    batch * INPUT_BYTES_PER_PIXEL * arch.image_size * arch.image_size)


def micro_batch_options(hw: Hardware, batch: int) -> list[int]:
    """Micro-batches the software may run a per-chip batch of `batch` as on `hw`: on the
    SRAM + DDR route (a scratchpad, no HBM) every power of two below the batch and the
    batch itself; elsewhere only the whole batch. The evaluator runs the fastest.

    NOTE: software for SRAM + DDR designs keeps the working set on chip by splitting the
    batch and accumulating gradients to the global batch: Graphcore's published IPU
    training configurations accumulate 16 to 512 micro-batches per optimizer step
    (Optimum Graphcore `ipu_config.json` files on the Hugging Face Hub, e.g.
    Graphcore/distilbert-base-ipu: gradient_accumulation_steps 16; wav2vec2-base-ipu:
    32), its MLPerf Training v1.1 ResNet-50 ran 20 images per IPU with 10 accumulation
    steps and recomputation (mlcommons/training_results_v1.1, Graphcore configs.yml,
    mk2_resnet50_mlperf_pod16_lars), and Poplar documents "batch serialisation" for the
    same purpose. Caches (GPUs, CPUs) do not: the hardware decides what stays, and
    frameworks run the whole batch. Nor do scratchpad designs with HBM behind them (TPU
    v4's CMEM, the DLPU's buffers): their compilers stream feature maps through HBM at
    the full per-chip batch (TPU MLPerf ResNet-50 runs use per-core batches in the
    hundreds without accumulation). Which micro-batch is fastest is the core's to say:
    the tensors a micro-batch saves for its backward pass that do not fit beside the
    resident data spill to DDR (`dse.core.liveness`), while smaller ones pay more
    exchange, launches and weight traffic per sample. Taking the fastest, not the
    largest that fits, keeps the choice monotone: the room left beside the state shrinks
    when more SRAM lets the state move on chip (issue 11: 2x SRAM on a Dojo-like design
    trained ResNet-50 13 % slower at the smaller micro-batch the room allowed).
    """
    if hw.sram.management != "scratchpad" or hw.hbm is not None or batch <= 1:
        return [batch]
    return [1 << i for i in range(batch.bit_length()) if 1 << i < batch] + [batch]


def faster(best: WorkloadMetrics | None, candidate: WorkloadMetrics, metric: str
           ) -> WorkloadMetrics:
    """The better of two runs of one workload on one design: feasible first, then higher
    `metric`; `candidate` wins ties (callers offer larger micro-batches later)."""
    if best is None:
        return candidate
    if not candidate.feasible:
        return best
    if not best.feasible or candidate.metrics[metric] >= best.metrics[metric]:
        return candidate
    return best


def training_phases(workload: ModelWorkload, micro_batch: int | None = None) -> list[Phase]:
    """One optimizer step; with `micro_batch` below the per-chip batch, the batch runs as
    micro-batches accumulating gradients, and the last one carries the optimizer and the
    gradient all-reduce."""
    arch = _arch(workload)
    plan = workload.system
    batch = workload.global_batch // plan.data_parallel
    micro = batch if micro_batch is None else min(micro_batch, batch)
    step = conv_ops(arch, micro, workload.precision, True, workload.framework)
    # NOTE: input pipelines prefetch the next batch while this one computes (DALI,
    # PyTorch DataLoader pinned-memory copies on a side stream), so the copy overlaps.
    overlapped: list[Operator] = [input_transfer(arch, micro)]
    if plan.data_parallel > 1:
        # NOTE: DDP all-reduces fp32 gradients bucket by bucket during the backward pass.
        overlapped.append(Collective("all_reduce", arch.params * 4.0, plan.data_parallel))
    optimizer = Elementwise(bytes_read=arch.params * 16.0, bytes_written=arch.params * 10.0,
                            flops=arch.params * 6.0, dtype="fp32")
    # NOTE: each convolution runs forward and backward as one operator
    # (`pass_="forward_backward"`), so a step splits only into that, the optimizer and
    # the exposed part of the overlapped input copy and gradient all-reduce.
    passes = ("forward_and_backward",) * len(step)
    links = ("input_transfer", "gradient_sync")[:len(overlapped)]
    phases = [Phase("step", (*step, optimizer), overlapped_ops=tuple(overlapped),
                    labels=(*passes, "optimizer", *links))]
    if micro < batch:
        phases.append(Phase("accumulate", tuple(step), repeats=batch / micro - 1.0,
                            overlapped_ops=(input_transfer(arch, micro),),
                            labels=(*passes, "input_transfer")))
    return phases


def inference_phases(workload: ModelWorkload, batch: int, micro_batch: int | None = None
                     ) -> list[Phase]:
    arch = _arch(workload)
    micro = batch if micro_batch is None else min(micro_batch, batch)
    # Throughput serving (MLPerf offline) copies the next batch while this one runs.
    ops = tuple(conv_ops(arch, micro, workload.precision, False, workload.framework))
    return [Phase("forward", ops, repeats=batch / micro,
                  overlapped_ops=(input_transfer(arch, micro),),
                  labels=(*(("forward",) * len(ops)), "input_transfer"))]


def per_chip_batch(hw: Hardware, workload: ModelWorkload) -> int:
    plan = workload.system
    if workload.kind == "training":
        return workload.global_batch // plan.data_parallel
    if workload.batch is not None:
        return workload.batch // plan.data_parallel
    per_sample = activation_bytes(workload, 1)
    room = usable_memory_bytes(hw) - memory_per_chip_bytes(workload, 0)
    if room < per_sample:
        return 0
    batch = min(int(room // per_sample), MAX_AUTO_BATCH)
    return 1 << (batch.bit_length() - 1)  # power of two: few distinct core calls


def metrics_from(designs: Sequence[Hardware], workload: ModelWorkload, result: PhaseResult,
                 batch: int, name: str, extra_reasons: Sequence[Sequence[str]] | None = None,
                 micro_batch: int | None = None, host_floor_s: float = 0.0
                 ) -> list[WorkloadMetrics]:
    """Throughput, power and memory from one step of `batch` samples per chip, run as
    micro-batches of `micro_batch` (default: the whole batch at once). A step lasts at
    least `host_floor_s` (the host issuing it); the wait is host-bound, at idle power."""
    plan = workload.system
    micro = batch if micro_batch is None else micro_batch
    host_wait = np.maximum(host_floor_s - result.step_time_s(), 0.0)
    step = result.step_time_s(host_wait)
    energy = result.step_energy_j(host_wait)
    memory = memory_per_chip_bytes(workload, micro)
    peak_flops = result.step_flops()
    out: list[WorkloadMetrics] = []
    for d, hw in enumerate(designs):
        reasons = list(precision_reasons(hw, workload.precision)) + list(result.reasons[d])
        reasons += list(extra_reasons[d]) if extra_reasons else []
        if memory > usable_memory_bytes(hw):
            reasons.append(memory_reason(memory, hw, f"batch {batch} per chip"))
        peak = hw.compute.peak_flop_per_s.get(workload.precision, 0.0)
        samples = batch * plan.data_parallel
        values = {
            "step_time_s": step[d],
            "samples_per_s": samples / step[d],
            "samples_per_s_per_chip": batch / step[d],
            "batch": float(batch * plan.data_parallel),
            "hardware_flops_utilization": peak_flops / step[d] / peak if peak else 0.0,
            "power_w": energy[d] / step[d],
            "energy_per_sample_j": energy[d] / batch,
            "memory_per_chip_bytes": memory,
            "micro_batch": float(micro),
            "accumulation_steps": batch / micro,
            "clock_fraction": result.clock_fraction[d],
        }
        if workload.kind == "training":
            values["model_flops_utilization"] = values["hardware_flops_utilization"]
        metrics = finite_metrics(values)
        if reasons:
            out.append(infeasible(workload.name, name, reasons, metrics))
        else:
            extra = {"host_wait": float(host_wait[d])} if host_wait[d] else {}
            out.append(WorkloadMetrics(workload.name, name, True, (), metrics,
                                       result.time_by_bound(d, {"host": host_wait[d]}),
                                       *result.breakdown(d, extra)))
    return out


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload,
             profile: CnnFrameworkProfile | None = None) -> list[WorkloadMetrics]:
    """One core call per distinct (batch, micro-batch) among the designs' options; each
    design keeps its fastest. `profile` overrides the workload framework's constants (the
    fit in dse.validation.end_to_end)."""
    profile = profile or CNN_FRAMEWORK_PROFILES[workload.framework]
    out: list[WorkloadMetrics | None] = [None] * len(designs)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, hw in enumerate(designs):
        batch = per_chip_batch(hw, workload)
        if batch <= 0:
            out[i] = infeasible(workload.name, NAME, [memory_reason(
                memory_per_chip_bytes(workload, 1), hw, "one sample")])
            continue
        for micro in micro_batch_options(hw, batch):
            groups[(batch, micro)].append(i)
    for (batch, micro), indices in sorted(groups.items()):
        group = [designs[i] for i in indices]
        for i, metrics in zip(indices, _evaluate_group(group, workload, profile, batch, micro),
                              strict=True):
            out[i] = faster(out[i], metrics, "samples_per_s_per_chip")
    return [m for m in out if m is not None]


def _evaluate_group(designs: Sequence[Hardware], workload: ModelWorkload,
                    profile: CnnFrameworkProfile, batch: int, micro: int
                    ) -> list[WorkloadMetrics]:
    phases = (training_phases(workload, micro) if workload.kind == "training"
              else inference_phases(workload, batch, micro))
    base = calibration_in_use()
    framework_calibration = base.with_changes(
        conv_relative_efficiency=base.conv_relative_efficiency
        * profile.conv_efficiency_factor)
    with using_calibration(framework_calibration):
        result = run_phases(designs, phases, resident_bytes=memory_per_chip_bytes(workload, 0),
                            graph_captured=profile.graph_captured)
    host_floor = 0.0
    if workload.kind == "training" and profile.training_host_s_per_kernel > 0:
        host_floor = profile.training_host_s_per_kernel * kernels_per_step(
            _arch(workload), workload.precision, True, workload.framework) * (batch / micro)
    return metrics_from(designs, workload, result, batch, NAME, micro_batch=micro,
                        host_floor_s=host_floor)
