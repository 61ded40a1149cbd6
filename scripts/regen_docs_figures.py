"""The figures scripts/regen_docs.py writes into docs/economics.md, docs/cost-model.md and
docs/evaluators.md: the cost core's economics on the doc's examples, and what
`dse validate kernels|published|end-to-end --json` print now. Each runs in seconds.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def economics_cost_split() -> str:
    """docs/economics.md: the four cost figures a search records, for the H100 preset."""
    from dse.config import load_hardware
    from dse.core.economics import chip_economics

    e = chip_economics(load_hardware("nvidia-h100-sxm"))
    manufacturing = e.die_cost_usd + e.memory_cost_usd + e.packaging_cost_usd
    per_unit = e.nre_usd / e.volume
    if abs(manufacturing + per_unit - e.unit_cost_usd) > 1e-6 * e.unit_cost_usd:
        raise SystemExit("regen_docs: unit cost is no longer manufacturing + NRE / volume")
    rows = [
        ("manufacturing_cost_usd", "making one chip: good dies + memory + packaging and "
         "test; no NRE", f"${manufacturing:,.0f}"),
        ("nre_usd", "design cost (NRE) of the process node, normalised as above",
         f"${e.nre_usd / 1e6:,.1f}M"),
        ("volume_units", "chips the NRE is spread over: the space's `economics: "
         "{volume_units: …}`, else `tco.default_volume` (10,000)", f"{e.volume:,.0f}"),
        ("nre_per_unit_usd", "`nre_usd / volume_units`", f"${per_unit:,.0f}"),
        ("unit_cost_usd", "`manufacturing_cost_usd + nre_per_unit_usd`: what one chip "
         "costs at that volume", f"${e.unit_cost_usd:,.0f}"),
    ]
    lines = ["| name | includes | H100 SXM at the default volume |", "|---|---|---|"]
    lines += [f"| `{name}` | {text} | {value} |" for name, text, value in rows]
    lines += ["", f"At the default volume NRE is {per_unit / e.unit_cost_usd:.0%} of the "
              "H100's unit cost."]
    return "\n".join(lines) + "\n"


def _h100_report():  # type: ignore[no-untyped-def]
    """`dse economics --hardware nvidia-h100-sxm` with every default (versus the essay's A100)."""
    from dse.cli.economics import _resolve_versus
    from dse.config import load_hardware
    from dse.core.economics import default_economics_parameters, design_economics_report

    params = default_economics_parameters()
    return design_economics_report(load_hardware("nvidia-h100-sxm"),
                                   _resolve_versus(None, None, params), params=params), params


def economics_worked_figures() -> str:
    """docs/economics.md: what the die, yield and cost rules give on the doc's examples."""
    import math

    from dse.config import load_hardware
    from dse.core.economics import (
        chip_economics,
        default_economics_parameters,
        dies_per_wafer,
        yield_fraction,
    )

    params = default_economics_parameters()
    mm2 = 1e-6
    n7 = params.node(7)
    big, small = 826 * mm2, 100 * mm2
    dies_big, dies_small = (float(dies_per_wafer(a, params)[0]) for a in (big, small))
    mean = big * n7.defect_density_per_m2
    alphas = {a: float(yield_fraction(big, n7.defect_density_per_m2, 0, a)[0])
              for a in (1.0, 2.0, params.cluster_alpha, 10.0)}
    poisson, murphy = math.exp(-mean), ((1 - math.exp(-mean)) / mean) ** 2
    y = alphas[params.cluster_alpha]
    sensitivity = ", ".join(f"{'**' if a == params.cluster_alpha else ''}{a:g}: {v:.1%}"
                            f"{'**' if a == params.cluster_alpha else ''}"
                            for a, v in alphas.items())
    wse = 46_225 * mm2
    spares = 850_000 // 100
    wse_mean = wse * n7.defect_density_per_m2
    h100_hardware = load_hardware("nvidia-h100-sxm")
    assert h100_hardware.hbm is not None
    h100 = chip_economics(h100_hardware)
    hbm_usd_per_gb = params.hbm_price_usd_per_byte * 1e9
    nre = ", ".join(  # $53.5M, $150M: three figures
        f"{node.name} ${node.design_cost_usd / 1e6:,.{1 if node.design_cost_usd < 1e8 else 0}f}M"
        for node in reversed(params.nodes))
    lines = [
        f"- Dies per wafer: {big / mm2:,.0f} mm² → {dies_big:.0f} dies; {small / mm2:,.0f} mm² → "
        f"{dies_small:.0f} of the {params.usable_wafer_area_m2 / small:,.0f} that the "
        "area alone would give.",
        f"- Yield at {big / mm2:,.0f} mm², 7 nm (A·D0 = {mean:.3f}), by cluster parameter α: "
        f"{sensitivity}, Poisson: {poisson:.1%}, Murphy: {murphy:.1%}.",
        f"- Good die at {big / mm2:,.0f} mm², 7 nm: ${n7.wafer_price_usd:,.0f} ÷ ({dies_big:.0f} "
        f"dies × {y:.2%} yield) → **${n7.wafer_price_usd / (dies_big * y):,.2f}**.",
        f"- WSE-2 ({wse / mm2:,.0f} mm², 7 nm, 850,000 cores → {spares:,} spares, "
        f"~{wse_mean:.0f} expected defects): yield "
        f"{float(yield_fraction(wse, n7.defect_density_per_m2, spares)[0]):.1%}; the naive "
        f"`exp(−A·D0)` gives {math.exp(-wse_mean):.1e} and a wafer with no spares "
        f"{float(yield_fraction(wse, n7.defect_density_per_m2, 0)[0]):.3%}.",
        f"- NRE after the essay's normalisation: {nre}.",
        f"- Memory: an H100's {h100_hardware.hbm.capacity_bytes / 2**30:.0f} GiB of HBM "
        f"at ${hbm_usd_per_gb:g}/GB is ${h100.memory_cost_usd:,.0f}; at $9/GB ([C042]) "
        f"${h100.memory_cost_usd * 9 / hbm_usd_per_gb:,.0f}.",
    ]
    return "\n".join(lines) + "\n"


def economics_logic_area() -> str:
    """docs/economics.md: the fitted logic area per 16-bit TFLOP/s of every node class."""
    from dse.config._yaml import read_yaml_mapping
    from dse.core.economics import default_economics_parameters

    params = default_economics_parameters()
    gains = {row["name"]: row.get("logic_density_gain") for row in
             read_yaml_mapping(ROOT / "dse" / "data" / "economics.yaml")["nodes"]}
    lines = ["| node class | covers (nm) | fit chips | logic area per 16-bit TFLOP/s |",
             "|---|---|---|---|"]
    for node in reversed(params.nodes):
        chips = [c.chip for c in params.calibration_chips if c.use_in_fit
                 and node.min_node_nm < c.process_node_nm <= node.max_node_nm]
        gain = gains.get(node.name)
        fit = ", ".join(chips) if chips else (
            f"none: {gain['over_node_nm']:g} nm class ÷ {gain['factor']:g} (logic-density gain, C)"
            if gain else "none")
        lines.append(f"| {node.name} | ({node.min_node_nm:g}, {node.max_node_nm:g}] | {fit} | "
                     f"{node.logic_area_m2_per_flop_per_s * 1e12 / 1e-6:.3g} mm² |")
    return "\n".join(lines) + "\n"


def economics_preset_die_areas() -> str:
    """docs/economics.md: the die-area estimate of the GPU presets against their spec."""
    from dse.config import load_hardware
    from dse.core.economics import EconomicsInputs, chip_economics_batch

    parts = []
    for name in ("nvidia-a100-80gb", "nvidia-h100-sxm", "nvidia-h200"):
        hardware = load_hardware(name)
        assert hardware.technology.die_area_m2 is not None
        spec = hardware.technology.die_area_m2 * 1e6
        inputs = EconomicsInputs.from_hardware([hardware]).with_estimated_die_area()
        estimate = float(chip_economics_batch(inputs).silicon_area_m2[0]) * 1e6
        error = round(estimate / spec - 1, 3) + 0.0
        parts.append(f"{name} {estimate:,.0f} mm² vs {spec:,.0f}"
                     + ("" if error == 0 else f" ({error:+.1%})".replace("-", "−")))
    return ("From the presets (whose SRAM and link figures differ slightly from the fit rows): "
            + ", ".join(parts) + ".\n")


# B200 as the BOM check builds it: 2 dies of 800 mm², 4NP (5 nm class), 192 GB HBM3e in
# 8 stacks ([hw]); only area, node, memory and stacks enter its manufacturing cost.
B200_INPUTS = {"peak_flop_per_s": 2250e12, "sram_capacity_bytes": 0, "process_node_nm": 4,
               "tdp_w": 1000, "compute_units": 148, "hbm_stacks": 8, "hbm_capacity_bytes": 192e9,
               "silicon_area_m2": 1600e-6, "dies_per_package": 2}
# Published manufacturing costs the table compares with (dse/data/reference/cost_energy.csv).
PUBLISHED_H100_USD, PUBLISHED_B200_USD, PUBLISHED_B200_COWOS_USD = 3320, 6400, 1100


def economics_bom_checks() -> str:
    """docs/economics.md: modelled manufacturing cost vs published bills of materials."""
    from dse.core.economics import EconomicsInputs, chip_economics_batch

    report, params = _h100_report()
    h = report.economics
    b = chip_economics_batch(EconomicsInputs.from_arrays(**B200_INPUTS)).design(0)
    cowos = b.packaging_cost_usd - params.assembly_and_test_usd

    def error(model: float, published: float) -> str:
        return f"{model / published - 1:+.1%}".replace("-", "−")

    lines = [
        "| chip | model (without NRE) | published | error |", "|---|---|---|---|",
        f"| H100 SXM ({h.die_area_m2 * 1e6:,.0f} mm², 4N, 80 GiB HBM3) | "
        f"${h.variable_cost_usd:,.0f} (die ${h.die_cost_usd:,.0f}, HBM ${h.memory_cost_usd:,.0f}, "
        f"packaging ${h.packaging_cost_usd:,.0f}) | ${PUBLISHED_H100_USD:,} [C049] (die ~$300, "
        f"HBM $1,350, packaging $750 + test $920) | "
        f"{error(h.variable_cost_usd, PUBLISHED_H100_USD)} |",
        f"| B200 ({b.dies_per_package} × {b.die_area_m2 * 1e6:,.0f} mm², 4NP, 192 GB HBM3e, "
        f"8 stacks) | ${b.variable_cost_usd:,.0f} (dies {b.dies_per_package} × "
        f"${b.die_cost_usd:,.0f}, HBM ${b.memory_cost_usd:,.0f}, packaging "
        f"${b.packaging_cost_usd:,.0f}) | ${PUBLISHED_B200_USD:,} [C051] | "
        f"{error(b.variable_cost_usd, PUBLISHED_B200_USD)} |",
        f"| B200 CoWoS line alone | ${cowos:,.0f} | ${PUBLISHED_B200_COWOS_USD:,} [C046] | "
        f"{error(cowos, PUBLISHED_B200_COWOS_USD)} |",
        "",
        f"The H100 die is dearer in the model (${h.die_cost_usd:,.0f} vs ~$300) because it "
        "uses CSET's 2020 N5 list\nprice; NVIDIA's negotiated price is lower.",
    ]
    return "\n".join(lines) + "\n"


def economics_tco_example() -> str:
    """docs/economics.md: the TCO and break-even figures `dse economics --hardware
    nvidia-h100-sxm` prints with every default."""
    report, _ = _h100_report()
    e = report.economics
    versus = report.versus
    assert versus.peak_flop_per_s is not None and versus.tdp_w is not None
    return (
        f"Example, `dse economics --hardware nvidia-h100-sxm` (defaults): "
        f"{report.economics.tdp_w:,.0f} W × {report.years:g} years → "
        f"${report.energy_cost_usd:,.0f} of electricity.\nAgainst the essay's A100 "
        f"(${versus.price_usd:,.0f}, {versus.peak_flop_per_s / 1e12:,.0f} TFLOP/s, "
        f"{versus.tdp_w:,.0f} W), like for like it needs "
        f"{report.break_even_volume_simple:,.0f} units (it costs ${e.variable_cost_usd:,.0f} "
        f"to make and competes with a ${versus.price_usd / 1e3:,.0f}k card); counted per peak "
        f"FLOP/s ({report.performance_ratio:.2f}×) with {report.years:g} years of electricity, "
        f"{report.break_even_volume_tco:,.0f}.\n"
    )


# Notes the die-area table adds to a calibration chip's name.
DIE_AREA_NOTES = {"Intel Gaudi2": "area is an Epoch estimate, E",
                  "Cerebras WSE-3": "FP16 dense ~15 PF is an Epoch estimate, E"}


def economics_die_area_checks() -> str:
    """docs/economics.md: estimated vs published die area of every calibration chip."""
    from dse.core.economics import die_area_checks

    def pct(value: float) -> str:
        value = round(value, 3) + 0.0  # -2e-15 is 0.0%, not −0.0%
        return "0.0%" if value == 0 else f"{value:+.1%}".replace("-", "−")

    lines = ["| chip | role | spec mm² | estimate mm² | error | left out of the fit |",
             "|---|---|---|---|---|---|"]
    for c in die_area_checks():
        name = c.chip + (f" ({DIE_AREA_NOTES[c.chip]})" if c.chip in DIE_AREA_NOTES else "")
        loo = c.leave_one_out_relative_error
        if not c.used_in_fit:
            role, left_out = "held out", "(held out)"
        elif loo is None:
            role, left_out = "fit (only chip of its node class)", "n/a"
        else:
            assert c.leave_one_out_die_area_m2 is not None
            role, left_out = "fit", f"{c.leave_one_out_die_area_m2 * 1e6:,.0f} mm², {pct(loo)}"
        lines.append(f"| {name} | {role} | {c.spec_die_area_m2 * 1e6:,.0f} | "
                     f"{c.estimated_die_area_m2 * 1e6:,.0f} | {pct(c.relative_error)} | "
                     f"{left_out} |")
    return "\n".join(lines) + "\n"


@functools.cache
def _cli_json(*argv: str) -> Any:
    """What `dse ARGV --json` prints, parsed (run in this process: seconds; once per
    command, so generators quoting the same command share the run: do not mutate it)."""
    import json

    from typer.testing import CliRunner

    from dse.cli import app

    result = CliRunner().invoke(app, [*argv, "--json"])
    if result.exit_code != 0:
        raise SystemExit(f"regen_docs: dse {' '.join(argv)} exited {result.exit_code}")
    return json.loads(result.stdout)


def _pct(value: float) -> str:
    return f"{value:+.1%}".replace("-", "−").replace("%", " %")


def _abs_pct(value: float) -> str:
    return f"{value:.1%}".replace("%", " %")


def validate_kernels() -> str:
    """docs/cost-model.md: `dse validate kernels`: errors per section, power rows, other chips."""
    report = _cli_json("validate", "kernels")
    by = {(s["section"], s["set"]): s for s in report["summary"]}
    lines = ["| section | rows | median abs. error: fit | held-out | all | p90 all |",
             "|---|---|---|---|---|---|"]
    for section in dict.fromkeys(s["section"] for s in report["summary"]):
        fit, held, every = (by[(section, s)] for s in ("fit", "held-out", "all"))
        lines.append(f"| {section} | {every['rows']} | {fit['median_abs_error']:.1%} | "
                     f"{held['median_abs_error']:.1%} | {every['median_abs_error']:.1%} | "
                     f"{every['p90_abs_error']:.1%} |".replace("%", " %"))
    names = {"idle": "idle", "gemm_bf16_8192": "bf16 GEMM", "gemm_fp8_8192": "fp8 GEMM",
             "copy_1GiB": "1 GiB copy"}
    power = []
    for row in report["power"]:
        text = (f"{names.get(row['phase'], row['phase'])} {row['measured_power_w']:.1f} W "
                f"({row['predicted_power_w']:.1f} W")
        if row["measured_rate"] is not None and row["rate_unit"] == "TFLOP/s":
            text += (f", clock {row['measured_clock_mhz']:.0f} MHz "
                     f"({row['predicted_clock_mhz']:.0f}), "
                     f"{row['measured_rate']:.1f} TFLOP/s ({row['predicted_rate']:.1f})")
        power.append(text + ")")
    others = [f"{chip['preset']} {chip['published_tflops']:.0f} → {chip['predicted_tflops']:.0f} "
              f"TFLOP/s ({_pct(chip['error'])})" for chip in report["other_chips"]]
    lines += ["", "Board power (steady state), measured (predicted): " + ", ".join(power)
              + f". These {len(power)} rows are fit rows.", "",
              "Other chips, never fitted (published best bf16 GEMM throughput, \"MAMF\", "
              "→ predicted): " + ", ".join(others) + "."]
    return "\n".join(lines) + "\n"


# `dse validate published`'s groups, in the order and words of docs/evaluators.md.
PUBLISHED_GROUPS = (("fit (serving overhead, NVIDIA)", "fit (serving overhead, NVIDIA)"),
                    ("held-out", "held-out (all)"),
                    ("held-out serving (non-NVIDIA)",
                     "held-out serving, non-NVIDIA (MI300X + Gaudi2)"),
                    ("nvidia-a100-80gb", None), ("nvidia-h100-sxm", None),
                    ("nvidia-h200", None), ("intel-gaudi2", None), ("amd-mi300x", None))


def validate_published() -> str:
    """docs/evaluators.md: `dse validate published`: the headline and the group table."""
    report = _cli_json("validate", "published")
    s = report["summary"]
    worst = max(report["rows"], key=lambda r: max(1 + r["error"], 1 / (1 + r["error"]))
                if r["error"] is not None else 0)
    groups = report["groups"]
    if set(groups) != {key for key, _ in PUBLISHED_GROUPS}:
        raise SystemExit(f"regen_docs: validate published groups are now {sorted(groups)}")
    median = f"{s['median_abs_error']:.1%}".replace("%", " %")
    lines = [f"{s['rows']} rows on {len(s['chips'])} chips: **median |error| "
             f"{median}**, worst {s['max_ratio']:.2f}× ({worst['id']}, "
             f"{worst['workload']} on {worst['preset']}, {_pct(worst['error'])}), "
             f"{s['rows_beyond_2x']} rows beyond 2×.", "",
             "| group | rows | median \\|error\\| | worst | beyond 2× |", "|---|---|---|---|---|"]
    for key, label in PUBLISHED_GROUPS:
        g = groups[key]
        lines.append(f"| {label or key} | {g['rows']} | {g['median_abs_error']:.1%} | "
                     f"{g['max_ratio']:.2f}× | {g['rows_beyond_2x']} |".replace("%", " %"))
    return "\n".join(lines) + "\n"


def validate_end_to_end() -> str:
    """docs/evaluators.md: `dse validate end-to-end` on the shipped H100 file."""
    report = _cli_json("validate", "end-to-end")
    lines = ["| row | measured | predicted | error | role |", "|---|---|---|---|---|"]
    for row in report["rows"]:
        p = row["params"]
        mode = {"train": "training", "prefill": "prefill", "inference": "inference"}[p["mode"]]
        if row["workload"] == "decoder_layer":
            label = f"decoder layer {mode}, {p['batch']} × {p['seq']:,}"
        else:
            label = f"ResNet-50 {mode}, batch {p['batch']}"
        rate = ("" if row["workload"] == "decoder_layer" else  # images per second too
                f" ({p['batch'] / row['measured_s']:,.0f} img/s)")
        lines.append(f"| {label} | {row['measured_s'] * 1e3:.3f} ms{rate} | "
                     f"{row['predicted_s'] * 1e3:.3f} ms | {_pct(row['error'])} | {row['role']} |")
    held = sum(row["role"] == "held-out" for row in report["rows"])
    lines += ["", f"Median |error| {report['median_abs_error']:.1%} over the "
              f"{len(report['rows'])} rows, {report['held_out_median_abs_error']:.1%} over the "
              f"{held} held out (`{report['preset']}`).".replace("%", " %")]
    return "\n".join(lines) + "\n"


def economics_essay() -> str:
    """docs/economics.md: the essay's arithmetic, as `dse economics` computes it."""
    from dse.core.economics import essay_arithmetic

    e = essay_arithmetic()
    low, high = e.design_cost_range_usd
    return (f"a {e.node_nm:g} nm design costs about ${low / 1e6:,.0f}M–${high / 1e6:,.0f}M "
            f"(normalised to ${e.normalised_design_cost_usd / 1e6:,.0f}M), which buys "
            f"{e.equivalent_cards:,.0f} A100 cards\nat ${e.card_price_usd / 1e3:,.0f}k or "
            f"{e.equivalent_servers:,.0f} {e.gpus_per_server}-GPU servers at "
            f"${e.server_price_usd / 1e3:,.0f}k, so a new chip must sell on that scale to "
            "break\neven.\n")


def band_example() -> str:
    """docs/cost-model.md: the training-step band around `dse validate end-to-end`'s eager
    ResNet-50 batch-256 training row, and the ratios `distinguishable` allows."""
    from dse.validation.bands import workload_band

    row = next(r for r in _cli_json("validate", "end-to-end")["rows"]
               if r["id"] == "resnet50/train/B256")
    band = workload_band("training")
    low, high = band.interval_s(row["predicted_s"])
    return (f"E.g. eager ResNet-50 training at batch 256 on the H100: "
            f"{row['predicted_s'] * 1e3:.1f} ms, band {low * 1e3:.1f}–{high * 1e3:.1f} ms "
            f"(measured {row['measured_s'] * 1e3:.1f} ms). Two training steps are told apart "
            f"only outside {band.low_ratio / band.high_ratio:.2f}×–"
            f"{band.high_ratio / band.low_ratio:.2f}× of each other (`distinguishable`, below).\n")


def llm_inference_bench() -> str:
    """docs/evaluators.md: `dse validate published`'s restatement of every LLM-Inference-Bench
    run on a chip with a preset (`llm_inference_bench_runs`)."""
    runs = _cli_json("validate", "published")["llm_inference_bench_runs"]
    chips = ("nvidia-a100-80gb", "nvidia-h100-sxm", "amd-mi300x")
    runs = sorted(runs, key=lambda r: (r["framework"] != "vLLM", chips.index(r["preset"])
                                       if r["preset"] in chips else len(chips)))
    restated = sum(r["fit"]["runs"] + r["held_out"]["runs"] for r in runs)
    skipped = sum(r["infeasible_not_restated"] for r in runs)
    presets = ", ".join(dict.fromkeys(r["preset"] for r in runs))
    lines = [f"{restated + skipped:,} runs on {presets}: {restated:,} restated, {skipped} not "
             "(their batch's KV cache does not fit).", "",
             "| chip | framework (family) | fit runs | held out | median \\|error\\| | worst "
             "| beyond 2× | infeasible |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        held = r["held_out"]
        median = f"{held['median_abs_error']:.1%}".replace("%", " %")
        lines.append(f"| {r['preset']} | {r['framework']} (`{r['serving']}`) | {r['fit']['runs']} "
                     f"| {held['runs']} | {median} | {held['max_ratio']:.2f}× | "
                     f"{held['runs_beyond_2x']} | {r['infeasible_not_restated']} |")
    return "\n".join(lines) + "\n"


def mi300x_published() -> str:
    """docs/evaluators.md: `dse validate published`'s error on each published MI300X row."""
    rows = [r for r in _cli_json("validate", "published")["rows"] if r["preset"] == "amd-mi300x"]
    errors = [f"{_pct(r['error'])} ({r['id']})" for r in rows]
    return (f"The {len(rows)} published MI300X rows are now " + ", ".join(errors[:-1])
            + f" and {errors[-1]}.\n")


def mi300x_rocm_fit() -> str:
    """docs/evaluators.md: the `vllm-rocm-2024` family's constants and its fit / held-out
    errors on LLM-Inference-Bench's MI300X runs, as `dse validate published` restates them."""
    from evaluators.serving import SERVING_OVERHEADS

    rocm = SERVING_OVERHEADS["vllm-rocm-2024"]
    (run,) = [r for r in _cli_json("validate", "published")["llm_inference_bench_runs"]
              if r["preset"] == "amd-mi300x"]
    fit, held = run["fit"], run["held_out"]
    skipped = run["infeasible_not_restated"]
    total = fit["runs"] + held["runs"] + skipped
    return (
        "**vLLM on ROCm.** With the NVIDIA-fitted `vllm-2024` overhead the MI300X rows came out\n"
        "+10 % (M091, batch 1), +33 % (M092, batch 16), +73 % (M100, TP4) and +194 % (M101, TP8\n"
        "batch 64): 2.94× on M101 (before this family existed, kept as found). "
        "`dse/data/reference/llm_inference_bench_llama3.csv` holds all\n"
        f"{total} MI300X vLLM runs of the same benchmark (Llama 3 8B and 70B, 1–8 GPUs, batch "
        "1–256,\n"
        "128–2048 tokens), and they show why: the decode step grows with the batch at a rate\n"
        "proportional to the weights per chip — the decode GEMMs ran compute-bound near 36 "
        "TFLOP/s,\n"
        "about 3 % of the bf16 peak — and at batch 1 it grows with the layer count beyond the\n"
        "weight streaming. The runs used vLLM v0.6.1 built from `Dockerfile.rocm`, not the CUDA\n"
        "build the NVIDIA rows used, so it is its own family, `vllm-rocm-2024`\n"
        f"(`dse.validation.llm_inference_bench`). It is fitted on the {fit['runs']} single-GPU "
        "runs at 128,\n"
        "256, 512 and 2048 tokens (never the 1024-token shapes the published rows quote, never\n"
        f"more than one GPU): {rocm.per_sequence_s * 1e6:.0f} µs per sequence and "
        f"{rocm.per_layer_s * 1e6:.0f} µs per layer per step, decode GEMMs at\n"
        f"{rocm.decode_gemm_peak_fraction * 100:.2f} % of peak (per-step term "
        f"{rocm.per_step_s:g}); fit median |error| {_abs_pct(fit['median_abs_error'])}, "
        f"worst {fit['max_ratio']:.2f}×. On the {held['runs']} runs\n"
        "it never saw (1024 tokens; 2, 4 and 8 GPUs) median |error| is "
        f"**{_abs_pct(held['median_abs_error'])}**, worst {held['max_ratio']:.2f}×, "
        f"{held['runs_beyond_2x']}\n"
        "beyond 2× — 2048-token runs at batch 64–256 (the model too fast: attention over long\n"
        "contexts, which the family does not charge) and 128-token batch-1 runs that the source\n"
        "measured slower per step than its 256-token ones. A term for slow decode attention\n"
        "(KV-cache bytes at a fraction of HBM bandwidth) was tried when the family was fitted: "
        "fit 12.2 → 11.4 % but held out\n"
        f"11.2 → 19.6 %, so it is left out. {skipped} runs are not restated: the batch's KV "
        "cache does not\n"
        "fit the model's memory (vLLM queues such sequences).\n")
