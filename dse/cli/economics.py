"""`dse economics`: what a chip costs to design, make and own, and when it breaks even.

Thin: parse arguments, call `dse.core.economics`, print. With no arguments it recomputes
the essay's arithmetic; with `--hardware` it reports the same for any design.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dse.cli._app import app, console, json_text, plain, report_config_errors
from dse.core.economics import (
    DesignEconomicsReport,
    EconomicsParameters,
    EssayArithmetic,
    PurchaseReference,
    default_economics_parameters,
    design_economics_report,
    essay_arithmetic,
    load_economics_parameters,
    reference_peak_flop_per_s,
)
from dse.errors import ConfigError, Problem
from dse.units import MM2

DEFAULT_VERSUS = "a100-essay"


def _usd(value: float) -> str:
    if value == float("inf"):
        return "never"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    return f"${value:,.0f}"


def _units(value: float) -> str:
    return "never" if value == float("inf") else f"{value:,.0f}"


def _essay_lines(result: EssayArithmetic, params: EconomicsParameters) -> list[str]:
    low, high = result.design_cost_range_usd
    nre = result.normalised_design_cost_usd
    card = f"{_usd(result.card_price_usd)} per A100 card"
    server = f"{_usd(result.server_price_usd)} per {result.gpus_per_server}-GPU server"
    return [
        f"The essay's economics (point 6), recomputed from {params.source}:",
        f"  A {result.node_nm:g} nm design costs {_usd(low)}-{_usd(high)}, normalised to "
        f"{_usd(nre)} (IBS curve: {_usd(result.ibs_design_cost_usd)}; every node's IBS "
        f"figure is scaled by {params.nre_scale:.3f}).",
        f"  {_usd(nre)} / {card:<30} = {result.equivalent_cards:>8,.0f} A100 cards",
        f"  {_usd(nre)} / {server:<30} = {result.equivalent_servers:>8,.0f} servers "
        f"({result.equivalent_server_gpus:,.0f} GPUs)",
        f"  A new {result.node_nm:g} nm chip must sell on the scale of "
        f"{result.equivalent_cards:,.0f} units to pay back its design cost alone.",
    ]


def _resolve_versus(
    versus: str | None, versus_price_usd: float | None, params: EconomicsParameters
) -> PurchaseReference:
    """The built-in reference by name, or a hardware preset/file priced from the file."""
    name = versus or DEFAULT_VERSUS
    reference = params.purchase_references.get(name)
    if reference is not None and reference.peak_flop_per_s is not None and reference.tdp_w:
        return replace(
            reference,
            price_usd=reference.price_usd if versus_price_usd is None else versus_price_usd,
        )
    from dse.config import load_hardware

    hardware = load_hardware(name)
    price = versus_price_usd
    if price is None:
        known = params.purchase_references.get(name) or params.purchase_references.get(
            hardware.name
        )
        if known is None:
            raise ConfigError(
                Problem(
                    params.source,
                    f"purchase_reference.{hardware.name}",
                    f"no purchase price for {name!r}; pass --versus-price-usd or add it "
                    "to the economics file",
                )
            )
        price = known.price_usd
    return PurchaseReference(
        name=hardware.name,
        price_usd=price,
        peak_flop_per_s=reference_peak_flop_per_s(hardware),
        tdp_w=hardware.power.tdp_w,
    )


def _report_table(report: DesignEconomicsReport) -> Table:
    e = report.economics
    table = Table(title=plain(f"Economics of {report.design}"), show_header=False)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    source = "estimate" if e.die_area_is_estimate else "spec"
    rows = [
        ("process node class", e.process_node),
        (f"die area ({source})", f"{e.die_area_m2 / MM2:,.0f} mm2 x {e.dies_per_package}"),
        ("die area, model estimate", f"{report.estimated_die_area_m2 / MM2:,.0f} mm2"),
        ("dies per 300 mm wafer", f"{e.dies_per_wafer:,.0f}"),
        ("yield", f"{e.yield_fraction:.1%}" + (" with spare units" if e.is_beyond_reticle else "")),
        ("good die cost", _usd(e.die_cost_usd)),
        ("memory cost", _usd(e.memory_cost_usd)),
        ("packaging, assembly and test", _usd(e.packaging_cost_usd)),
        ("manufacturing cost per package", _usd(e.variable_cost_usd)),
        ("NRE (design cost)", _usd(e.nre_usd)),
        (f"unit cost at {e.volume:,} units", _usd(e.unit_cost_usd)),
        (
            f"electricity, {report.years:g} years at ${report.power_price_usd_per_kwh:g}/kWh, "
            f"PUE {report.pue:g}",
            _usd(report.energy_cost_usd),
        ),
        (f"TCO per chip over {report.years:g} years", _usd(report.tco_usd)),
        (
            f"versus {report.versus.name} at {_usd(report.versus.price_usd)}",
            f"{report.performance_ratio:.2f}x its 16-bit peak",
        ),
        ("break-even volume, like for like", _units(report.break_even_volume_simple)),
        ("break-even volume, per peak FLOP/s with TCO", _units(report.break_even_volume_tco)),
    ]
    for name, value in rows:
        table.add_row(plain(name), plain(value))
    if not e.feasible:
        table.add_row("infeasible", plain("; ".join(e.infeasible_reasons)))
    return table


@app.command()
@report_config_errors
def economics(
    hardware: Annotated[
        str | None,
        typer.Option(help="Preset name or hardware YAML file; omit for the essay's arithmetic."),
    ] = None,
    volume: Annotated[
        int | None, typer.Option(min=1, help="Units over which NRE is amortised.")
    ] = None,
    years: Annotated[float | None, typer.Option(min=0, help="TCO period in years.")] = None,
    power_price_usd_kwh: Annotated[
        float | None, typer.Option("--power-price-usd-kwh", min=0, help="Electricity, USD/kWh.")
    ] = None,
    pue: Annotated[float | None, typer.Option(min=1, help="Data-centre PUE.")] = None,
    versus: Annotated[
        str | None,
        typer.Option(help="Existing chip to break even against (preset); default: A100 at $10k."),
    ] = None,
    versus_price_usd: Annotated[
        float | None, typer.Option(min=0, help="Purchase price of the --versus chip.")
    ] = None,
    economics_file: Annotated[
        Path | None, typer.Option(help="Economics YAML (default: dse/data/economics.yaml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Die area, yield, unit cost, NRE, TCO and break-even volume; the essay's arithmetic."""
    params = (
        load_economics_parameters(economics_file)
        if economics_file is not None
        else default_economics_parameters()
    )
    if hardware is None:
        result = essay_arithmetic(params)
        if as_json:
            print(json_text(asdict(result)))
        else:
            for line in _essay_lines(result, params):
                console.print(line, highlight=False, soft_wrap=True)
        return

    from dse.config import load_hardware

    report = design_economics_report(
        load_hardware(hardware),
        _resolve_versus(versus, versus_price_usd, params),
        volume=volume,
        years=years,
        power_price_usd_per_kwh=power_price_usd_kwh,
        pue=pue,
        params=params,
    )
    if as_json:
        document = asdict(report)
        document["economics"]["variable_cost_usd"] = report.economics.variable_cost_usd
        print(json_text(document))
    else:
        console.print(_report_table(report))
