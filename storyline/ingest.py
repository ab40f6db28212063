"""Read articles: files, directories and stdin, with optional metadata.

Metadata comes from YAML front matter at the top of a file, or from a ``manifest.toml`` in the
article's directory that maps file names to tables of metadata (with an optional ``[defaults]``
table)::

    [defaults]
    published = 2025-03-17

    ["004_f550f66cc359bc1c.txt"]
    title = "..."
    published = 2025-03-18

Known keys: id, title, source, url, published. A broken file is reported and skipped; the other
articles are still read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from .errors import InputError
from .models import Article

ARTICLE_SUFFIXES = (".txt", ".md")
MANIFEST_NAME = "manifest.toml"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_KNOWN_KEYS = {"id", "title", "source", "url", "published"}


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
        raise InputError(
            f"{where}: publication date {value!r} is not a date. Write it as YYYY-MM-DD, "
            "for example 2025-03-17."
        ) from None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "article"


def _read_manifest(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML ({error}). Fix or remove the manifest.") from None
    defaults = data.pop("defaults", {})
    return {"": defaults, **{name: {**defaults, **meta} for name, meta in data.items()}}


def _split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise InputError(f"{where}: the front matter is not valid YAML ({error}).") from None
    if not isinstance(meta, dict):
        raise InputError(f"{where}: the front matter must be a mapping of keys to values.")
    return meta, text[match.end() :]


def _article(text: str, meta: dict[str, Any], *, where: str, default_id: str,
             default_published: dt.date | None, path: str | None) -> Article:
    if not text.strip():
        raise InputError(f"{where} is empty: give it the article's text, or leave it out.")
    unknown = set(meta) - _KNOWN_KEYS
    if unknown:
        raise InputError(
            f"{where}: unknown metadata key(s) {', '.join(sorted(unknown))}; "
            f"known keys are {', '.join(sorted(_KNOWN_KEYS))}."
        )
    return Article(
        id=_slug(str(meta.get("id") or default_id)),
        text=text,
        title=meta.get("title") or None,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        published=parse_date(meta.get("published"), where=where) or default_published,
        path=path,
    )


def read_file(path: Path, *, default_published: dt.date | None = None,
              manifest: dict[str, dict[str, Any]] | None = None) -> Article:
    """One article file, with its front matter and manifest entry applied."""
    where = str(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text. Convert it to UTF-8 (or leave it out).") from None
    except OSError as error:
        raise InputError(f"{where} cannot be read: {error.strerror}.") from None
    meta, text = _split_front_matter(raw, where)
    entries = manifest if manifest is not None else _read_manifest(path.parent)
    merged = {**entries.get("", {}), **entries.get(path.name, {}), **meta}
    return _article(text, merged, where=where, default_id=path.stem,
                    default_published=default_published, path=where)


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(
            p for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise InputError(f"{path} holds no .txt or .md articles.")
        return found
    if path.is_file():
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            raise InputError(f"{path}: only .txt and .md articles can be read (or - for stdin).")
        return [path]
    raise InputError(f"{path} does not exist. Check the path, or give a folder of .txt/.md articles.")


def load_articles(
    inputs: Iterable[str | Path | Article],
    *,
    published: dt.date | None = None,
    stdin: TextIO | None = None,
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
            text = (stdin or sys.stdin).read()
            meta, body = _split_front_matter(text, "stdin")
            digest = hashlib.sha256(body.encode()).hexdigest()[:10]
            articles.append(_article(body, meta, where="stdin", default_id=f"stdin-{digest}",
                                     default_published=published, path=None))
            continue
        for path in _expand(Path(item)):
            manifest = manifests.setdefault(path.parent, _read_manifest(path.parent))
            try:
                articles.append(read_file(path, default_published=published, manifest=manifest))
            except InputError as error:
                skipped.append(str(error))
    if not articles:
        detail = " ".join(skipped)
        raise InputError("No usable articles were given." + (f" {detail}" if detail else ""))
    return _unique_ids(articles)


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
