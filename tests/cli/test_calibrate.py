"""`dse calibrate` then `dse validate kernels --calibration` / `dse evaluate --calibration`."""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dse.cli import app
from dse.config.calibration_file import load_calibration_file
from dse.core.calibration import DEFAULT_CALIBRATION
from dse.errors import ConfigError
from tests.cli.strict_json import loads_strict

runner = CliRunner()
H100 = "nvidia-h100-sxm"
SHIPPED = Path(str(files("dse.data.reference") / "h100_kernels.csv"))
SHIPPED_POWER = Path(str(files("dse.data.reference") / "h100_power.csv"))


def _subset(path: Path) -> Path:
    """The H100 memory and host rows and the first 14 bf16 GEMMs: 34 real rows."""
    with SHIPPED.open() as f:
        rows = list(csv.DictReader(f))
    keep = [r for r in rows if r["section"] in ("memory", "host")]
    keep += [r for r in rows if r["section"] == "gemm" and r["kind"] == "bf16"][:14]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(keep)
    return path


def test_calibrate_writes_a_file_that_validate_reads_with_the_same_split(tmp_path: Path
                                                                         ) -> None:
    measured = _subset(tmp_path / "kernels.csv")
    out = tmp_path / "cal.yaml"
    result = runner.invoke(app, ["calibrate", "--measured", str(measured), "-H", H100,
                                 "-o", str(out), "--fit-split", "random:0.3:1",
                                 "--max-evaluations", "5", "--json"])
    assert result.exit_code == 0, result.output
    report = loads_strict(result.stdout)
    assert report["rows"] == 34 and report["fit_rows"] + report["held_out_rows"] == 34
    assert 5 <= report["held_out_rows"] <= 17
    loaded = load_calibration_file(out)
    assert loaded.hardware == H100 and str(loaded.fit_split) == "random:0.3:1"
    # kernels-only: the power-only factors keep their shipped values
    assert (loaded.calibration.compute_energy_per_peak_flop_s
            == DEFAULT_CALIBRATION.compute_energy_per_peak_flop_s)

    check = runner.invoke(app, ["validate", "kernels", "--measured", str(measured), "-H", H100,
                                "--calibration", str(out), "--json", "--rows"])
    assert check.exit_code in (0, 1), check.output  # 1: a section misses a target
    validated = loads_strict(check.stdout)
    assert validated["fit_split"] == "random:0.3:1"
    assert sum(r["set"] == "held-out" for r in validated["rows"]) == report["held_out_rows"]
    for a, b in zip(validated["summary"], report["summary"], strict=True):
        assert (a["section"], a["set"], a["rows"]) == (b["section"], b["set"], b["rows"])
        assert a["median_abs_error"] == pytest.approx(b["median_abs_error"], abs=1e-4)
    by_set = {(s["section"], s["set"]): s for s in validated["summary"]}
    shipped = {(s["section"], s["set"]): s for s in validated["summary_shipped_calibration"]}
    # the fit lowers the error on the rows it saw (robust loss and prior: not strictly)
    fit_new = sum(by_set[k]["median_abs_error"] for k in by_set if k[1] == "fit")
    fit_old = sum(shipped[k]["median_abs_error"] for k in shipped if k[1] == "fit")
    assert fit_new < fit_old


def test_calibration_changes_what_evaluate_predicts(tmp_path: Path) -> None:
    cal = tmp_path / "slow-hbm.yaml"
    cal.write_text("format: dse-calibration/1\nhardware: nvidia-h100-sxm\n"
                   "factors: {hbm_efficiency: 0.44}\n")
    workload = tmp_path / "copy.yaml"
    workload.write_text("name: copy\nops:\n  - {op: elementwise, bytes_read: 1000000000, "
                        "bytes_written: 1000000000}\n")
    runs = []
    for extra in ([], ["--calibration", str(cal)]):
        result = runner.invoke(app, ["evaluate", "-H", H100, "-w", str(workload), "--json",
                                     *extra])
        assert result.exit_code == 0, result.output
        runs.append(loads_strict(result.stdout)["total"]["time_s"])
    # 2 GB at 3.35 TB/s x 0.8826 = 0.68 ms; at half the efficiency about twice that
    assert runs[0] == pytest.approx(2e9 / (3.35e12 * 0.8826), rel=0.05)
    assert runs[1] / runs[0] == pytest.approx(0.8826 / 0.44, rel=0.05)


def test_bad_inputs_exit_2_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "cal.yaml"
    bad.write_text("format: dse-calibration/1\nhardware: h\nfit_split: sideways\n"
                   "factors: {hbm_efficiency: 1.5, warp_speed: 9, eager_dispatch_s: {gpu: 1}}\n")
    result = runner.invoke(app, ["validate", "kernels", "--calibration", str(bad)])
    assert result.exit_code == 2
    for text in ("fit_split: fit split 'sideways'", "factors.hbm_efficiency: is a share",
                 "factors.warp_speed: unknown factor", "factors.eager_dispatch_s.gpu: unknown"):
        assert text in result.output, result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["validate", "kernels", "--measured", str(SHIPPED)])
    assert result.exit_code == 2 and "--hardware is required" in result.output


@pytest.mark.slow
def test_fit_split_of_the_h100_file_then_held_out_rows_no_worse_than_shipped(
        tmp_path: Path) -> None:
    """The acceptance check: calibrate on the standard fit split of the H100 kernels (with
    its power rows), validate the held-out rows with the written file."""
    out = tmp_path / "h100.yaml"
    result = runner.invoke(app, ["calibrate", "--measured", str(SHIPPED), "-H", H100,
                                 "--measured-power", str(SHIPPED_POWER), "-o", str(out),
                                 "--max-evaluations", "2", "--json"])
    assert result.exit_code == 0, result.output
    check = runner.invoke(app, ["validate", "kernels", "--measured", str(SHIPPED), "-H", H100,
                                "--measured-power", str(SHIPPED_POWER), "--calibration",
                                str(out), "--json"])
    assert check.exit_code == 0, check.output
    report = loads_strict(check.stdout)
    new = {s["section"]: s for s in report["summary"] if s["set"] == "held-out"}
    old = {s["section"]: s for s in report["summary_shipped_calibration"]
           if s["set"] == "held-out"}
    assert set(new) == {"gemm", "attention", "memory", "host"}
    for section, row in new.items():
        assert row["rows"] == old[section]["rows"]
        assert row["median_abs_error"] <= old[section]["median_abs_error"] + 0.002, section


def test_a_search_spaces_calibration_travels_with_it_and_is_used(tmp_path: Path) -> None:
    import pickle

    from dse.search.evaluation import PointToEvaluate, evaluate_points
    from dse.space import load_space

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "slow-hbm.yaml").write_text(
        "format: dse-calibration/1\nhardware: nvidia-h100-sxm\nfactors: {hbm_efficiency: 0.44}\n")
    text = (root / "search_spaces" / "sram_vs_hbm.yaml").read_text()
    plain = tmp_path / "plain.yaml"
    plain.write_text(text)
    calibrated = tmp_path / "calibrated.yaml"
    calibrated.write_text(text + "\ncalibration: slow-hbm.yaml\n")
    space = pickle.loads(pickle.dumps(load_space(calibrated)))  # as Ray ships it
    assert space.calibration is not None and space.calibration.hbm_efficiency == 0.44
    assert load_space(plain).calibration is None
    point = PointToEvaluate(0, {"memory_route": "hbm", "sram_capacity_mib": 64,
                                "hbm_stacks": 5, "ddr_channels": 8, "clock_mhz": 1800})
    (slow,) = evaluate_points(space, [point])
    (normal,) = evaluate_points(load_space(plain), [point])
    # LLM serving on an HBM design is HBM-bound: half the bandwidth, much lower score
    assert slow.objectives["score"] < 0.75 * normal.objectives["score"]
    # a results folder keeps a copy, and the space loads from the copies alone
    from dse.results.inputs import collect_inputs, load_results_space

    copies = collect_inputs(space)
    results = tmp_path / "results"
    for name, data in copies.contents.items():
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_bytes(data)
    (tmp_path / "slow-hbm.yaml").unlink()
    assert load_results_space(results).calibration == space.calibration
    assert [f.role for f in copies.files] == ["calibration"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\ncalibration: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"calibration: .*missing\.yaml: file not found"):
        load_space(bad)
