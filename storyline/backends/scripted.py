"""A scripted backend: answers from a queue or a function. For tests and benchmarks.

    backend = ScriptedBackend()
    backend.enqueue([{"events": [...]}, {"sentences": ["A neutral summary."]}])

Every request is recorded in ``backend.requests`` so tests can assert what was asked.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from ..errors import PromptTooLongError
from ..tokens import Tokenizer, WordTokenizer, chat_prompt_tokens
from . import Generation, GenerationRequest

Response = str | dict[str, Any] | BaseModel | BaseException


def _responder_digest(responder: Callable | None, _seen: frozenset[int] = frozenset()) -> bytes:
    """The responder's name, code and the values it closes over (a function a factory made
    closes over the factory's arguments), so two scripts' functions do not share cached results."""
    if responder is None or id(responder) in _seen:  # a function that closes over itself
        return b""
    code = getattr(responder, "__code__", None)
    named = f"{getattr(responder, '__module__', '')}.{getattr(responder, '__qualname__', '')}".encode()
    digest = named + (code.co_code + repr(code.co_consts).encode() if code is not None else b"")
    for cell in getattr(responder, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        inner = _responder_digest(value, _seen | {id(responder)}) if callable(value) else repr(value).encode()
        digest += b"\0" + inner
    return digest


class ScriptedBackend:
    """Implements the backend interface without a model.

    Responses are taken from the queue first, then from ``responder(request)``. A queued
    exception is raised instead of answering (to simulate crashes and interrupts). Token counts
    use ``tokenizer`` (by default a word count, which needs no download); prompt tokens
    "evaluated" model llama.cpp's prefix reuse: only the part after the prefix shared with the
    previous prompt counts.
    """

    def __init__(
        self,
        responses: Iterable[Response] = (),
        *,
        responder: Callable[[GenerationRequest], Response] | None = None,
        context_window: int = 8192,
        tokenizer: Tokenizer | None = None,
        identity: str | None = None,
    ):
        self._queue: deque[Response] = deque()
        self._responder = responder
        self._context_window = context_window
        self.tokenizer = tokenizer or WordTokenizer()
        self._fixed_identity = identity
        self._script = hashlib.sha256(_responder_digest(responder))
        self.enqueue(responses)
        self._counts: dict[str, int] = {}
        self._previous: tuple[tuple[str, str], ...] = ()
        self.requests: list[GenerationRequest] = []

    @property
    def identity(self) -> str:
        """The given identity, else one that follows the script: the responder's code and every
        reply queued so far (``enqueue`` after construction counts too), so two scripts never
        share cached results."""
        return self._fixed_identity or "scripted:" + self._script.hexdigest()[:16]

    parallel = 1
    counts = "estimated by the scripted backend"

    @property
    def name(self) -> str:
        return "scripted"

    @property
    def context_window(self) -> int:
        return self._context_window

    def enqueue(self, responses: Iterable[Response]) -> None:
        for response in responses:
            self._queue.append(response)
            self._script.update(repr(response).encode() + b"\x00")

    def close(self) -> None:
        """Nothing to free (the backend interface's ``close``)."""

    def _count(self, text: str) -> int:
        if text not in self._counts:
            self._counts[text] = self.tokenizer.count_many([text])[0]
        return self._counts[text]

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return chat_prompt_tokens(self._count, messages)

    def generate(self, request: GenerationRequest, progress=None) -> Generation:
        """The next queued reply, else the responder's. A prompt that leaves no room for a reply
        in ``context_window`` is refused as a model's backend refuses it."""
        self.requests.append(request)
        prompt_tokens = self.count_prompt_tokens(request.messages)
        if prompt_tokens >= self._context_window:
            raise PromptTooLongError(f"The prompt has {prompt_tokens} tokens; the window holds {self._context_window}.",
                                     prompt_tokens=prompt_tokens, context_window=self._context_window)
        if self._queue:
            response = self._queue.popleft()
        elif self._responder is not None:
            response = self._responder(request)
        else:
            raise RuntimeError("ScriptedBackend: no response queued for this request")
        if isinstance(response, BaseException):
            raise response
        if isinstance(response, BaseModel):
            text = response.model_dump_json()
        elif isinstance(response, str):
            text = response
        else:
            text = json.dumps(response)
        shared = 0
        for old, new in zip(self._previous, request.messages, strict=False):
            if old != new:
                break
            shared += 1
        self._previous = request.messages
        total = self.count_prompt_tokens(request.messages)
        reused = self.count_prompt_tokens(request.messages[:shared]) - 3 if shared else 0
        return Generation(
            text=text,
            prompt_tokens=total,
            prompt_tokens_evaluated=total - reused,
            completion_tokens=self._count(text),
        )
