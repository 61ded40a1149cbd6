"""Transformer inference: prefill and decode with a KV cache, tensor/pipeline parallel.

Decoders (`model.causal`) serve `batch` requests of `prompt_tokens` in and
`output_tokens` out: one prefill over the prompts, then `output_tokens` decode steps, each
attending to the KV cache (on average `prompt + output/2` positions long). Encoders (BERT)
run one forward over `seq_len` tokens per sample. `batch: auto` serves the batch with the
highest throughput among those whose weights + KV cache fit the design's memory. Weights
and the KV cache are resident: the core places them in SRAM, HBM or DDR according to the
design.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dse.hardware import Hardware
from dse.workload import Elementwise, EmbeddingLookup, MatMul, Operator
from evaluators._common import (
    USABLE_MEMORY_FRACTION,
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
    block_forward_ops,
    kv_cache_bytes_per_token,
)
from evaluators.api import WorkloadMetrics
from evaluators.models import TransformerArchitecture
from evaluators.serving import serving_overhead
from evaluators.workload_files import ModelWorkload

NAME = "transformer_inference"

# NOTE: serving engines cap the running batch (TensorRT-LLM `max_batch_size` default 2048,
# vLLM `max_num_seqs` 256-1024); beyond a few hundred sequences decode is compute-bound
# and larger batches only add latency. `auto` never exceeds this.
MAX_AUTO_BATCH = 1024


@dataclass(frozen=True, slots=True)
class InferenceMemory:
    weights_bytes: float
    kv_cache_bytes: float
    workspace_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.workspace_bytes


def _arch(workload: ModelWorkload) -> TransformerArchitecture:
    if not isinstance(workload.model, TransformerArchitecture):
        raise TypeError(f"{NAME} needs a transformer model, got {workload.model_name}")
    return workload.model


def _context(workload: ModelWorkload) -> int:
    arch = _arch(workload)
    return workload.prompt_tokens + workload.output_tokens if arch.causal else workload.seq_len


def weights_bytes_per_chip(workload: ModelWorkload) -> float:
    arch = _arch(workload)
    plan = workload.system
    blocks = arch.layers // plan.pipeline_parallel * arch.params_per_layer
    return (blocks + arch.embedding_params) / plan.tensor_parallel * element_bytes(
        workload.precision)


def kv_bytes_per_sequence(workload: ModelWorkload) -> float:
    """KV-cache bytes one sequence needs on one chip at full context."""
    arch = _arch(workload)
    if not arch.causal:
        return 0.0
    plan = workload.system
    return (kv_cache_bytes_per_token(arch, plan.tensor_parallel,
                                     element_bytes(workload.precision))
            / plan.pipeline_parallel * _context(workload))


def workspace_bytes_per_sequence(workload: ModelWorkload) -> float:
    """Transient activations of one block during prefill (largest moment), per sequence."""
    arch = _arch(workload)
    plan = workload.system
    tokens = workload.prompt_tokens if arch.causal else workload.seq_len
    return tokens * activation_bytes_per_token_layer(
        arch, plan.tensor_parallel, False, "none", element_bytes(workload.precision))


def inference_memory(workload: ModelWorkload, batch: int, micro_batch: int | None = None
                     ) -> InferenceMemory:
    """Weights, the batch's KV cache, and the workspace of one prefill micro-batch."""
    micro = batch if micro_batch is None else min(micro_batch, batch)
    return InferenceMemory(weights_bytes_per_chip(workload),
                           batch * kv_bytes_per_sequence(workload),
                           micro * workspace_bytes_per_sequence(workload))


def sram_micro_batch(hw: Hardware, workload: ModelWorkload, batch: int) -> int:
    """Sequences per prefill (or encoder forward) micro-batch on `hw`.

    NOTE: on the SRAM + DDR route (a scratchpad and no HBM), software keeps the weights
    on chip when they fit and splits the batch so that one block's activations for a
    micro-batch fit the SRAM left beside the weights and the KV cache, instead of
    streaming feature maps through DDR (Graphcore's batch serialisation, as for CNNs in
    `evaluators.cnn.micro_batch_options`). Where the weights do not fit on chip each
    micro-batch would stream them from DDR again, so the whole batch runs at once; decode
    steps are not split (one token per sequence: their activations are tiny).
    """
    if hw.sram.management != "scratchpad" or hw.hbm is not None or batch <= 1:
        return batch
    usable = USABLE_MEMORY_FRACTION * hw.sram.capacity_bytes
    resident = weights_bytes_per_chip(workload) + batch * kv_bytes_per_sequence(workload)
    if resident >= usable:
        return batch
    fits = int((usable - resident) // workspace_bytes_per_sequence(workload))
    if fits >= batch:
        return batch
    return min(batch, 1 << (max(fits, 1).bit_length() - 1))


def _bucket(batch: int) -> int:
    """Round down to 1, 2, 3, 4, 6, 8, 12, 16, 24, ...

    NOTE: `auto` batches are bucketed so that a search over thousands of designs makes one
    core call per bucket (about 20), not one per design; at most 25 % below the exact fit.
    """
    if batch < 4:
        return max(batch, 0)
    power = 1 << (batch.bit_length() - 1)
    return power + power // 2 if batch >= power + power // 2 else power


def auto_batch(hw: Hardware, workload: ModelWorkload) -> int:
    """The largest (bucketed) batch whose weights, KV cache and workspace fit; 0 if none."""
    per_sequence = kv_bytes_per_sequence(workload) + workspace_bytes_per_sequence(workload)
    room = usable_memory_bytes(hw) - weights_bytes_per_chip(workload)
    if room < per_sequence:
        return 0
    return _bucket(min(int(room // per_sequence), MAX_AUTO_BATCH))


def _logits_ops(arch: TransformerArchitecture, rows: int, tp: int, dtype: str) -> list[Operator]:
    vocab = arch.vocab // tp
    return [MatMul(m=rows, n=vocab, k=arch.hidden, dtype=dtype),
            Elementwise(bytes_read=rows * vocab * 2.0, bytes_written=rows * 8.0,
                        flops=rows * vocab * 4.0, dtype=dtype)]


def phases_for_batch(workload: ModelWorkload, batch: int, micro_batch: int | None = None
                     ) -> list[Phase]:
    """Prefill (or the encoder forward) in micro-batches of `micro_batch` sequences (default
    the whole batch), then the decode steps of the whole batch."""
    arch = _arch(workload)
    plan = workload.system
    tp, dtype = plan.tensor_parallel, workload.precision
    layers = arch.layers // plan.pipeline_parallel
    micro = batch if micro_batch is None else min(micro_batch, batch)
    if not arch.causal:
        ops: list[Operator] = [EmbeddingLookup(rows=arch.vocab, dim=arch.hidden,
                                               lookups=micro * workload.seq_len, dtype=dtype)]
        ops += block_forward_ops(arch, batch=micro, seq_q=workload.seq_len,
                                 seq_kv=workload.seq_len, tp=tp, dtype=dtype,
                                 sequence_parallel=False, count=layers)
        return [Phase("forward", tuple(ops), repeats=batch / micro)]
    prompt, output = workload.prompt_tokens, workload.output_tokens
    prefill: list[Operator] = [EmbeddingLookup(rows=arch.vocab, dim=arch.hidden,
                                               lookups=micro * prompt, dtype=dtype)]
    prefill += block_forward_ops(arch, batch=micro, seq_q=prompt, seq_kv=prompt, tp=tp,
                                 dtype=dtype, sequence_parallel=False, count=layers)
    prefill += _logits_ops(arch, micro, tp, dtype)  # the first output token
    # NOTE: decode steps attend to a cache growing from `prompt` to `prompt + output`;
    # attention cost is linear in its length, so the mean length gives the exact total.
    mean_context = prompt + max(output - 1, 0) // 2 + 1
    decode: list[Operator] = [EmbeddingLookup(rows=arch.vocab, dim=arch.hidden, lookups=batch,
                                              dtype=dtype)]
    decode += block_forward_ops(arch, batch=batch, seq_q=1, seq_kv=mean_context, tp=tp,
                                dtype=dtype, sequence_parallel=False, count=layers)
    decode += _logits_ops(arch, batch, tp, dtype)
    return [Phase("prefill", tuple(prefill), repeats=batch / micro),
            Phase("decode", tuple(decode), repeats=float(max(output - 1, 0)))]


def gemm_flop(ops: Sequence[Operator]) -> float:
    """FLOPs of the matrix multiplications among `ops` (all their repeats)."""
    return float(sum(2.0 * op.m * op.n * op.k * op.batch * op.count
                     for op in ops if isinstance(op, MatMul)))


def _metrics_for(workload: ModelWorkload, designs: Sequence[Hardware], batch: int,
                 micro: int) -> list[WorkloadMetrics]:
    arch = _arch(workload)
    plan = workload.system
    memory = inference_memory(workload, batch, micro)
    phases = phases_for_batch(workload, batch, micro)
    result = run_phases(designs, phases,
                        resident_bytes=memory.weights_bytes + memory.kv_cache_bytes,
                        graph_captured=True)
    replicas = plan.data_parallel
    stages = plan.pipeline_parallel
    # NOTE: pipeline stages run one after another for a single batch (no micro-batch
    # interleaving across stages): latency is stages x stage time, and each chip idles
    # while the other stages work. Serving engines that interleave batches do better.
    # NOTE: the serving framework's per-step overhead (evaluators/serving.py) is paid once
    # per generation step -- the prefill and each decode step -- with the batch of one
    # replica as its sequences; `ideal` pays nothing. It is charged at the decode step's
    # average power, not idle power: LLM-Inference-Bench's board power under vLLM (rows
    # M106-M108) comes out 14-31 % low if the chip idles through it and 4-9 % high at
    # decode power, so much of it is the framework's own small device work (sampling over
    # the vocabulary, input copies, uncaptured kernels) serialised with its host work.
    # NOTE: a framework's slow decode GEMMs (`decode_gemm_peak_fraction`, vLLM on ROCm in
    # 2024) are charged per decode step on top of the ideal step, as they were fitted;
    # like the per-layer costs they add up over pipeline stages, which run in turn.
    steps = workload.output_tokens if arch.causal else 1
    overhead = serving_overhead(workload.serving_software)
    host_step_s = overhead.host_s_per_step(batch, arch.layers)
    decode_steps = max(steps - 1, 0) if arch.causal else 0
    decode_gemm_flop = sum(gemm_flop(p.ops) for p in phases if p.name == "decode")
    gemm_step_s = stages * overhead.decode_gemm_s(decode_gemm_flop, np.array(
        [hw.compute.peak_flop_per_s.get(workload.precision, 0.0) for hw in designs]))
    host_s = host_step_s * steps
    gemm_s = gemm_step_s * decode_steps
    request_s = result.step_time_s() * stages + host_s + gemm_s
    busy_phase = "decode" if "decode" in result.phase_time_s else "forward"
    busy_w = (result.phase_energy_j[busy_phase]
              / np.maximum(result.phase_time_s[busy_phase], 1e-300))
    energy = (result.step_energy_j() + result.idle_w * result.step_time_s() * (stages - 1)
              + busy_w * (host_s + gemm_s))
    out: list[WorkloadMetrics] = []
    for d, hw in enumerate(designs):
        reasons = list(precision_reasons(hw, workload.precision)) + list(result.reasons[d])
        if memory.total_bytes > usable_memory_bytes(hw):
            reasons.append(memory_reason(memory.total_bytes, hw, f"batch {batch}: weights, "
                                         "KV cache and activations"))
        values: dict[str, float] = {"batch": float(batch), "micro_batch": float(micro),
                                    "memory_per_chip_bytes": memory.total_bytes,
                                    "weights_bytes_per_chip": memory.weights_bytes,
                                    "kv_cache_bytes_per_chip": memory.kv_cache_bytes,
                                    "request_latency_s": request_s[d],
                                    "serving_host_s_per_step": host_step_s,
                                    "clock_fraction": result.clock_fraction[d]}
        if arch.causal:
            ttft = (result.phase_time_s["prefill"][d] * result.repeats["prefill"] * stages
                    + host_step_s)
            tpot = result.phase_time_s["decode"][d] * stages + host_step_s + gemm_step_s[d]
            generated = batch * workload.output_tokens * replicas
            values.update({
                "time_to_first_token_s": ttft,
                "time_per_output_token_s": tpot,
                "output_tokens_per_s": generated / request_s[d],
                "output_tokens_per_s_per_chip": generated / request_s[d] / plan.chips,
                "tokens_per_s": batch * (workload.prompt_tokens + workload.output_tokens)
                * replicas / request_s[d],
                "energy_per_output_token_j": energy[d] * plan.chips / generated,
            })
        else:
            samples = batch * replicas
            values.update({"samples_per_s": samples / request_s[d],
                           "samples_per_s_per_chip": samples / request_s[d] / plan.chips,
                           "energy_per_sample_j": energy[d] * plan.chips / samples})
        values["power_w"] = energy[d] / request_s[d]
        metrics = finite_metrics(values)
        if reasons:
            out.append(infeasible(workload.name, NAME, reasons, metrics))
            continue
        # NOTE: every pipeline stage runs the same share of the model in turn, so the
        # request spends `stages` times each phase's (and operator class's) stage time.
        extra = {"serving_framework_host": host_s} if host_s else {}
        if gemm_s[d]:
            extra["serving_framework_decode_gemm"] = float(gemm_s[d])
        # (Until the bounds were scaled too, a 2-stage plan's bounds added up to 73 % of
        # its request latency: one stage's time.)
        per_request = {name: r * stages for name, r in result.repeats.items()}
        by_phase, by_class = result.breakdown(d, extra, per_request)
        out.append(WorkloadMetrics(workload.name, NAME, True, (), metrics,
                                   result.time_by_bound(d, {"host": host_s,
                                                            "compute": gemm_s[d]},
                                                        per_request),
                                   by_phase, by_class))
    return out


def batch_candidates(largest: int) -> list[int]:
    """Every bucket (1, 2, 3, 4, 6, 8, 12, ...) up to `largest`, largest first."""
    out = [b for b in (1, 2, 3) if b <= largest]
    power = 4
    while power <= largest:
        out += [b for b in (power, power + power // 2) if b <= largest]
        power *= 2
    return out[::-1]


def throughput_metric(workload: ModelWorkload) -> str:
    return "output_tokens_per_s_per_chip" if _arch(workload).causal else "samples_per_s_per_chip"


def evaluate(designs: Sequence[Hardware], workload: ModelWorkload) -> list[WorkloadMetrics]:
    """One core call per batch size tried and micro-batch (one in all for a fixed batch).

    NOTE: `batch: auto` serves, among the buckets whose weights, KV cache and workspace
    fit, the one with the highest throughput per chip (the largest on a tie). Taking the
    largest that fits let more memory lower throughput: a bigger batch can push the KV
    cache out of SRAM or make a step compute-bound (issue 11: 2x HBM on an A100-like
    design served Llama 2 70B 0.6 % slower per chip). A design with more memory has every
    batch a smaller one had, so it never serves less. To keep this cheap, the largest
    bucket and batch 1 are served first; a request of b sequences takes no less time
    than one of a single sequence, so b can beat the best so far only if b times the
    throughput at batch 1 does, and only those buckets are tried.
    """
    if workload.batch is not None:
        largest = [workload.batch] * len(designs)
    else:
        largest = [auto_batch(hw, workload) for hw in designs]
    results: list[WorkloadMetrics | None] = [None] * len(designs)
    metric = throughput_metric(workload)

    def serve(groups: dict[int, list[int]]) -> dict[tuple[int, int], WorkloadMetrics]:
        """Serve each group's designs at its batch; keep the best per design."""
        served: dict[tuple[int, int], WorkloadMetrics] = {}
        for batch in sorted(groups, reverse=True):
            indices = groups[batch]
            micros = [sram_micro_batch(designs[i], workload, batch) for i in indices]
            for micro in sorted(set(micros)):
                chosen = [i for i, m in zip(indices, micros, strict=True) if m == micro]
                for index, metrics in zip(chosen, _metrics_for(
                        workload, [designs[i] for i in chosen], batch, micro), strict=True):
                    served[(index, batch)] = metrics
                    best = results[index]
                    if best is None or (metrics.feasible and (
                            not best.feasible or metrics.metrics[metric]
                            > best.metrics[metric])):
                        results[index] = metrics
        return served

    first: dict[int, list[int]] = defaultdict(list)
    for index, batch in enumerate(largest):
        if batch <= 0:
            need = weights_bytes_per_chip(workload) + kv_bytes_per_sequence(
                workload) + workspace_bytes_per_sequence(workload)
            results[index] = infeasible(workload.name, NAME, [memory_reason(
                need, designs[index], "the weights and one sequence's KV cache")],
                {"batch": 0.0, "memory_per_chip_bytes": need})
            continue
        first[batch].append(index)
        if workload.batch is None and batch > 1:
            first[1].append(index)
    served = serve(first)
    if workload.batch is None:
        rest: dict[int, list[int]] = defaultdict(list)
        for index, batch in enumerate(largest):
            single, best = served.get((index, 1)), results[index]
            if single is None or best is None or not (single.feasible and best.feasible):
                continue
            for candidate in batch_candidates(batch)[1:-1]:
                if candidate * single.metrics[metric] > best.metrics[metric]:
                    rest[candidate].append(index)
        serve(rest)
    return [r for r in results if r is not None]
