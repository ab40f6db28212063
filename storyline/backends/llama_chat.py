"""Chat prompts for llama.cpp models: formatted with the model's own template, tokenized so that
only the template's framing can become control tokens; and the model's own token counter."""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ..errors import ModelUnavailableError

log = logging.getLogger(__name__)


class TokenizingModel(Protocol):
    """What chat formatting and counting need of a model: ``llama_cpp.Llama`` (vocabulary only,
    for a dry run) and ``LlamaEngine`` both offer it."""

    model: Any
    metadata: dict[str, str]

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]: ...

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> bytes: ...

    def token_bos(self) -> int: ...

    def token_eos(self) -> int: ...


_BUILTIN_BY_TOKEN = (("<start_of_turn>", "gemma"), ("<|im_start|>", "chatml"), ("<|start_header_id|>", "llama3"))
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ChatPrompt:
    """Formats chat messages with the model's template and tokenizes them so that only the
    template's own framing can become control tokens.

    Each message is rendered as a placeholder; the template's text around the placeholders is
    tokenized with special tokens, the messages' own text (article sentences, the model's
    earlier replies) without. An article containing ``<|im_end|>`` or ``<start_of_turn>`` stays
    text. A GGUF without a template gets llama.cpp's built-in one for the turn markers its
    vocabulary has.
    """

    def __init__(self, llm: TokenizingModel, name: str):
        self._llm = llm
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._bos = llama_cpp.llama_vocab_bos(vocab)
        self._add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab)) and self._bos >= 0
        template = llm.metadata.get("tokenizer.chat_template")
        self._builtin: str | None = None
        self._formatter: Jinja2ChatFormatter | None = None
        if template:
            eos, bos = llm.token_eos(), llm.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template, eos_token=self._piece(eos), bos_token=self._piece(bos))
        else:
            self._builtin = next((kind for marker, kind in _BUILTIN_BY_TOKEN if self._is_control(marker)), None)
            if self._builtin is None:
                log.warning("%s has no chat template; using ChatML", name)
                self._formatter = Jinja2ChatFormatter(template=_CHATML, eos_token="", bos_token="")

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _is_control(self, text: str) -> bool:
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=True)) == 1

    def format(self, messages: tuple[tuple[str, str], ...]) -> str:
        if self._formatter is not None:
            chat = [{"role": role, "content": content} for role, content in messages]
            return self._formatter(messages=chat).prompt
        return _apply_builtin(self._builtin or "chatml", messages)

    def tokens(self, messages: tuple[tuple[str, str], ...]) -> list[int]:
        marks = [f"\ue000{index}\ue001" for index in range(len(messages))]
        framed = self.format(tuple((role, mark) for (role, _), mark in zip(messages, marks, strict=True)))
        tokens: list[int] = []
        cursor = 0
        for mark, (_, content) in zip(marks, messages, strict=True):
            at = framed.find(mark, cursor)
            if at < 0:
                raise ModelUnavailableError(
                    "the model's chat template rewrites message text, so storyline cannot keep article "
                    "text apart from its control tokens; use a model with a standard chat template.")
            tokens += self._encode(framed[cursor:at], special=True)
            tokens += self._encode(content, special=False)
            cursor = at + len(mark)
        tokens += self._encode(framed[cursor:], special=True)
        if self._add_bos and (not tokens or tokens[0] != self._bos):
            tokens.insert(0, self._bos)
        return tokens

    def _encode(self, text: str, *, special: bool) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []


def _apply_builtin(kind: str, messages: tuple[tuple[str, str], ...]) -> str:
    """A prompt through one of llama.cpp's built-in templates (``llama_chat_apply_template``)."""
    chat = (llama_cpp.llama_chat_message * len(messages))()
    keep = []
    for slot, (role, content) in zip(chat, messages, strict=True):
        role_bytes, content_bytes = role.encode(), content.encode()
        keep += [role_bytes, content_bytes]
        slot.role, slot.content = role_bytes, content_bytes
    size = 2 * sum(len(b) for b in keep) + 256
    buffer = ctypes.create_string_buffer(size)
    needed = llama_cpp.llama_chat_apply_template(kind.encode(), chat, len(messages), True, buffer, size)
    if needed > size:
        buffer = ctypes.create_string_buffer(needed)
        needed = llama_cpp.llama_chat_apply_template(kind.encode(), chat, len(messages), True, buffer, needed)
    if needed < 0:
        raise ModelUnavailableError(f"llama.cpp has no built-in chat template {kind!r}")
    return buffer.raw[:needed].decode("utf-8")


class LlamaTokenizer:
    """The loaded model's own tokenizer."""

    def __init__(self, llm: TokenizingModel, name: str):
        self._llm = llm
        self.name = name

    def count_many(self, texts: list[str]) -> list[int]:
        tokenize = self._llm.tokenize
        return [len(tokenize(text.encode("utf-8"), add_bos=False, special=False)) for text in texts]
