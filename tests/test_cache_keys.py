"""Cache keys hold stable fields only: the same settings give the same key in any process, and
different scripts or servers never share results."""

from __future__ import annotations

import subprocess
import sys

from tenacity import Retrying, stop_after_attempt, stop_after_delay

from storyline.backends.scripted import ScriptedBackend
from storyline.backends.server import server_identity
from storyline.pipeline import Pipeline

_KEY_IN_A_FRESH_PROCESS = (
    "from tenacity import Retrying, stop_after_attempt; from storyline.pipeline import Pipeline; "
    "print(Pipeline(use_cache=False, max_retries=Retrying(stop=stop_after_attempt(3))).calls.cache_extra())")


def test_a_retry_policy_gives_the_same_key_in_every_process():
    here = Pipeline(use_cache=False, max_retries=Retrying(stop=stop_after_attempt(3))).calls.cache_extra()
    there = subprocess.run([sys.executable, "-c", _KEY_IN_A_FRESH_PROCESS], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert repr(here) == there
    assert "0x" not in there  # no memory address
    other = Pipeline(use_cache=False, max_retries=Retrying(stop=stop_after_attempt(4))).calls.cache_extra()
    either = Pipeline(use_cache=False, max_retries=Retrying(stop=stop_after_attempt(3) | stop_after_delay(9)))
    assert len({repr(here), repr(other), repr(either.calls.cache_extra())}) == 3


def test_two_scripts_never_share_an_identity_even_when_queued_after_construction():
    first, second = ScriptedBackend(), ScriptedBackend()
    assert first.identity == second.identity  # the same (empty) script
    first.enqueue([{"events": []}])
    second.enqueue([{"events": [["Call", 1]]}])
    assert first.identity != second.identity
    again = ScriptedBackend([{"events": []}])
    assert again.identity == first.identity  # the same replies, queued at once or later
    assert ScriptedBackend(identity="mine").identity == "mine"


def test_a_servers_identity_follows_its_model_not_its_restarts():
    entry = {"id": "qwen", "object": "model", "created": 1700000000, "owned_by": "me",
             "meta": {"n_params": 1_540_000_000, "size": 1_117_320_768, "n_ctx_train": 32768}}
    restarted = {**entry, "created": 1800000000}
    other_weights = {**entry, "meta": {**entry["meta"], "size": 986_000_000}}
    base = server_identity("http://127.0.0.1:8080", "qwen", entry)
    assert server_identity("http://127.0.0.1:8080", "qwen", restarted) == base
    assert server_identity("http://127.0.0.1:8080", "qwen", other_weights) != base
    assert server_identity("http://127.0.0.1:8080", "qwen", entry, digest="sha256:ab") != base
    assert server_identity("http://127.0.0.1:9090", "qwen", entry) != base


def test_two_responders_from_one_factory_do_not_share_an_identity():
    def answering(title):
        def respond(request):
            return {"events": [[title, 1]]}
        return respond

    def identity(title):
        return ScriptedBackend(responder=answering(title)).identity

    assert identity("Call") != identity("Vote")
    assert identity("Call") == identity("Call")


def test_a_template_the_retry_prompt_includes_is_part_of_its_fingerprint(tmp_path):
    from storyline.templating import PromptSet

    (tmp_path / "retry.j2").write_text('{% include "retry_detail.j2" %}\n{{ error }}')
    (tmp_path / "retry_detail.j2").write_text("That reply did not pass validation:")
    before = PromptSet(tmp_path).fingerprint("retry")
    assert PromptSet(tmp_path).fingerprint("retry") == before
    (tmp_path / "retry_detail.j2").write_text("That reply was not valid:")
    assert PromptSet(tmp_path).fingerprint("retry") != before


def test_the_seed_is_not_part_of_the_key_when_sampling_is_greedy():
    from storyline.backends import GenerationRequest
    from storyline.cache import call_key

    def key(temperature, seed):
        request = GenerationRequest(messages=(("user", "Hello"),), json_schema={"type": "object"}, max_tokens=8,
                                    temperature=temperature, seed=seed)
        return call_key("model", request, "Output")

    assert key(0.0, 1) == key(0.0, 2)
    assert key(0.7, 1) != key(0.7, 2)
    assert key(0.0, 1) != key(0.7, 1)
