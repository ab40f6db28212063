"""How the server backend reads a server's refusals: a prompt too long for its window, a
structured-output form it does not take (only while the form is being chosen), anything else."""

from __future__ import annotations

import pytest

# What servers answer, as their sources word it (llama-server, vLLM/OpenAI, llama-cpp-python).
TOO_LONG = [
    (400, '{"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it", '
          '"type": "exceed_context_size_error"}}'),
    (400, "{'message': \"This model's maximum context length is 2048 tokens. However, you requested 2300 tokens "
          "(2200 in the messages, 100 in the completion).\", 'code': 'context_length_exceeded'}"),
    (400, "Requested tokens (3000) exceed context window of 2048"),
]
FORMAT_REFUSED = [
    (400, '{"error": {"message": "Unrecognized response_format type: json_schema"}}'),
    (422, '{"detail": [{"loc": ["body", "response_format", "type"], "msg": "unexpected value"}]}'),
    (500, '{"error": {"message": "JSON schema conversion failed: unsupported keyword prefixItems"}}'),
]
OTHER = [(400, '{"error": {"message": "temperature must be at most 2"}}'), (422, '{"detail": "messages: empty"}'),
         (500, '{"error": "out of memory"}')]


def test_a_servers_answers_are_told_apart_by_what_they_say():
    from storyline.backends.server import _refuses_response_format, _too_long

    assert all(_too_long(status, body) and not _refuses_response_format(status, body) for status, body in TOO_LONG)
    assert all(_refuses_response_format(status, body) and not _too_long(status, body)
               for status, body in FORMAT_REFUSED)
    assert not any(_refuses_response_format(status, body) or _too_long(status, body) for status, body in OTHER)


def _answering(errors):
    """A ServerBackend whose HTTP answers are ``errors`` in turn (a ServerError each), then a
    reply; what it was sent is kept in ``sent``."""
    from storyline.backends.server import ServerBackend, ServerError

    backend = object.__new__(ServerBackend)  # no server: only the structured-output choice is tried
    backend.base_url, backend._format_style, backend.sent = "http://127.0.0.1:1/v1", None, []

    def post(path, body):
        backend.sent.append(body["response_format"]["type"])
        if errors:
            status, text = errors.pop(0)
            raise ServerError(f"{backend.base_url}{path} answered {status}: {text}", status=status)
        return {"choices": [{"message": {"content": "{}"}}]}

    backend._post = post
    return backend


def test_a_format_refusal_is_read_only_while_probing_and_a_context_error_is_prompt_too_long():
    from storyline.backends.server import ServerError
    from storyline.errors import PromptTooLongError

    probing = _answering([FORMAT_REFUSED[0]])
    assert probing._complete({}, {}) and probing.sent == ["json_schema", "json_object"]
    assert probing._format_style == "json_object"
    later = _answering([OTHER[0]])
    later._format_style = "json_object"
    with pytest.raises(ServerError) as caught:
        later._complete({}, {})
    assert "both forms" not in str(caught.value) and "temperature" in str(caught.value)
    too_long = _answering([TOO_LONG[0]])
    with pytest.raises(PromptTooLongError):
        too_long._complete({}, {})
    assert too_long.sent == ["json_schema"]  # not asked again in the other form
    known = _answering([FORMAT_REFUSED[1]])
    known._format_style = "json_schema"
    with pytest.raises(ServerError) as caught:
        known._complete({}, {})
    assert "both forms" not in str(caught.value)
