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
