"""Mentions files: the grounded mentions of ``storyline extract``, read back by
``storyline summarize --from-mentions``.

JSON Lines: one ``{"kind": "article", ...}`` line per article, then one ``{"kind": "mention",
...}`` line per mention (fields as in :class:`~storyline.models.Mention`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from .errors import InputError
from .models import Article, ArticleInfo, Mention


def write_mentions(articles: list[Article] | list[ArticleInfo], mentions: list[Mention], handle: IO[str]) -> None:
    for article in articles:
        record = {"kind": "article", **ArticleInfo(**article.model_dump(exclude={"text"})).model_dump(mode="json")}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    for mention in mentions:
        handle.write(json.dumps({"kind": "mention", **mention.model_dump(mode="json")}, ensure_ascii=False) + "\n")


def read_mentions(path: str | Path) -> tuple[list[ArticleInfo], list[Mention]]:
    """Read a mentions file; mentions of articles without an article line still load."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist. Write one with `storyline extract PATH... -o {path}`.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; a mentions file is JSON Lines written by "
                         "`storyline extract`.") from None
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror}.") from None
    articles: dict[str, ArticleInfo] = {}
    mentions: list[Mention] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("each line must be a JSON object")
            kind = record.pop("kind", "mention")
            if kind == "article":
                info = ArticleInfo.model_validate(record)
                articles[info.id] = info
            elif kind == "mention":
                mentions.append(Mention.model_validate(record))
            else:
                raise ValueError(f"unknown kind {kind!r}; expected 'article' or 'mention'")
        except (ValueError, ValidationError) as error:
            detail = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
            raise InputError(f"{path}, line {number}: not a valid mention or article record ({detail}). "
                             "Fix or remove that line.") from None
    for mention in mentions:
        articles.setdefault(mention.article, ArticleInfo(id=mention.article))
    return list(articles.values()), mentions
