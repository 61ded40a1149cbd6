"""Numbers in tables: engineering notation, at most 10 characters, never cut."""

from __future__ import annotations

import csv
import io
import json

import pytest

from dse.browse.render import format_value
from dse.browse.results import unit_from_name
from tests.browse.test_cli import invoke


@pytest.mark.parametrize(("value", "shown"), [
    (2.8361, "2.836"), (579.94, "579.9"), (30745.81, "30.75e3"), (273102753.5, "273.1e6"),
    (4.5e-6, "4.5e-6"), (-85.01e-6, "-85.01e-6"), (999_960.0, "1e6"), (0.0, "0"),
    (1e-3, "0.001"), (9999.4, "9999"), (float("nan"), "-"), (None, "-"), (True, "yes"),
    (12, "12"), (4.089e9, "4.089e9"),
])
def test_engineering_notation(value, shown):
    assert format_value(value) == shown


def test_no_number_is_longer_than_ten_characters():
    for exponent in range(-15, 16):
        for mantissa in (1.0, 1.23456, 9.99951, -7.777):
            assert len(format_value(mantissa * 10.0**exponent)) <= 10


@pytest.mark.parametrize(("name", "unit"), [
    ("metric_kv_cache_bytes_per_chip", "B/chip"), ("output_tokens_per_s_per_chip", "tokens/s/chip"),
    ("energy_per_output_token_j", "J/token"), ("serving_host_s_per_step", "s/step"),
    ("time_per_output_token_s", "s/token"), ("samples_per_s", "samples/s"),
    ("metric_batch", "count"), ("derived_infeasible_workloads", "count"),
    ("die_area_mm2", "mm²"), ("unit_cost_usd", "USD"), ("request_latency_s", "s"),
])
def test_every_metric_name_carries_its_unit(name, unit):
    assert unit_from_name(name) == unit


def test_show_fits_80_columns_and_names_the_period(small_results):
    result = invoke("show", small_results, "17", "--reference", "nvidia-h100-sxm")
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    # the synthetic evaluator's bound times add up to its step time
    assert "(per step)" in result.stdout and "s/step" in result.stdout
    assert "seconds per step, share" not in result.stdout


def test_show_and_compare_write_csv_and_strict_json(small_results):
    as_csv = invoke("compare", small_results, "17", "18", "--hardware", "nvidia-h100-sxm",
                    "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["section", "workload", "name", "unit", "trial 17", "trial 18",
                       "nvidia-h100-sxm"]
    metric = next(r for r in rows if r[0] == "metric" and r[2] == "tokens_per_s")
    assert metric[3] == "tokens/s" and float(metric[4]) > 0
    assert any(r[0] == "period" and r[4] == "step" for r in rows)
    as_json = invoke("show", small_results, "17", "--reference", "nvidia-a100-sxm",
                     "--reference", "nvidia-h100-sxm", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    # strict JSON: NaN would make json.loads with parse_constant raise
    details = json.loads(as_json.stdout, parse_constant=lambda c: pytest.fail(c))
    assert [d["label"] for d in details] == ["trial 17", "nvidia-a100-sxm", "nvidia-h100-sxm"]
