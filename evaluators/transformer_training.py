"""Transformer training: data, tensor, pipeline and sequence parallelism, ZeRO, recompute.

One chip's program for one micro-batch is the last pipeline stage's share of the model
(its layers, the logits and loss; the slowest stage sets the pipeline's pace): forward
and backward of `layers / pipeline_parallel` blocks on a `1/tensor_parallel` shard, their
tensor-parallel collectives, and the activation send/receive to the neighbouring stage.
A step runs `micro_batches` of those, pays the 1F1B pipeline bubble, synchronises
gradients over the data-parallel group and runs the optimizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dse.core import BOUND_NAMES
from dse.hardware import Hardware
from dse.workload import Attention, Collective, Elementwise, EmbeddingLookup, MatMul, Operator
from evaluators._common import (
    element_bytes,
    finite_metrics,
    infeasible,
    memory_reason,
    precision_reasons,
    usable_memory_bytes,
)
from evaluators._program import Phase, run_phases
from evaluators._transformer import (
    activation_bytes_per_token_layer,
    block_backward_ops,
    block_forward_ops,
    tensor_parallel_collectives,
)
from evaluators.api import WorkloadMetrics
from evaluators.models import TransformerArchitecture
from evaluators.workload_files import ModelWorkload

NAME = "transformer_training"

# NOTE: mixed-precision Adam keeps fp32 master weights, momentum and variance: 12 bytes
# per parameter (Rajbhandari et al. 2020, ZeRO, arXiv 1910.02054, section 3.1: "K = 12").
OPTIMIZER_BYTES_PER_PARAM = 12.0
# NOTE: Megatron-LM accumulates and all-reduces gradients in fp32 (`main_grad`), the
# default in both the 2021 PTD-P runs and Megatron-Core; ZeRO counts 2 bytes for fp16
# gradients. dse keeps fp32 gradient buffers (4 bytes) for 16/8-bit training.
GRADIENT_BYTES_PER_PARAM = 4.0
# NOTE: data-parallel gradient reduction is bucketed and overlapped with the backward pass
# (PyTorch DDP, Megatron-Core --overlap-grad-reduce); only what outlasts the backward of
# the last micro-batch is exposed. The backward is 2/3 of a micro-batch's work without
# recompute (two matmuls per forward matmul).
BACKWARD_SHARE_OF_MICROBATCH = 2.0 / 3.0


@dataclass(frozen=True, slots=True)
class TrainingMemory:
    """Bytes per chip, a bound over pipeline stages: the last stage's parameters (it holds
    the output layer) with the first stage's activations (it has the most micro-batches
    in flight)."""

    params_per_chip: float
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    workspace_bytes: float

    @property
    def persistent_bytes(self) -> float:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes

    @property
    def total_bytes(self) -> float:
        return self.persistent_bytes + self.activations_bytes + self.workspace_bytes


def activation_dtype(precision: str) -> str:
    """What activations, attention and collectives run in when matmuls use `precision`.

    NOTE: fp8/int8 training (Transformer Engine, Micikevicius et al. 2022, arXiv
    2209.05433) keeps activations, attention and communication in bf16 and casts only the
    GEMM operands to 8 bits.
    """
    return "bf16" if precision in ("fp8", "int8") else precision


def _arch(workload: ModelWorkload) -> TransformerArchitecture:
    if not isinstance(workload.model, TransformerArchitecture):
        raise TypeError(f"{NAME} needs a transformer model, got {workload.model_name}")
    return workload.model


def micro_batches(workload: ModelWorkload) -> int:
    plan = workload.system
    return workload.global_batch // (plan.data_parallel * plan.micro_batch)


def params_per_chip(workload: ModelWorkload) -> float:
    """Parameters one chip of the last stage holds before ZeRO sharding.

    NOTE: the last stage holds its blocks plus the output projection (with tied
    embeddings Megatron keeps a copy there); with one stage it also holds the input
    embedding when untied. The vocabulary is split over tensor-parallel ranks.
    """
    arch = _arch(workload)
    plan = workload.system
    blocks = arch.layers // plan.pipeline_parallel * arch.params_per_layer
    vocab = float(arch.vocab * arch.hidden)
    if plan.pipeline_parallel == 1:
        vocab = arch.embedding_params
    return (blocks + vocab) / plan.tensor_parallel


def training_memory(workload: ModelWorkload) -> TrainingMemory:
    """Weights, gradients, optimizer state, activations and workspace per chip."""
    arch = _arch(workload)
    plan = workload.system
    e = element_bytes(activation_dtype(workload.precision))
    params = params_per_chip(workload)
    dp = plan.data_parallel
    weights = params * e
    grads = params * (GRADIENT_BYTES_PER_PARAM if e < 4 else 4.0)
    optimizer = params * (OPTIMIZER_BYTES_PER_PARAM if e < 4 else 8.0)
    if plan.zero_stage >= 1:
        optimizer /= dp
    if plan.zero_stage >= 2:
        grads /= dp
    if plan.zero_stage >= 3:
        weights /= dp
    tokens = plan.micro_batch * workload.seq_len
    per_layer = tokens * activation_bytes_per_token_layer(
        arch, plan.tensor_parallel, plan.sequence_parallel, workload.recompute, e)
    # NOTE: with 1F1B the first stage holds `pipeline_parallel` micro-batches in flight,
    # each for its layers/p blocks: L blocks' worth in all (Korthikanti et al. 2022, sec.
    # 4.2.3); interleaving adds (p-1)/(p·v). Fewer micro-batches than stages hold fewer.
    p, v = plan.pipeline_parallel, plan.virtual_stages
    in_flight = min(micro_batches(workload), p) * (1 + (p - 1) / (p * v) if v > 1 else 1.0)
    activations = per_layer * arch.layers / p * in_flight
    workspace = 0.0
    if workload.recompute == "full":
        # One block's full activations exist while it is recomputed.
        workspace += tokens * activation_bytes_per_token_layer(
            arch, plan.tensor_parallel, plan.sequence_parallel, "none")
    # Logits and their fp32 softmax gradient on the last stage.
    workspace += tokens * arch.vocab / plan.tensor_parallel * (e + 4)
    if plan.zero_stage >= 3:
        # NOTE: FSDP gathers one block's full parameters at a time and prefetches the next.
        workspace += 2 * arch.params_per_layer / plan.tensor_parallel * e
    return TrainingMemory(params, weights, grads, optimizer, activations, workspace)


def microbatch_ops(workload: ModelWorkload) -> list[Operator]:
    """Forward, recompute and backward of one micro-batch on one last-stage chip."""
    return [op for _, op in microbatch_parts(workload)]


def microbatch_parts(workload: ModelWorkload) -> list[tuple[str, Operator]]:
    """`microbatch_ops` in order, each with the part of the step it belongs to.

    NOTE: the fused attention kernel (`pass_="forward_backward"`) and the vocabulary-
    parallel collectives of the output layer (counted forward and backward together) each
    carry both passes in one operator, whose time cannot be split by pass: they are the
    part `forward_and_backward`, not forced into either.
    """
    arch = _arch(workload)
    plan = workload.system
    dtype = workload.precision
    act = activation_dtype(dtype)
    tp, sp = plan.tensor_parallel, plan.sequence_parallel
    b, s = plan.micro_batch, workload.seq_len
    tokens = b * s
    layers = arch.layers // plan.pipeline_parallel
    ops: list[tuple[str, Operator]] = []
    if plan.pipeline_parallel == 1:
        ops.append(("forward", EmbeddingLookup(rows=arch.vocab // tp, dim=arch.hidden,
                                               lookups=tokens, dtype=dtype)))
    forward = block_forward_ops(arch, batch=b, seq_q=s, seq_kv=s, tp=tp, dtype=dtype,
                                sequence_parallel=sp, count=layers,
                                attention_pass="forward_backward", activation_dtype=act)
    ops.extend(("forward_and_backward" if isinstance(op, Attention) else "forward", op)
               for op in forward)
    if workload.recompute == "full":
        ops.extend(("recompute", op) for op in block_forward_ops(
            arch, batch=b, seq_q=s, seq_kv=s, tp=tp, dtype=dtype, sequence_parallel=sp,
            count=layers, activation_dtype=act))
    elif workload.recompute == "selective":
        # NOTE: selective recompute re-runs the core attention (Korthikanti et al. 2022).
        ops.append(("recompute", Attention(
            batch=b, heads=arch.heads // tp, seq_q=s, seq_kv=s, head_dim=arch.head_dim,
            kv_heads=max(arch.kv_heads // tp, 1), causal=arch.causal, dtype=act,
            count=layers)))
    # Logits, loss and their backward (last stage).
    vocab = arch.vocab // tp
    ops.append(("forward", MatMul(m=tokens, n=vocab, k=arch.hidden, dtype=dtype)))
    # the softmax, the loss and the loss's gradient in one streaming pass
    ops.append(("loss", Elementwise(bytes_read=tokens * vocab * 6.0,
                                    bytes_written=tokens * vocab * 6.0,
                                    flops=tokens * vocab * 8.0, dtype=act)))
    ops.append(("backward", MatMul(m=tokens, n=arch.hidden, k=vocab, dtype=dtype)))
    ops.append(("backward", MatMul(m=arch.hidden, n=vocab, k=tokens, dtype=dtype)))
    ops.extend(("backward", op) for op in block_backward_ops(
        arch, batch=b, seq=s, tp=tp, dtype=dtype, sequence_parallel=sp, count=layers,
        activation_dtype=act))
    if tp > 1:
        ops.extend(("forward_and_backward", op)
                   for op in tensor_parallel_collectives(arch, tokens, tp, act, sp, 2))
    if plan.pipeline_parallel > 1:
        # NOTE: activations go forward and their gradients back to the neighbouring stage:
        # a point-to-point copy, modelled as a two-party broadcast.
        size = tokens * arch.hidden * element_bytes(act) / (tp if sp else 1)
        ops.append(("pipeline_send_receive",
                    Collective("broadcast", size, 2, count=2 * plan.virtual_stages)))
    return ops


def zero3_overlapped_ops(workload: ModelWorkload) -> list[Operator]:
    """FSDP: gather each block's parameters for forward and backward, scatter gradients."""
    plan = workload.system
    if plan.zero_stage < 3 or plan.data_parallel == 1:
        return []
    full = params_per_chip(workload) * element_bytes(activation_dtype(workload.precision))
    gathers = 3 if workload.recompute == "full" else 2
    return [Collective("all_gather", full, plan.data_parallel, count=gathers),
            Collective("reduce_scatter", params_per_chip(workload) * 4.0 / 2.0,
                       plan.data_parallel)]


def gradient_sync_ops(workload: ModelWorkload) -> list[Operator]:
    """Once per step: reduce gradients over data parallel (and regather for ZeRO-1/2)."""
    plan = workload.system
    if plan.data_parallel == 1 or plan.zero_stage >= 3:
        return []
    params = params_per_chip(workload)
    grads = params * GRADIENT_BYTES_PER_PARAM
    if plan.zero_stage == 0:
        return [Collective("all_reduce", grads, plan.data_parallel)]
    return [Collective("reduce_scatter", grads, plan.data_parallel),
            Collective("all_gather", params * element_bytes(activation_dtype(workload.precision)),
                       plan.data_parallel)]


def optimizer_ops(workload: ModelWorkload) -> list[Operator]:
    """Adam over this chip's (possibly ZeRO-sharded) parameters."""
    plan = workload.system
    params = params_per_chip(workload)
    if plan.zero_stage >= 1:
        params /= plan.data_parallel
    e = element_bytes(activation_dtype(workload.precision))
    # Reads master weight, m, v (fp32) and the gradient; writes them back plus the
    # low-precision copy of the weight.
    return [Elementwise(bytes_read=params * (12.0 + GRADIENT_BYTES_PER_PARAM),
                        bytes_written=params * (12.0 + e), flops=params * 12.0,
                        dtype="fp32")]


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    arch = _arch(workload)
    plan = workload.system
    memory = training_memory(workload)
    m = micro_batches(workload)
    parts = microbatch_parts(workload)
    zero3 = tuple(zero3_overlapped_ops(workload))
    phases = [
        Phase("microbatch", tuple(op for _, op in parts), repeats=float(m),
              overlapped_ops=zero3,
              labels=(*(label for label, _ in parts), *(["zero3_parameter_sync"] * len(zero3)))),
        Phase("gradient_sync", tuple(gradient_sync_ops(workload)), repeats=0.0),
        Phase("optimizer", tuple(optimizer_ops(workload)), repeats=1.0),
    ]
    result = run_phases(designs, phases, resident_bytes=memory.persistent_bytes,
                        graph_captured=True)
    t_mb = result.phase_time_s["microbatch"]
    t_sync = result.phase_time_s["gradient_sync"]
    exposed_sync = np.maximum(t_sync - BACKWARD_SHARE_OF_MICROBATCH * t_mb, 0.0)
    bubble = (plan.pipeline_parallel - 1) / plan.virtual_stages * t_mb
    step = result.step_time_s() + exposed_sync + bubble
    sync_fraction = np.where(t_sync > 0, exposed_sync / np.maximum(t_sync, 1e-300), 0.0)
    energy = (result.step_energy_j() + result.phase_energy_j["gradient_sync"] * sync_fraction
              + result.idle_w * bubble)
    tokens = workload.global_batch * workload.seq_len
    model_flops = tokens * arch.model_flops_per_token_training(workload.seq_len)
    executed_per_chip = result.step_flops()
    out: list[WorkloadMetrics] = []
    for d, hw in enumerate(designs):
        reasons = list(precision_reasons(hw, workload.precision))
        reasons.extend(result.reasons[d])
        if memory.total_bytes > usable_memory_bytes(hw):
            reasons.append(memory_reason(memory.total_bytes, hw, "weights, gradients, "
                                         "optimizer state and activations"))
        peak = hw.compute.peak_flop_per_s.get(workload.precision, 0.0)
        values = {
            "step_time_s": step[d],
            "tokens_per_s": tokens / step[d],
            "tokens_per_s_per_chip": tokens / step[d] / plan.chips,
            "samples_per_s": workload.global_batch / step[d],
            "model_flops_utilization": model_flops / (step[d] * plan.chips * peak)
            if peak else 0.0,
            "hardware_flops_utilization": executed_per_chip / (step[d] * peak) if peak else 0.0,
            "model_tflops_per_chip": model_flops / plan.chips / step[d] / 1e12,
            "hardware_tflops_per_chip": executed_per_chip / step[d] / 1e12,
            "power_w": energy[d] / step[d],
            "energy_per_token_j": energy[d] * plan.chips / tokens,
            "energy_per_sample_j": energy[d] * plan.chips / workload.global_batch,
            "memory_per_chip_bytes": memory.total_bytes,
            "weights_bytes_per_chip": memory.weights_bytes,
            "gradients_bytes_per_chip": memory.gradients_bytes,
            "optimizer_bytes_per_chip": memory.optimizer_bytes,
            "activations_bytes_per_chip": memory.activations_bytes,
            "micro_batches": m,
            "pipeline_bubble_fraction": bubble[d] / step[d],
            "clock_fraction": result.clock_fraction[d],
        }
        metrics = finite_metrics(values)
        if reasons:
            out.append(infeasible(workload.name, NAME, reasons, metrics))
            continue
        by_bound = result.time_by_bound(d, {"pipeline_bubble": bubble[d]})
        sync_bounds = result.phase_bound_s["gradient_sync"][d] * sync_fraction[d]
        for b, bound in enumerate(BOUND_NAMES):
            by_bound[bound] += float(sync_bounds[b])
        by_phase, by_class = result.breakdown(
            d, {"pipeline_bubble": float(bubble[d])} if bubble[d] else {},
            {**result.repeats, "gradient_sync": float(sync_fraction[d])})
        out.append(WorkloadMetrics(workload.name, NAME, True, (), metrics, by_bound,
                                   by_phase, by_class))
    return out
