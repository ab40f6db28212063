from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if (SHARED / "tiktoken").is_dir():
    # No network here: use the shared copy of tiktoken's cl100k_base cache file.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED / "tiktoken"))

SEEDS = ROOT / "seeds"

_TIME_WORDS = re.compile(
    r"\b(on (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|last month|last August|"
    r"since March 2022|in February|over the weekend|overnight|recently|within weeks|this week)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"^(\d+)\. (.*)$", re.M)
_NAMES = ("Trump", "Putin", "Zelensky", "Witkoff", "Rubio", "Kremlin", "Macron", "Starmer", "Waltz")


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
    events = []
    for number, text in _SENTENCE.findall(user):
        match = _TIME_WORDS.search(text)
        if not match:
            continue
        status = "expected" if re.search(r"\b(will|set to|plans|to discuss|to speak|upcoming)\b", text) else "happened"
        events.append({
            "t": " ".join(text.split()[:8]),
            "w": match.group(0),
            "st": status,
            "s": [int(number)],
            "a": [name for name in _NAMES if name in text][:3],
        })
    return {"e": events[:16]}


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
