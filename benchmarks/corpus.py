"""Read benchmark corpora: the seeds, and Timeline17 articles from ../shared (never copied here).

Timeline17 text is tokenised (spaces around punctuation, PTB escapes, one sentence per line);
it is turned back into ordinary text so that tokenizers see what they would see in real use.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from storyline.models import Article

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
TIMELINE17 = ROOT.parent / "shared" / "corpora" / "timeline17"

_ESCAPES = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}",
            "``": '"', "''": '"'}
_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s|'re|'ve|'ll|'d|n't)")
_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize(text: str) -> str:
    for escape, plain in _ESCAPES.items():
        text = text.replace(escape, plain)
    lines = [_SPACE_AFTER.sub(r"\1", _SPACE_BEFORE.sub(r"\1", line.strip())) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def timeline17(topic: str | None = None, limit: int | None = None) -> list[Article]:
    """Articles of one topic (one story), or of all topics in turn, with their publication dates."""
    if not TIMELINE17.is_dir():
        raise SystemExit(f"{TIMELINE17} is missing: the Timeline17 corpus is read from ../shared.")
    topics = [topic] if topic else sorted(p.name for p in TIMELINE17.iterdir() if p.is_dir())
    articles: list[Article] = []
    for name in topics:
        with (TIMELINE17 / name / "articles.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                articles.append(Article(id=f"{name}-{record['id']}", text=detokenize(record["text"]),
                                        published=dt.date.fromisoformat(record["time"][:10])))
                if limit and len(articles) >= limit:
                    return articles
    return articles


def write_txt(articles: list[Article], folder: Path) -> None:
    """Write articles as .txt files with front matter, for timing ingest from disk."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        (folder / f"{article.id}.txt").write_text(
            f"---\npublished: {article.published}\n---\n{article.text}\n", encoding="utf-8")


def timeline17_article(topic: str, article_id: str) -> tuple[list[str], dt.date]:
    """One Timeline17 article as its detokenized lines (one sentence each) and its date."""
    with (TIMELINE17 / topic / "articles.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if str(record["id"]) == str(article_id):
                return detokenize(record["text"]).splitlines(), dt.date.fromisoformat(record["time"][:10])
    raise KeyError(f"{topic} has no article {article_id}")
