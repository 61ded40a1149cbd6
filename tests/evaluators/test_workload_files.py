"""Model-level workload files: the issue's example parses; every problem is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from dse.errors import ConfigError
from evaluators import load_model_workloads
from evaluators.models import TransformerArchitecture
from evaluators.workload_files import is_model_workload_file

ISSUE_EXAMPLE = """\
name: gpt-175b-pretrain
kind: training                 # training | inference
model: gpt3-175b               # built-in name, or an inline architecture:
precision: bf16
seq_len: 2048
global_batch: 1536             # sequences per optimizer step
recompute: selective
system: {chips: 1024, tensor_parallel: 8, pipeline_parallel: 8, data_parallel: 16, micro_batch: 1,
         zero_stage: 1}        # 0-3: ZeRO/FSDP sharding of optimizer state, gradients, parameters
---
name: llama2-70b-serving
kind: inference
model: llama2-70b
precision: fp8
prompt_tokens: 1024
output_tokens: 1024
batch: auto
system: {chips: 8, tensor_parallel: 8}
---
name: resnet50-train
kind: training
model: resnet50
precision: bf16
batch: 256
"""


def test_issue_example_parses(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(ISSUE_EXAMPLE)
    assert is_model_workload_file(path)
    gpt, llama, resnet = load_model_workloads(path)
    assert (gpt.evaluator, llama.evaluator, resnet.evaluator) == (
        "transformer_training", "transformer_inference", "cnn")
    assert gpt.system.data_parallel == 16 and gpt.system.zero_stage == 1
    assert gpt.recompute == "selective" and gpt.global_batch == 1536
    assert llama.batch is None  # auto
    assert resnet.global_batch == 256


def test_inline_architecture(tmp_path: Path) -> None:
    path = tmp_path / "inline.yaml"
    path.write_text("""\
name: custom
kind: training
model: {layers: 96, hidden: 12288, heads: 96, kv_heads: 96, ffn_hidden: 49152,
        vocab: 51200, ffn_kind: gelu}
seq_len: 2048
global_batch: 64
system: {chips: 64, tensor_parallel: 8, pipeline_parallel: 8}
""")
    (workload,) = load_model_workloads(path)
    assert isinstance(workload.model, TransformerArchitecture)
    assert workload.model.params == pytest.approx(174.6e9, rel=0.01)
    assert workload.system.data_parallel == 1


def test_every_problem_at_once_with_key_paths(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("""\
name: a
kind: training
model: gpt3-175b
precision: bf17
seq_len: 2048
global_batch: 100
colour: blue
system: {chips: 1000, tensor_parallel: 7, pipeline_parallel: 8, data_parallel: 16}
---
name: b
kind: inference
model: gpt-5
---
name: c
kind: serving
model: llama3-8b
""")
    with pytest.raises(ConfigError) as info:
        load_model_workloads(path)
    text = str(info.value)
    problems = {(p.key_path, p.message.split(" ")[0]) for p in info.value.problems}
    assert all(p.source == str(path) for p in info.value.problems)
    assert "document[0].colour" in text  # extra keys are forbidden
    assert "document[1].model" in text and "gpt-5" in text
    assert "document[2].kind" in text
    # The bad colour is a schema error; the plan problems of document 0 are not reached
    # until it is fixed, but documents 1 and 2 are still checked in the same pass.
    assert len(problems) >= 3


def test_plan_problems_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("""\
name: a
kind: training
model: gpt3-175b
precision: bf17
seq_len: 2048
global_batch: 100
system: {chips: 1000, tensor_parallel: 7, pipeline_parallel: 5, data_parallel: 16}
""")
    with pytest.raises(ConfigError) as info:
        load_model_workloads(path)
    keys = sorted(p.key_path for p in info.value.problems)
    assert keys == ["global_batch", "precision", "system.chips", "system.pipeline_parallel",
                    "system.tensor_parallel"]


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_model_workloads(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="no workload"):
        load_model_workloads(empty)
    assert not is_model_workload_file(empty)


def test_evaluator_must_fit_model_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "mismatch.yaml"
    path.write_text("name: x\nkind: training\nmodel: llama2-7b\nevaluator: mixed_pipeline\n"
                    "seq_len: 2048\nglobal_batch: 8\n---\nname: y\nkind: training\n"
                    "model: resnet50\nevaluator: nope\nbatch: 8\n")
    with pytest.raises(ConfigError) as info:
        load_model_workloads(path)
    messages = {p.key_path: p.message for p in info.value.problems}
    assert "transformer" in messages["document[0].evaluator"]
    assert "unknown evaluator" in messages["document[1].evaluator"]


def test_serving_software_is_optional_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "serving.yaml"
    path.write_text("name: a\nkind: inference\nmodel: llama3-8b\nprompt_tokens: 128\n"
                    "output_tokens: 128\nbatch: 4\nserving: {software: vllm-2024}\n---\n"
                    "name: b\nkind: inference\nmodel: llama3-8b\nprompt_tokens: 128\n"
                    "output_tokens: 128\nbatch: 4\n")
    first, second = load_model_workloads(path)
    assert first.serving_software == "vllm-2024"
    assert second.serving_software == "ideal"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: a\nkind: inference\nmodel: llama3-8b\nprompt_tokens: 128\n"
                   "output_tokens: 128\nbatch: 4\nserving: {software: vllm-2019}\n---\n"
                   "name: b\nkind: training\nmodel: resnet50\nbatch: 8\n"
                   "serving: {software: vllm-2024}\n")
    with pytest.raises(ConfigError) as info:
        load_model_workloads(bad)
    keys = sorted(p.key_path for p in info.value.problems)
    assert keys == ["document[0].serving.software", "document[1].serving"]
