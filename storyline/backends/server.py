"""The server backend: any OpenAI-compatible chat completions API (llama.cpp's ``llama-server``,
vLLM, Ollama, llama-cpp-python's server).

The reply is constrained by the JSON schema through the server's own structured output
(``response_format`` of type ``json_schema``); the pipeline validates it anyway, so a server
that ignores the schema is retried and then reported, never trusted. Network faults are retried
with backoff (tenacity); an unreachable server, an unknown model or an HTTP error becomes one
:class:`ServerError` that names the URL and never the API key (read from
``$STORYLINE_API_KEY``, never from a flag).

Token counts come from the server where it has a tokenizer endpoint (llama-server and vLLM:
``/tokenize``; llama-cpp-python: ``/extras/tokenize``); otherwise they are estimates, and
``meta.stats`` says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from ..errors import PromptTooLongError, StorylineError
from ..tokens import Tokenizer, WordTokenizer, chat_prompt_tokens
from . import Generation, GenerationRequest

log = logging.getLogger(__name__)

API_KEY_VARIABLE = "STORYLINE_API_KEY"
MODEL_VARIABLE = "STORYLINE_SERVER_MODEL"


class ServerError(StorylineError):
    """The model server cannot be used (unreachable, wrong model, HTTP error)."""

    exit_code = 2

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


_RESPONSE_FORMATS = {
    "json_schema": lambda schema: {"type": "json_schema",
                                   "json_schema": {"name": "reply", "schema": schema, "strict": True}},
    "json_object": lambda schema: {"type": "json_object", "schema": schema},
}


_ABOUT_THE_FORMAT = re.compile(r"response_format|json_schema|json_object|schema|grammar", re.IGNORECASE)
_ABOUT_THE_CONTEXT = re.compile(
    r"context[ _](?:length|size|window)|exceeds? (?:the )?(?:available )?context|n_ctx|too many tokens",
    re.IGNORECASE)
"""How servers word the two refusals a request can get for what it asks rather than how:
llama-server ("the request exceeds the available context size", "JSON schema conversion
failed"), vLLM and OpenAI ("maximum context length is", "context_length_exceeded"),
llama-cpp-python ("exceed context window")."""


def _refuses_response_format(status: int | None, message: str) -> bool:
    """Whether an HTTP error says the server does not take this ``response_format``: a 400 or
    422 (or the 500 llama-cpp-python's server answers for a request it cannot validate) whose
    body speaks of the format. Any other 400 is about something else and is reported as it is."""
    return status in (400, 422, 500) and bool(_ABOUT_THE_FORMAT.search(message)) and not _too_long(status, message)


def _too_long(status: int | None, message: str) -> bool:
    """Whether an HTTP error says the prompt does not fit the server's context window."""
    return status in (400, 413, 422, 500) and bool(_ABOUT_THE_CONTEXT.search(message))


class ServerOptions(BaseModel):
    """Settings of the server backend (``-O NAME=VALUE``). Unknown names are refused."""

    model_config = ConfigDict(extra="forbid")

    server_model: str | None = Field(None, description="model name on servers that serve several "
                                     "(default: $STORYLINE_SERVER_MODEL, else the server's only model)")
    context_window: int | None = Field(None, ge=512, le=1 << 22, description="tokens; default: what the "
                                       "server reports, else 8192")
    timeout: float = Field(600.0, gt=0, le=86_400, description="seconds to wait for one reply")
    retries: int = Field(4, ge=0, le=20, description="attempts after a network fault")
    parallel: int = Field(4, ge=1, le=256, description="extraction requests in flight")


class ServerTokenizer:
    """Counts with the server's tokenizer endpoint, or estimates (words and punctuation, a
    little over what real tokenizers give for English) where it has none."""

    def __init__(self, backend: ServerBackend):
        self._backend = backend
        self._estimate = WordTokenizer()
        self.name = f"server:{backend.model_name}"

    def count_many(self, texts: list[str]) -> list[int]:
        """One request per text not counted before, up to ``COUNTING_REQUESTS`` at once: a story
        of a hundred articles has thousands of sentences, and a request costs a round trip."""
        if self._backend.tokenizer_endpoint is None:
            return [int(n * 1.3) + 1 for n in self._estimate.count_many(texts)]
        missing = list(dict.fromkeys(text for text in texts if not self._backend.counted(text)))
        if len(missing) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(COUNTING_REQUESTS, len(missing))) as pool:
                list(pool.map(self._backend.count_tokens, missing))
        return [self._backend.count_tokens(text) for text in texts]


COUNTING_REQUESTS = 16
"""Token-count requests a server is sent at once."""


_VOLATILE = frozenset({"created", "object", "owned_by", "permission", "permissions"})
"""Fields of a model list entry that change when a server restarts, not when its model does."""


def server_identity(root: str, model: str, entry: dict, digest: str | None = None) -> str:
    """What shapes a server's replies, as far as it tells: its address, the model's name, the
    stable fields the server lists for it (llama-server's parameter count, size and trained
    context, vLLM's source and window), and a weights digest where the server has one (Ollama)."""
    stable = {key: value for key, value in entry.items() if key not in _VOLATILE}
    material = json.dumps({"root": root, "model": model, "entry": stable, "digest": digest}, sort_keys=True,
                          default=str)
    return "server:" + hashlib.sha256(material.encode()).hexdigest()[:24]


class ServerBackend:
    """A chat completions API at ``base_url`` (for example ``http://127.0.0.1:8080/v1``)."""

    def __init__(self, base_url: str, options: ServerOptions | None = None):
        import httpx

        self.options = options = options or ServerOptions()
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ServerError(f"{base_url} is not a server address; write it as http://HOST:PORT/v1.")
        self.root = f"{parts.scheme}://{parts.netloc}"
        key = os.environ.get(API_KEY_VARIABLE)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(options.timeout, connect=10.0))
        self._counted: dict[str, int] = {}
        self._format_style: str | None = None
        self.model_name, entry = self._pick_model(options.server_model or os.environ.get(MODEL_VARIABLE))
        self._identity = server_identity(self.root, self.model_name, entry, self._ollama_digest())
        self.tokenizer_endpoint = self._find_tokenizer()
        self.counts = "reported by the server" if self.tokenizer_endpoint else "estimated (the server has no tokenizer)"
        self._context = options.context_window or self._server_context() or 8192
        self.tokenizer: Tokenizer = ServerTokenizer(self)
        self.parallel = options.parallel

    # --- the interface ---------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def name(self) -> str:
        return f"{self.model_name} at {self.base_url}"

    @property
    def context_window(self) -> int:
        return self._context

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        # The server's chat template is not known here: the messages' tokens plus a generous
        # framing estimate per turn (what ChatML-style templates add, with room to spare).
        return chat_prompt_tokens(lambda text: self.tokenizer.count_many([text])[0], messages) + 4 * len(messages)

    def generate(self, request: GenerationRequest, progress=None) -> Generation:
        body = {
            "model": self.model_name,
            "messages": [{"role": role, "content": content} for role, content in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
        }
        started = time.perf_counter()
        reply = self._complete(body, request.json_schema)
        seconds = time.perf_counter() - started
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ServerError(f"{self.base_url} answered without a chat completion: {str(reply)[:200]}") from None
        usage = reply.get("usage") or {}
        timings = reply.get("timings") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        evaluated = int(timings.get("prompt_n", prompt))  # llama-server: what its prompt cache did not hold
        return Generation(text=text, prompt_tokens=prompt, prompt_tokens_evaluated=evaluated,
                          completion_tokens=int(usage.get("completion_tokens") or 0), seconds=seconds,
                          finish_reason="length" if choice.get("finish_reason") == "length" else "stop")

    def _complete(self, body: dict, schema: dict) -> Any:
        """A chat completion constrained by ``schema``. Servers name structured output in two
        ways: OpenAI's ``json_schema`` (vLLM, Ollama, llama-server) and ``json_object`` with a
        ``schema`` (llama-server, llama-cpp-python). The first that the server accepts is kept."""
        probing = self._format_style is None
        styles = list(_RESPONSE_FORMATS) if probing else [self._format_style]
        for style in styles:
            try:
                reply = self._post("/chat/completions", {**body, "response_format": _RESPONSE_FORMATS[style](schema)})
            except ServerError as error:
                if _too_long(error.status, str(error)):
                    raise PromptTooLongError(f"{self.base_url} says the prompt does not fit its model's context "
                                             f"window: {error}") from None
                refused = probing and _refuses_response_format(error.status, str(error))
                if refused and style != styles[-1]:
                    continue
                if refused:
                    raise ServerError(f"{self.base_url} refused structured output with a JSON schema in both forms "
                                      f"(response_format json_schema and json_object): {error}. Use a server that "
                                      "supports it (llama-server, vLLM, Ollama, llama-cpp-python).") from None
                raise
            self._format_style = style
            return reply
        raise AssertionError("unreachable")

    # --- HTTP ---------------------------------------------------------------------------------------

    def _retrying(self):
        import httpx
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        def transient(error: BaseException) -> bool:
            if isinstance(error, httpx.TransportError):
                return True
            return (isinstance(error, httpx.HTTPStatusError)
                    and error.response.status_code in (429, 500, 502, 503, 504)
                    and not _refuses_response_format(error.response.status_code, error.response.text)
                    and not _too_long(error.response.status_code, error.response.text))

        return Retrying(stop=stop_after_attempt(self.options.retries + 1), retry=retry_if_exception(transient),
                        wait=wait_exponential(multiplier=0.5, max=10), reraise=True)

    def _request(self, method: str, url: str, body: dict | None = None) -> Any:
        import httpx

        try:
            for attempt in self._retrying():
                with attempt:
                    response = self._client.request(method, url, json=body)
                    response.raise_for_status()
                    return response.json()
        except httpx.ConnectError:
            raise ServerError(f"Cannot reach the model server at {self.base_url}. Check that it is running and "
                              "the address is right.") from None
        except httpx.TimeoutException:
            raise ServerError(f"The model server at {self.base_url} did not answer within "
                              f"{self.options.timeout:.0f} s (-O timeout=SECONDS).") from None
        except httpx.HTTPStatusError as error:
            raise ServerError(_status_message(url, error.response), status=error.response.status_code) from None
        except httpx.TransportError as error:
            raise ServerError(f"The connection to {self.base_url} failed: {type(error).__name__}.") from None
        except json.JSONDecodeError:
            raise ServerError(f"{url} did not answer with JSON; is it an OpenAI-compatible API?") from None
        raise AssertionError("unreachable")

    def _post(self, path: str, body: dict) -> Any:
        return self._request("POST", self.base_url + path, body)

    def _pick_model(self, wanted: str | None) -> tuple[str, dict]:
        """The model to use and its entry in the server's list."""
        listing = self._request("GET", self.base_url + "/models")
        entries = {entry.get("id"): entry for entry in listing.get("data", []) if isinstance(entry, dict)}
        names = list(entries)
        if wanted:
            if names and wanted not in names:
                raise ServerError(f"The server at {self.base_url} has no model {wanted!r}; it serves "
                                  f"{', '.join(map(repr, names))}. Choose one with -O server_model=NAME or "
                                  f"${MODEL_VARIABLE}.")
            return wanted, entries.get(wanted, {})
        if len(names) == 1:
            return names[0], entries[names[0]]
        if not names:
            raise ServerError(f"The server at {self.base_url} lists no model; name one with -O server_model=NAME.")
        raise ServerError(f"The server at {self.base_url} serves several models ({', '.join(map(repr, names))}); "
                          f"choose one with -O server_model=NAME or ${MODEL_VARIABLE}.")

    def _ollama_digest(self) -> str | None:
        """Ollama's SHA-256 of the model's weights, from its own API (``/api/tags``), if this is
        an Ollama server; other servers do not publish one."""
        import httpx

        try:
            response = self._client.get(self.root + "/api/tags", timeout=5)
            for model in response.json().get("models", []) if response.status_code == 200 else []:
                if model.get("name") == self.model_name or model.get("model") == self.model_name:
                    return str(model.get("digest") or "") or None
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        return None

    def _find_tokenizer(self) -> tuple[str, str] | None:
        """The server's tokenizer endpoint and the name of its text field, if one answers:
        llama-server's ``/tokenize`` takes ``content``, vLLM's ``prompt``, llama-cpp-python's
        ``/extras/tokenize`` ``input``."""
        import httpx

        for path, field in (("/tokenize", "content"), ("/tokenize", "prompt"), ("/extras/tokenize", "input")):
            try:
                response = self._client.post(self.root + path, json={field: "probe", "model": self.model_name})
                if response.status_code == 200 and isinstance(response.json().get("tokens"), list):
                    return path, field
            except (httpx.HTTPError, ValueError, AttributeError):
                continue
        return None

    def counted(self, text: str) -> bool:
        return text in self._counted

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the server's tokenizer (each text asked once)."""
        if self.tokenizer_endpoint is None:
            raise ServerError(f"The server at {self.base_url} has no tokenizer endpoint.")
        if text not in self._counted:
            path, field = self.tokenizer_endpoint
            reply = self._request("POST", self.root + path, {field: text, "model": self.model_name})
            self._counted[text] = len(reply["tokens"])
        return self._counted[text]

    def _server_context(self) -> int | None:
        """The context size the server reports (llama-server ``/props``, vLLM ``max_model_len``)."""
        import httpx

        try:
            props = self._client.get(self.root + "/props")
            if props.status_code == 200:
                size = props.json().get("default_generation_settings", {}).get("n_ctx")
                if size:
                    return int(size)
            listing = self._client.get(self.base_url + "/models").json()
            for entry in listing.get("data", []):
                if entry.get("id") == self.model_name and entry.get("max_model_len"):
                    return int(entry["max_model_len"])
        except (httpx.HTTPError, ValueError, TypeError, AttributeError):
            return None
        return None

    def close(self) -> None:
        self._client.close()


def _status_message(url: str, response) -> str:
    detail = ""
    try:
        payload = response.json()
        detail = str(payload.get("error", payload))[:200] if isinstance(payload, dict) else str(payload)[:200]
    except ValueError:
        detail = response.text[:200]
    if response.status_code in (401, 403):
        return (f"{url} refused the request ({response.status_code}): set ${API_KEY_VARIABLE} to a key the "
                "server accepts.")
    if response.status_code == 404:
        return f"{url} was not found (404): is {url.rsplit('/', 1)[0]} the server's /v1 address? {detail}"
    return f"{url} answered {response.status_code}: {detail}"
