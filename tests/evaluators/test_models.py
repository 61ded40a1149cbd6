"""Built-in model catalogue: the names the issue requires, sized as published."""

from __future__ import annotations

import pytest

from evaluators.models import BUILTIN_MODELS, TransformerArchitecture

REQUIRED = ("gpt3-175b", "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "llama3-70b",
            "llama3-405b", "bert-large", "resnet50", "dlrm")


def test_required_names_exist() -> None:
    assert set(REQUIRED) <= set(BUILTIN_MODELS)


@pytest.mark.parametrize(("name", "billions"), [
    ("gpt3-175b", 174.6), ("llama2-7b", 6.74), ("llama2-13b", 13.0), ("llama2-70b", 69.0),
    ("llama3-8b", 8.03), ("llama3-70b", 70.6), ("llama3-405b", 405.9), ("bert-large", 0.334),
])
def test_parameter_counts_match_publications(name: str, billions: float) -> None:
    assert BUILTIN_MODELS[name].params / 1e9 == pytest.approx(billions, rel=0.01)


def test_palm_model_flops_per_token() -> None:
    gpt3 = BUILTIN_MODELS["gpt3-175b"]
    assert isinstance(gpt3, TransformerArchitecture)
    per_token = gpt3.model_flops_per_token_training(2048)
    # 6N (N incl. the logits matmul) + 12 L H Q T with T = 2048.
    expected = 6 * (gpt3.non_embedding_params - 96 * 2 * 12288 + 51200 * 12288) \
        + 12 * 96 * 12288 * 2048
    assert per_token == pytest.approx(expected)
    assert gpt3.kv_hidden == 12288 and gpt3.head_dim == 128
