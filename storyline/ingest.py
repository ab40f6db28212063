"""Read articles: files, directories and stdin, with optional metadata.

Metadata comes from YAML front matter at the top of a file, or from a ``manifest.toml`` in the
article's directory that maps file names to tables of metadata (with an optional ``[defaults]``
table)::

    [defaults]
    published = 2025-03-17

    ["004_f550f66cc359bc1c.txt"]
    title = "..."
    published = 2025-03-18

Known keys: id, title, source, url, published. Nothing about one article stops the others: a
file that cannot be read, an unknown key or a value that is not a date is reported (in
``problems``) and that file or that value is left out. Articles with the same text under two
names are read once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import InputError
from .models import Article

ARTICLE_SUFFIXES = (".txt", ".md")
MANIFEST_NAME = "manifest.toml"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)


class ArticleMeta(BaseModel):
    """Metadata as written in front matter or a manifest; each key checked on its own."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: dt.date | None = None

    @field_validator("id", "title", "source", "url", mode="before")
    @classmethod
    def _scalar_as_text(cls, value: Any) -> Any:
        """``title: 1984`` is the title "1984", not an error; a list or table is an error."""
        if isinstance(value, bool) or value is None:
            return None if value is None else str(value).lower()
        if isinstance(value, int | float | dt.date):
            return str(value)
        return value

    @field_validator("published", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            return parse_date(value, where="")
        return value


def parse_date(value: Any, *, where: str) -> dt.date | None:
    """A publication date from metadata or the command line: a date or YYYY-MM-DD text."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        prefix = f"{where}: " if where else ""
        raise InputError(
            f"{prefix}publication date {value!r} is not a date. Write it as YYYY-MM-DD, for example 2025-03-17."
        ) from None


def clean_meta(raw: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """The usable keys of a metadata mapping; each unknown key or bad value is reported and left out."""
    kept: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            checked = ArticleMeta.model_validate({str(key): value})
        except (ValidationError, InputError) as error:
            if isinstance(error, ValidationError) and error.errors()[0]["type"] == "extra_forbidden":
                known = ", ".join(ArticleMeta.model_fields)
                problems.append(f"{where}: unknown metadata key {key!r} is ignored (known keys: {known}).")
            else:
                detail = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
                problems.append(f"{where}: metadata {key!r} = {value!r} is ignored ({detail}).")
            continue
        kept[str(key)] = getattr(checked, str(key))
    return kept


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "article"


def read_manifest(directory: Path, problems: list[str]) -> dict[str, dict[str, Any]]:
    """A folder's manifest as {file name: metadata} ("" holds the defaults). Problems are
    reported and the rest of the manifest still applies."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        problems.append(f"{path}: not valid TOML ({error}); its metadata is not used. Fix the manifest.")
        return {}
    except OSError as error:
        problems.append(f"{path} cannot be read ({error.strerror}); its metadata is not used.")
        return {}
    defaults = data.pop("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"{path}: `defaults` must be a table ([defaults]); it is ignored.")
        defaults = {}
    manifest = {"": clean_meta(defaults, f"{path} [defaults]", problems)}
    for name, meta in data.items():
        if not isinstance(meta, dict):
            problems.append(f"{path}: `{name} = {meta!r}` is not a table; put shared values under [defaults] "
                            "and each file's under [\"file name\"]. It is ignored.")
            continue
        if not (directory / name).is_file():
            problems.append(f"{path}: the entry for {name!r} names no file in {directory}; it is ignored.")
            continue
        manifest[name] = {**manifest[""], **clean_meta(meta, f"{path} [{name}]", problems)}
    return manifest


def _split_front_matter(text: str, where: str, problems: list[str]) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        # BaseLoader keeps every value as written (no dates built by YAML, so "2025-02-30" is
        # reported by our own check instead of raising inside the parser).
        meta = yaml.load(match.group(1), Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as error:
        problems.append(f"{where}: the front matter is not valid YAML ({error}); it is ignored.")
        return {}, text[match.end():]
    if not isinstance(meta, dict):
        problems.append(f"{where}: the front matter must be a mapping of keys to values; it is ignored.")
        return {}, text[match.end():]
    return clean_meta(meta, where, problems), text[match.end():]


def _article(text: str, meta: dict[str, Any], *, where: str, default_id: str,
             default_published: dt.date | None, path: str | None) -> Article:
    if not text.strip():
        raise InputError(f"{where} is empty: give it the article's text, or leave it out.")
    if "\x00" in text:
        raise InputError(f"{where} holds binary data (NUL bytes), not text; leave it out.")
    return Article(
        id=_slug(str(meta.get("id") or default_id)),
        text=text,
        title=meta.get("title") or title_from_text(text),
        source=meta.get("source"),
        url=meta.get("url"),
        published=meta.get("published") or default_published,
        path=path,
    )


TITLE_WORDS = 10


def title_from_text(text: str) -> str | None:
    """A title for an article whose metadata gives none, so every source is named by words and
    never by a file name: its first line if that reads as a headline, else its opening words."""
    from .chunk import is_heading

    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return None
    if is_heading(first.lstrip("# ")) or first.startswith("#"):
        return first.lstrip("# ").strip()
    words = first.split()
    return " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")


def _decode(raw: bytes, where: str) -> str:
    """UTF-8 (with or without a byte-order mark), or UTF-16 with one; line ends made "\\n"."""
    encodings = ("utf-16", "utf-8-sig") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",)
    for encoding in encodings:
        try:
            return raw.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise InputError(f"{where} is not UTF-8 text. Convert it to UTF-8 (or leave it out).")


def read_file(path: Path, *, default_published: dt.date | None = None,
              manifest: dict[str, dict[str, Any]] | None = None, problems: list[str] | None = None) -> Article:
    """One article file, with its front matter and manifest entry applied."""
    where = str(path)
    problems = problems if problems is not None else []
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{where} cannot be read: {error.strerror}.") from None
    meta, text = _split_front_matter(_decode(raw, where), where, problems)
    entries = manifest if manifest is not None else read_manifest(path.parent, problems)
    merged = {**entries.get("", {}), **entries.get(path.name, {}), **meta}
    return _article(text, merged, where=where, default_id=path.stem,
                    default_published=default_published, path=where)


def _expand(path: Path, problems: list[str]) -> list[Path]:
    try:
        path.stat()
    except OSError as error:
        if error.errno == getattr(os, "ELOOP", -1) or "symbolic links" in str(error):
            raise InputError(f"{path} is a loop of symbolic links; point to the real file or folder.") from None
        if path.is_symlink():
            raise InputError(f"{path} is a symbolic link to something that does not exist.") from None
        raise InputError(f"{path} does not exist. Check the path, or give a folder of .txt/.md articles.") from None
    if path.is_dir():
        return _walk(path, problems)
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise InputError(f"{path}: only .txt and .md articles can be read (or - for stdin); HTML and other "
                         "formats are not read: save the article's text as .txt.")
    return [path]


def _walk(folder: Path, problems: list[str]) -> list[Path]:
    found: list[Path] = []
    others: list[str] = []

    def unreadable(error: OSError) -> None:
        problems.append(f"{error.filename} cannot be read ({error.strerror}); its articles are left out.")

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name == MANIFEST_NAME:
                continue
            (found if Path(name).suffix.lower() in ARTICLE_SUFFIXES else others).append(str(Path(root) / name))
    if others:
        listed = ", ".join(Path(o).name for o in others[:5]) + (", ..." if len(others) > 5 else "")
        problems.append(f"{folder}: {len(others)} file(s) that are not .txt or .md are not read ({listed}); "
                        "storyline reads plain text and Markdown, so save HTML or PDF articles as text.")
    if not found:
        problems.append(f"{folder} holds no .txt or .md articles.")
    return sorted(Path(p) for p in found)


def _read_stdin(stdin: TextIO | BinaryIO | None) -> str:
    source = stdin if stdin is not None else sys.stdin
    buffer = getattr(source, "buffer", None)
    raw = (buffer or source).read()
    if isinstance(raw, bytes):
        return _decode(raw, "stdin")
    return raw


def load_articles(
    inputs: Iterable[str | Path | Article],
    *,
    published: dt.date | None = None,
    stdin: TextIO | BinaryIO | None = None,
    problems: list[str] | None = None,
) -> list[Article]:
    """Read every input into an :class:`Article` with a stable, unique id.

    Paths that do not exist raise :class:`InputError` at once (a mistake on the command line);
    a file that exists but cannot be used is reported in ``problems`` and skipped, so one bad
    article does not lose the others. ``published`` is the default publication date.
    """
    articles: list[Article] = []
    skipped = problems if problems is not None else []
    manifests: dict[Path, dict[str, dict[str, Any]]] = {}
    for item in inputs:
        if isinstance(item, Article):
            if published and not item.published:
                item = item.model_copy(update={"published": published})
            articles.append(item)
            continue
        if str(item) == "-":
            try:
                meta, body = _split_front_matter(_read_stdin(stdin), "stdin", skipped)
                digest = hashlib.sha256(body.encode()).hexdigest()[:10]
                articles.append(_article(body, meta, where="stdin", default_id=f"stdin-{digest}",
                                         default_published=published, path=None))
            except InputError as error:
                skipped.append(str(error))
            continue
        for path in _expand(Path(item), skipped):
            if path.parent not in manifests:
                manifests[path.parent] = read_manifest(path.parent, skipped)
            try:
                articles.append(read_file(path, default_published=published, manifest=manifests[path.parent],
                                          problems=skipped))
            except InputError as error:
                skipped.append(str(error))
    if not articles:
        detail = " ".join(skipped)
        raise InputError("No usable articles were given." + (f" {detail}" if detail else ""))
    return _unique_ids(drop_duplicates(articles, skipped))


def undated(articles: list[Article]) -> list[str]:
    """A warning for each article without a publication date: its relative dates cannot be placed."""
    return [f"{article.id} has no publication date, so its relative dates (\"on Tuesday\") cannot be placed; "
            "give one with --published YYYY-MM-DD or in its metadata." for article in articles
            if article.published is None]


def _unique_ids(articles: list[Article]) -> list[Article]:
    seen: dict[str, int] = {}
    unique = []
    for article in articles:
        count = seen.get(article.id, 0)
        seen[article.id] = count + 1
        if count:
            article = article.model_copy(update={"id": f"{article.id}-{count + 1}"})
        unique.append(article)
    return unique


# --- the same article twice --------------------------------------------------------------------

NEAR_DUPLICATE = 0.9
"""Share of word 5-grams two articles must have in common to count as the same article."""
_BANDS, _ROWS = 8, 4
_WORDS = re.compile(r"\w+")


def _shingles(text: str) -> set[int]:
    import zlib

    words = _WORDS.findall(text.casefold())
    return {zlib.crc32(" ".join(words[i:i + 5]).encode()) for i in range(max(len(words) - 4, 1))}


def drop_duplicates(articles: list[Article], problems: list[str]) -> list[Article]:
    """Articles whose texts share at least ``NEAR_DUPLICATE`` of their word 5-grams are one
    article, counted once (the first kept) and reported, so one story syndicated under two
    names is not two independent sources.

    Candidates are found by MinHash with banding (locality-sensitive hashing), so the check
    stays linear in the number of articles; only candidates are compared exactly. Written here
    because it is a few lines over numpy, and a dependency for it would be larger than the code.
    """
    import numpy as np

    if len(articles) < 2:
        return articles
    shingles = [np.fromiter(_shingles(a.text), dtype=np.uint64) for a in articles]
    seeds = np.random.default_rng(0).integers(1, 2**31 - 1, size=(2, _BANDS * _ROWS), dtype=np.uint64)
    prime = np.uint64(2**61 - 1)
    buckets: dict[tuple, list[int]] = {}
    for index, values in enumerate(shingles):
        signature = ((values[:, None] * seeds[0] + seeds[1]) % prime).min(axis=0)
        for band in range(_BANDS):
            key = (band, *signature[band * _ROWS:(band + 1) * _ROWS].tolist())
            buckets.setdefault(key, []).append(index)
    duplicate_of: dict[int, int] = {}
    sets = [set(s.tolist()) for s in shingles]
    for members in buckets.values():
        for later in members[1:]:
            first = members[0]
            if later in duplicate_of or first in duplicate_of:
                continue
            shared = len(sets[first] & sets[later]) / max(len(sets[first] | sets[later]), 1)
            if shared >= NEAR_DUPLICATE:
                duplicate_of[later] = first
    for later, first in sorted(duplicate_of.items()):
        problems.append(f"{articles[later].path or articles[later].id} has the same text as "
                        f"{articles[first].path or articles[first].id}; it is read once, as one source.")
    return [a for i, a in enumerate(articles) if i not in duplicate_of]
