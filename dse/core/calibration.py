"""The calibration layer: efficiency factors and software overheads fitted on measurements.

Hardware presets hold spec-sheet figures only. Everything here is either fitted on
measurements (and says which) or a documented modelling default for a figure no spec
sheet gives. The factors are global: the same numbers apply to every chip, so a fit on
one chip is checked on others (`dse validate kernels`, `dse validate published`).

`dse/validation/fit.py` re-derives the fitted values from
`dse/data/reference/h100_kernels.csv` and `h100_power.csv`; a test checks that the
shipped values are what the fit produces, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from dse.units import PJ, US


@dataclass(frozen=True, slots=True)
class Calibration:
    # --- compute -------------------------------------------------------------------
    # NOTE: share of the peak *at the clock the chip actually runs* that a well-shaped
    # GEMM reaches once wave and tile quantisation are accounted for. Fitted on the H100
    # bf16 GEMMs; the fit lands on its bound, 1.0: what a big GEMM loses is quantisation
    # (~3 %) and clock. The sustained power row agrees independently: 672.3 TFLOP/s at
    # 1365 MHz is 0.986 of the clock-scaled peak. Cross-checked against the published
    # maximum achievable matmul FLOPS of A100 and H100 (`dse validate kernels`).
    matmul_peak_efficiency: float = 1.0
    # NOTE: a leading dimension that is not a multiple of `alignment_bytes` loses the
    # tensor-memory-accelerator / vectorised load path. Evidence: a 4095^3 bf16 GEMM runs
    # at ~1/5 the speed of 4096^3 on H100 (h100_kernels.csv). Fitted on that row.
    unaligned_efficiency: float = 0.1466
    # NOTE: fused attention kernels reach a lower share of peak than plain GEMMs (softmax
    # between the two matmuls, online rescaling). Fitted on the H100 prefill rows at
    # sequence lengths 512, 2048 and 8192 (1024 and 4096 held out): 0.33 forward, 0.22
    # backward, as PyTorch 2.11's SDPA runs FlashAttention-2-class kernels on H100.
    # FlashAttention-2 reports 50-73 % on A100 and FlashAttention-3 ~75 % on H100
    # (published_results M043, M046): a better kernel library is a software choice these
    # factors encode.
    attention_forward_efficiency: float = 0.328
    attention_backward_efficiency: float = 0.2233
    # NOTE: implicit-GEMM convolutions lose some efficiency to im2col addressing; cuDNN on
    # A100 reaches about 80 % of a same-sized GEMM (MLPerf ResNet-50 results imply it).
    conv_relative_efficiency: float = 0.8
    # NOTE: vector (non-tensor) units for elementwise arithmetic; share of fp32 peak.
    vector_efficiency: float = 0.7

    # --- memory --------------------------------------------------------------------
    # NOTE: achieved share of spec HBM bandwidth on large streaming copies. Fitted on the
    # H100 1-2 GiB copy and read-reduce rows (about 2.9-3.0 of 3.35 TB/s); STREAM-like
    # results on A100 (~1.7 of 2.04 TB/s) agree.
    hbm_efficiency: float = 0.8826
    # NOTE: DDR controllers reach ~75-85 % of channel peak on streaming access (STREAM on
    # DDR4/DDR5 servers). Not fitted: no DDR measurement in the reference set.
    ddr_efficiency: float = 0.8
    # NOTE: on-chip SRAM delivers close to its wiring peak on regular dataflow.
    sram_efficiency: float = 0.9
    # NOTE: of a hardware-managed cache, this share behaves as a place where data stays
    # between operators. GPU presets give total on-chip storage (L2 + L1/SMEM + registers);
    # the shared L2 is 50 of 116 MB on H100 and 40 of 88 MB on A100 (Hopper and Ampere
    # whitepapers), i.e. ~0.45 on both.
    cache_usable_fraction: float = 0.45
    # NOTE: a software-managed scratchpad keeps some room for double-buffering and code.
    scratchpad_usable_fraction: float = 0.85
    # NOTE: random row gathers waste DRAM bursts; a row shorter than this is fetched as a
    # full burst (64 B DDR/HBM burst, JEDEC).
    gather_burst_bytes: float = 64.0

    # --- host and software ---------------------------------------------------------
    # NOTE: host-side framework cost per eagerly dispatched operator on top of the
    # hardware's driver launch cost (PyTorch dispatcher, library heuristics). A property
    # of the software stack, not of the chip: fitted on the smallest H100 shapes of each
    # kind, where device time is negligible.
    eager_dispatch_s: Mapping[str, float] = field(
        default_factory=lambda: {
            "matmul": 30.44 * US,
            "attention": 30.62 * US,
            "conv2d": 30.44 * US,
            "elementwise": 3.05 * US,
            "embedding_lookup": 3.05 * US,
            "transfer": 8.03 * US,
            "collective": 10.0 * US,
        }
    )
    # NOTE: device-side fixed cost per kernel (launch, ramp-up and drain of the last wave).
    kernel_device_overhead_s: float = 1.19 * US
    # NOTE: a scalar decision made on a device with scalar control units (CPU-less design):
    # a few hundred cycles of a control core, no host round trip.
    device_scalar_op_s: float = 0.5 * US
    # NOTE: achieved share of host-link bandwidth for pinned copies (H100: 54.9 of 64 GB/s).
    host_link_efficiency: float = 0.8589
    # NOTE: pageable host memory goes through a staging copy; H100 h2d/d2h pageable
    # reached 0.33 / 0.25 of pinned. One global factor for both directions.
    pageable_bandwidth_fraction: float = 0.3294
    # NOTE: NCCL ring all-reduce "bus bandwidth" reaches ~80 % of NVLink/IB link peak
    # (nccl-tests on DGX A100/H100, public results). Not fitted on our data.
    collective_efficiency: float = 0.8

    # --- power ---------------------------------------------------------------------
    # NOTE: idle board power as a share of TDP (H100: 122.8 W of 700 W, h100_power.csv).
    idle_fraction_of_tdp: float = 0.1754
    # NOTE: energy per FLOP when a preset gives none: this many TDP-minus-idle watts per
    # peak FLOP/s, scaled by the precision factor below. Fitted on the H100 bf16 power row
    # (the clock the cap forces); the fp8 factor on the fp8 row.
    compute_energy_per_peak_flop_s: float = 2.604  # (J/FLOP) * (FLOP/s) / W: dimensionless
    precision_energy_factor: Mapping[str, float] = field(
        default_factory=lambda: {
            "fp32": 1.0,
            "tf32": 1.0,
            "bf16": 1.0,
            "fp16": 1.0,
            # NOTE: narrow multipliers do not halve energy: operand delivery and fp32
            # accumulation dominate. Fitted on the H100 fp8 power row (1245 MHz vs 1365).
            "fp8": 1.424,
            "int8": 1.424,
        }
    )
    # NOTE: energy per byte at each level when a preset gives none. HBM: 3.9 pJ/bit HBM3
    # class device energy (cost_energy C092 HBM2E 6.0, C096 HBM3E ~2.9 pJ/bit); DDR: 17.5
    # pJ/bit (C094: DDR4/DDR5 15-20 pJ/bit incl. I/O); SRAM: 0.5 pJ/bit (C084 0.16 pJ/bit
    # for an 8 KB array at 45 nm; large arrays with wires cost more); host link and chip
    # links: ~5 pJ/bit SerDes class.
    energy_per_byte_j: Mapping[str, float] = field(
        default_factory=lambda: {
            "sram": 0.5 * 8 * PJ,
            "hbm": 3.9 * 8 * PJ,
            "ddr": 17.5 * 8 * PJ,
            "host_link": 5.0 * 8 * PJ,
            "interconnect": 5.0 * 8 * PJ,
        }
    )
    # NOTE: moving an off-chip byte through controllers, PHY and the on-chip network costs
    # more than the DRAM access itself. Fitted on the H100 1 GiB copy power row (395 W at
    # 3.0 TB/s read+write).
    offchip_transport_energy_per_byte_j: float = 57.2 * PJ
    # NOTE: the board power limiter averages over a window; programs shorter than it run
    # above the sustained clock. Fitted on the H100 GEMM rows of different lengths (8192^3
    # bursts at ~770 TFLOP/s while the 10 s sustained run gets 672).
    power_limiter_window_s: float = 2.82e-3

    def with_changes(self, **changes: object) -> Calibration:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_CALIBRATION = Calibration()

# NOTE: a calibration belongs to the software stack and chip family a whole evaluation
# runs under (a user's `dse calibrate` file), not to one operator or evaluator; threading
# it through every evaluator's `evaluate(designs, workload)` would change the plug-in
# contract for a value none of them reads. So the entry points (`dse evaluate
# --calibration`, `dse validate`, a search worker with its space's `calibration:`) set it
# for the duration of their evaluation, and the core reads it where a call does not pass
# one explicitly. The default is the shipped, H100-fitted calibration.
_IN_USE: ContextVar[Calibration] = ContextVar("dse_calibration_in_use",
                                              default=DEFAULT_CALIBRATION)


def calibration_in_use() -> Calibration:
    """The calibration core calls use when not given one: the shipped one, unless an
    entry point runs under `using_calibration`."""
    return _IN_USE.get()


@contextmanager
def using_calibration(calibration: Calibration | None) -> Iterator[Calibration]:
    """Evaluate under `calibration` (None: leave the one in use) for the `with` block."""
    if calibration is None:
        yield calibration_in_use()
        return
    token = _IN_USE.set(calibration)
    try:
        yield calibration
    finally:
        _IN_USE.reset(token)
