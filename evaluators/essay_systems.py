"""The figures of docs/essay-systems.md, computed from the evaluators.

`BLOCKS` turn one batched evaluation of the essay's systems (`compute`) into the doc's
tables; `python scripts/regen_docs.py` writes them into its marked regions and
tests/test_docs.py fails when they differ from what the model gives now, so the doc
cannot drift from the code. The numbers are those of `dse evaluate --hardware NAME
--suite default --json` (`relative_throughput`, `score`, `power_w`, each workload's
metrics and time by bound).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from dse.config import load_hardware
from dse.hardware import Hardware
from evaluators.api import SuiteResult, WorkloadMetrics
from evaluators.evaluation import evaluate_workloads
from evaluators.suites import evaluate_suite, load_suite, reference_throughputs
from evaluators.workload_files import ModelWorkload, parse_model_workloads

SUITE = "default"
# The essay's systems and the other chips it names, as the table's columns.
SYSTEMS: tuple[tuple[str, str], ...] = (
    ("cerebras-wse-2", "WSE-2"), ("graphcore-gc200", "GC200"), ("sambanova-sn10", "SN10"),
    ("nvidia-a100-80gb", "A100"), ("google-tpu-v4", "TPU v4"), ("tesla-dojo-d1", "Dojo D1"),
    ("cpu-less-dlpu", "CPU-less DLPU"), ("intel-xeon-amx", "Xeon AMX"))
# Chips the essay does not discuss, for scale: their scores in a table of their own.
OTHERS: tuple[tuple[str, str], ...] = (
    ("nvidia-h100-sxm", "H100 SXM"), ("intel-gaudi2", "Gaudi2"), ("amd-mi300x", "MI300X"))
SRAM_DDR = ("graphcore-gc200", "sambanova-sn10", "tesla-dojo-d1", "cerebras-wse-2")
LABELS = {
    "gpt3-175b-pretrain": "GPT-3 175B pre-train (1,024 chips)",
    "llama2-7b-fsdp-pretrain": "Llama-2 7B FSDP pre-train",
    "bert-large-pretrain": "BERT-Large pre-train",
    "resnet50-train-8": "ResNet-50 train (8 chips)",
    "dlrm-train-8": "DLRM train (8 chips)",
    "llama2-70b-serving": "Llama-2 70B serving (TP8, auto batch)",
    "llama3-8b-serving": "Llama-3 8B serving (auto batch)",
    "llama3-8b-single-stream": "Llama-3 8B single stream",
    "bert-large-inference": "BERT-Large inference (batch 256)",
    "resnet50-train": "ResNet-50 train (1 chip)",
    "resnet50-inference": "ResNet-50 inference (batch 256)",
    "retinanet-detection": "RetinaNet + host NMS",
    "mixed-resnet50-pipeline": "mixed ResNet-50 pipeline",
    "mixed-dlrm-pipeline": "mixed DLRM pipeline",
}
UNITS = {"samples_per_s_per_chip": "samples/s", "tokens_per_s_per_chip": "tokens/s",
         "output_tokens_per_s_per_chip": "output tokens/s"}
# Published figures the text compares with (sources in docs/essay-systems.md).
GC200_MLPERF_PER_CHIP_VS_A100 = 29.1 / 28.3 * 8 / 16  # MLPerf Training v1.1 ResNet-50
CEREBRAS_LLAMA_8B_TOKENS_PER_S_PER_USER = 1800.0  # published_results.csv M112 (WSE-3)
DLPU_CONTROL_SPEEDUP = 10.30  # Du et al., IEEE TC 2022, against a V100 behind PCIe


@dataclass(frozen=True)
class Figures:
    """Every design's suite result, and the names of the suite's workloads in order."""

    designs: tuple[Hardware, ...]
    results: tuple[SuiteResult, ...]
    workloads: tuple[str, ...]
    metrics: tuple[str, ...]
    references: tuple[float, ...]

    def suite(self, design: str) -> SuiteResult:
        return self.results[[hw.name for hw in self.designs].index(design)]

    def result(self, design: str, workload: str) -> WorkloadMetrics:
        return self.suite(design).workloads[self.workloads.index(workload)]

    def relative(self, design: str, workload: str) -> float:
        w = self.workloads.index(workload)
        r = self.result(design, workload)
        return r.metrics.get(self.metrics[w], 0.0) / self.references[w] if r.feasible else 0.0


@lru_cache(maxsize=1)
def compute() -> Figures:
    designs = tuple(load_hardware(name) for name, _ in SYSTEMS + OTHERS)
    spec = load_suite(SUITE)
    return Figures(designs, tuple(evaluate_suite(designs, SUITE)),
                   tuple(e.workload.name for e in spec.entries),
                   tuple(e.throughput_metric for e in spec.entries),
                   reference_throughputs(SUITE))


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def _sig(value: float) -> str:
    """Three significant figures, thousands separated: 26,000 / 3,650 / 0.533."""
    if value == 0:
        return "0"
    text = f"{value:.3g}"
    number = float(text)
    return f"{number:,.0f}" if number >= 100 else text


def scores_table(f: Figures) -> str:
    head = "| workload | " + " | ".join(label for _, label in SYSTEMS) + " |"
    rows = [head, "|---" * (len(SYSTEMS) + 1) + "|",
            "| **default score** | " + " | ".join(
                f"**{_score(f.suite(name).score)}**" for name, _ in SYSTEMS) + " |"]
    for workload in f.workloads:
        rows.append(f"| {LABELS.get(workload, workload)} | " + " | ".join(
            _num(f.relative(name, workload)) for name, _ in SYSTEMS) + " |")
    rows.append("| average power per chip, W | " + " | ".join(
        _num(f.suite(name).power_w, 0) for name, _ in SYSTEMS) + " |")
    return "\n".join(rows)


def _score(score: float) -> str:
    return _num(score, 3 if score < 0.2 else 2)


def others_table(f: Figures) -> str:
    """Newer chips the essay does not discuss, on a few of the same workloads."""
    columns = ("gpt3-175b-pretrain", "llama3-8b-single-stream", "resnet50-inference",
               "retinanet-detection", "mixed-resnet50-pipeline")
    rows = ["| preset | default score | " + " | ".join(LABELS[c] for c in columns)
            + " | power W |", "|---" * (len(columns) + 3) + "|"]
    for name, label in OTHERS:
        rows.append(f"| {label} | {_score(f.suite(name).score)} | " + " | ".join(
            _num(f.relative(name, c)) for c in columns)
            + f" | {_num(f.suite(name).power_w, 0)} |")
    return "\n".join(rows)


def reference_table(f: Figures) -> str:
    rows = ["| workload | A100 80GB per chip |", "|---|---|"]
    for workload, metric, value in zip(f.workloads, f.metrics, f.references, strict=True):
        rows.append(f"| {LABELS.get(workload, workload)} | {_sig(value)} "
                    f"{UNITS.get(metric, metric)} |")
    return "\n".join(rows)


def micro_batch_table(f: Figures) -> str:
    rows = ["| design (SRAM) | ResNet-50 train (256/chip) | ResNet-50 inference (256) "
            "| BERT-Large inference (256 × 384) |", "|---|---|---|---|"]
    for name in SRAM_DDR:
        hw = f.designs[[d.name for d in f.designs].index(name)]
        cells = []
        for workload in ("resnet50-train", "resnet50-inference", "bert-large-inference"):
            r = f.result(name, workload)
            cells.append(f"{r.metrics['micro_batch']:.0f}" if r.feasible else "infeasible")
        rows.append(f"| {name} ({hw.sram.capacity_bytes / 2**20:,.0f} MiB) | "
                    + " | ".join(cells) + " |")
    return "\n".join(rows)


def _share(r: WorkloadMetrics, bound: str) -> str:
    return f"{r.time_by_bound_s.get(bound, 0.0) / r.metrics['step_time_s']:.0%}"


def serving_table(f: Figures) -> str:
    """Llama-3 8B serving on the wafer against the A100, and at the largest bucket that
    fits the wafer's memory (the choice before `batch: auto` took the fastest)."""
    entry = next(e for e in load_suite(SUITE).entries if e.workload.name == "llama3-8b-serving")
    wse = f.designs[[d.name for d in f.designs].index("cerebras-wse-2")]
    chosen = f.result("cerebras-wse-2", "llama3-8b-serving")
    largest = evaluate_workloads([wse], replace(entry.workload, batch=1024))[0]
    rows = ["| Llama-3 8B, 2,048 + 256 tokens | batch | output tokens/s per chip "
            "| time to first token | time per output token | memory per chip |",
            "|---|---|---|---|---|---|"]
    for label, r in (("A100 80GB (auto)", f.result("nvidia-a100-80gb", "llama3-8b-serving")),
                     ("WSE-2 (auto: the fastest bucket)", chosen),
                     ("WSE-2 at batch 1,024 (the largest that fits)", largest)):
        m = r.metrics
        rows.append(f"| {label} | {m['batch']:,.0f} | {_sig(m['output_tokens_per_s_per_chip'])} "
                    f"| {_sig(m['time_to_first_token_s'])} s "
                    f"| {_sig(m['time_per_output_token_s'] * 1e3)} ms "
                    f"| {m['memory_per_chip_bytes'] / 1e9:.1f} GB |")
    return "\n".join(rows)


def dlpu_with_host_control() -> tuple[Hardware, Hardware]:
    """The CPU-less DLPU, and the same chip with an A100's host-side scalar control (the
    essay's comparison: the chip's own control against a host driving it)."""
    dlpu = load_hardware("cpu-less-dlpu")
    a100 = load_hardware("nvidia-a100-80gb")
    hosted = dlpu.with_changes(host=replace(
        dlpu.host, device_scalar_control=False, sync_roundtrip_s=a100.host.sync_roundtrip_s,
        kernel_launch_s=a100.host.kernel_launch_s, link_latency_s=a100.host.link_latency_s))
    return dlpu, hosted


def retinanet_with_nms(source: str) -> ModelWorkload:
    """RetinaNet at batch 1 with 100 NMS iterations on the host side (or the chip's own)."""
    (detection,) = parse_model_workloads([{
        "name": "retinanet", "kind": "inference", "model": "retinanet-resnet50",
        "batch": 1, "postprocess": {"nms_iterations": 100}}], source)
    return detection


def _dlpu_nms() -> tuple[float, float]:
    """NMS time per image (100 read-backs) on the DLPU and on the same chip with a host."""
    own, other = evaluate_workloads(list(dlpu_with_host_control()), retinanet_with_nms("<essay>"))
    return own.metrics["postprocess_time_s"], other.metrics["postprocess_time_s"]


def checks_table(f: Figures) -> str:
    """The model against the published figures the doc cites."""
    gc = f.relative("graphcore-gc200", "resnet50-train-8")
    single = f.result("cerebras-wse-2", "llama3-8b-single-stream").metrics
    served = f.result("cerebras-wse-2", "llama3-8b-serving").metrics
    own, hosted = _dlpu_nms()
    per_user = CEREBRAS_LLAMA_8B_TOKENS_PER_S_PER_USER
    rows = ["| check | model | published | model / published |", "|---|---|---|---|",
            f"| GC200 ResNet-50 training per chip, × A100 (8 chips) | {gc:.2f} "
            f"| {GC200_MLPERF_PER_CHIP_VS_A100:.2f} | {gc / GC200_MLPERF_PER_CHIP_VS_A100:.2f} |",
            f"| WSE-2 Llama-3 8B single stream, tokens/s (published: WSE-3 per user) "
            f"| {_sig(single['output_tokens_per_s_per_chip'])} | {per_user:,.0f} "
            f"| {single['output_tokens_per_s_per_chip'] / per_user:.2f} |",
            f"| WSE-2 Llama-3 8B served, decode tokens/s per user "
            f"(batch {served['batch']:.0f}) | {_sig(1 / served['time_per_output_token_s'])} "
            f"| {per_user:,.0f} | {1 / served['time_per_output_token_s'] / per_user:.2f} |",
            f"| DLPU control-heavy speed-up (NMS, 100 read-backs: {own * 1e3:.2f} ms "
            f"against {hosted * 1e3:.2f} ms with a PCIe host) | {hosted / own:.1f}× "
            f"| {DLPU_CONTROL_SPEEDUP:.2f}× | {hosted / own / DLPU_CONTROL_SPEEDUP:.2f} |"]
    return "\n".join(rows)


def details_table(f: Figures) -> str:
    """Figures the text explains: where the time goes."""
    gc = f.result("graphcore-gc200", "resnet50-train-8")
    wse_gpt = f.result("cerebras-wse-2", "gpt3-175b-pretrain")
    wse_resnet = f.result("cerebras-wse-2", "resnet50-train")
    sn10 = f.result("sambanova-sn10", "resnet50-train")
    dojo = f.result("tesla-dojo-d1", "resnet50-train")
    nms = ", ".join(
        f"{label} {f.result(name, 'retinanet-detection').metrics['postprocess_time_s'] * 1e3:.2f}"
        for name, label in SYSTEMS)
    rows = ["| figure | value |", "|---|---|",
            f"| GC200 ResNet-50 training (8 chips): step, exchange (sram) / compute / DDR share "
            f"| {gc.metrics['step_time_s'] * 1e3:.0f} ms: {_share(gc, 'sram')} / "
            f"{_share(gc, 'compute')} / {_share(gc, 'ddr')}, "
            f"{gc.metrics['samples_per_s_per_chip']:,.0f} images/s per chip |",
            f"| WSE-2 ResNet-50 training: images/s per wafer, compute share "
            f"| {wse_resnet.metrics['samples_per_s_per_chip']:,.0f}, "
            f"{_share(wse_resnet, 'compute')} |",
            f"| WSE-2 GPT-3 175B step, MemoryX (DDR) share | "
            f"{wse_gpt.metrics['step_time_s']:.1f} s, {_share(wse_gpt, 'ddr')} |",
            f"| SN10 ResNet-50 training: micro-batch, step, DDR share | "
            f"{sn10.metrics['micro_batch']:.0f}, {sn10.metrics['step_time_s']:.2f} s, "
            f"{_share(sn10, 'ddr')} |",
            f"| Dojo D1 ResNet-50 training: micro-batch, DDR share | "
            f"{dojo.metrics['micro_batch']:.0f}, {_share(dojo, 'ddr')} |",
            f"| host-side NMS per image, ms (RetinaNet entry) | {nms} |"]
    return "\n".join(rows)


BLOCKS = {"scores": scores_table, "others": others_table, "reference": reference_table,
          "micro-batches": micro_batch_table, "serving": serving_table, "checks": checks_table,
          "details": details_table}
