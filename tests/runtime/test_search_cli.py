"""`dse search` end to end as a user runs it: separate processes, each with its own Ray."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dse.results import read_metadata, read_trials

ROOT = Path(__file__).resolve().parents[2]
DSE = str(Path(sys.executable).parent / "dse")
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
ENV.pop("RAY_ADDRESS", None)


def _start(space: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [DSE, "search", str(ROOT / "search_spaces" / space), "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT,
    )


def test_two_searches_at_once_do_not_interfere_and_print_their_fronts(tmp_path: Path) -> None:
    first = _start("quickstart.yaml", tmp_path / "a", "--trials", "80")
    second = _start("sram_vs_hbm.yaml", tmp_path / "b", "--trials", "70")
    outputs = [p.communicate(timeout=240) for p in (first, second)]
    for process, (stdout, stderr) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, stderr
        assert "Pareto front" in stdout and "trials in" in stdout
    a, b = read_trials(tmp_path / "a"), read_trials(tmp_path / "b")
    assert a["trial_number"].tolist() == list(range(80))
    assert b["trial_number"].tolist() == list(range(70))
    assert "param_memory_route" in b.columns and "param_memory_route" not in a.columns
    assert read_metadata(tmp_path / "a")["suite"] == "llm-serving"
    assert read_metadata(tmp_path / "b")["space_file"].endswith("sram_vs_hbm.yaml")


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    process = _start("quickstart.yaml", out)
    _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "already holds results" in stderr and "--resume" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_a_bad_space_file_never_starts_ray(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "search_spaces" / "quickstart.yaml").read_text()
                   .replace("kind: int", "kind: integer").replace("seed: 0", "seed: zero"))
    script = (
        "import sys\n"
        "from dse.cli import app\n"
        "try:\n"
        f"    app(['search', {str(bad)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('ray imported' if 'ray' in sys.modules else 'ray never imported')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=ENV, cwd=ROOT, timeout=120)
    assert "exit 2" in result.stdout and "ray never imported" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3  # seed and both int parameters, all at once
    assert any("parameters.hbm_stacks.kind" in line for line in errors)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
