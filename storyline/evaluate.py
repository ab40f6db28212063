"""Score a timeline against journalists' gold timelines, with the measures of timeline
summarization research (Martschat & Markert 2017, 2018; Ghalandari & Ifrim 2020):

- **date F1**: are the right days on the timeline;
- **concat ROUGE-1/2**: all summaries joined, against all gold summaries joined;
- **agreement ROUGE-1/2**: n-grams count only where both timelines have the day;
- **alignment ROUGE-1/2 (AR-1, AR-2)**: each predicted day is matched to one gold day (an
  optimal one-to-one assignment, ``scipy.optimize.linear_sum_assignment``, on the days'
  distance and then on content), and the n-grams they share count with the weight
  1 / (days apart + 1).

ROUGE's tokenizer and stemmer, and the concatenated ROUGE, come from ``rouge-score``; the
date matching and the agreement and alignment variants are written here, as the papers define
them, because no well-kept library offers them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import InputError
from .ranking import UndatedChoice, day_of, day_order, day_support, ranked_days

Timeline = dict[dt.date, list[str]]
"""A timeline: each day and the sentences that summarize it."""

TextChoice = Literal["quotes", "titles", "both"]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


# --- reading ---------------------------------------------------------------------------------


def read_prediction(path: str | Path, text: TextChoice = "quotes",
                    undated: UndatedChoice = "leave") -> tuple[Timeline, dict[dt.date, int] | None]:
    """The first timeline in ``path`` (see ``read_timelines``) and, for a storyline result, how
    many articles report each of its days (``day_weights``)."""
    path = Path(path)
    content = _read(path)
    result = _result_in(content, path)
    if result is not None:
        return from_result(result, text, undated), day_weights(result, undated)
    return _timelines_in(content, path)[0], None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError):
        raise InputError(f"{path} cannot be read as UTF-8 text.") from None


def _result_in(content: str, path: Path):
    """The storyline result ``content`` holds, or None if it holds timelines.jsonl lines."""
    if not content.lstrip().startswith("{"):
        return None
    from .models import Result

    try:
        return Result.model_validate_json(content)
    except ValueError as error:
        raise InputError(f"{path} is not a storyline JSON result ({str(error).splitlines()[0]}).") from None


def read_timelines(path: str | Path, text: TextChoice = "quotes", undated: UndatedChoice = "leave") -> list[Timeline]:
    """The timelines in a Timeline17 ``timelines.jsonl`` (one ``[[date, [sentence, ...]], ...]``
    per line) or in a storyline JSON result (one timeline; see ``from_result``)."""
    path = Path(path)
    content = _read(path)
    result = _result_in(content, path)
    if result is not None:
        return [from_result(result, text, undated)]
    return _timelines_in(content, path)


def _timelines_in(content: str, path: Path) -> list[Timeline]:
    timelines = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            timelines.append({dt.date.fromisoformat(day[:10]): [str(s).strip() for s in sentences]
                              for day, sentences in json.loads(line)})
        except (ValueError, TypeError) as error:
            raise InputError(f"{path}, line {number}: not a timeline ([[date, [sentence, ...]], ...]): {error}.") \
                from None
    if not timelines:
        raise InputError(f"{path} holds no timeline.")
    return timelines


def from_result(result, text: TextChoice = "quotes", undated: UndatedChoice = "leave") -> Timeline:
    """A storyline result as a timeline: each event placed on a single day stands on that day
    by its first quote, its title, or both; events of a longer or vaguer span are left out (a
    timeline's entries are days), unless ``undated`` says where those with no time expression
    stand (see ``ranking.day_of``). Each day's events are in ``ranking.day_order``."""
    on_day: dict[dt.date, list] = {}
    for event in result.timeline:
        day = day_of(event.date, undated)
        if day is not None:
            on_day.setdefault(day, []).append(event)
    timeline: Timeline = {}
    for day in sorted(on_day):
        for event in day_order(on_day[day]):
            quote = [event.mentions[0].quote] if event.mentions else []
            timeline.setdefault(day, []).extend(
                {"titles": [event.title], "quotes": quote, "both": [event.title, *quote]}[text])
    return timeline


def day_weights(result, undated: UndatedChoice = "leave") -> dict[dt.date, int]:
    """How many articles report something on each day of a result's timeline or are published
    on it (``ranking.day_support``, the rule the product's key events follow)."""
    return day_support(result.timeline, result.articles, undated)


def limit_to(predicted: Timeline, gold: Timeline, weights: dict[dt.date, int] | None = None) -> Timeline:
    """The research protocol: only the gold timeline's date range, at most as many days as the
    gold has, and per day at most as many sentences as the gold's days have on average. The days
    kept are those of most weight (``weights``, such as ``day_weights``; without them, the days
    with the most sentences), then of most sentences, then the earliest."""
    if not gold:
        return {}
    first, last = min(gold), max(gold)
    per_day = max(1, round(sum(map(len, gold.values())) / len(gold)))
    inside = {day: texts for day, texts in predicted.items() if first <= day <= last}
    weight = weights or {}
    kept = ranked_days({day: weight.get(day, 0) for day in inside}, {day: len(texts) for day, texts in inside.items()})
    kept = kept[: len(gold)]
    return {day: inside[day][:per_day] for day in sorted(kept)}


# --- measures ---------------------------------------------------------------------------------


def _tokenizer():
    from rouge_score import tokenizers

    return tokenizers.DefaultTokenizer(use_stemmer=True)


def _ngrams(texts: list[str], n: int, tokenize) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        tokens = tokenize(text)
        counts.update(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return counts


def date_f1(predicted: Timeline, gold: Timeline) -> Score:
    shared = len(set(predicted) & set(gold))
    return Score(shared / len(predicted) if predicted else 0.0, shared / len(gold) if gold else 0.0)


def concat_rouge(predicted: Timeline, gold: Timeline, n: int) -> Score:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer([f"rouge{n}"], use_stemmer=True)
    joined = [" ".join(s for day in sorted(t) for s in t[day]) for t in (gold, predicted)]
    result = scorer.score(joined[0], joined[1])[f"rouge{n}"]
    return Score(result.precision, result.recall)


def agreement_rouge(predicted: Timeline, gold: Timeline, n: int) -> Score:
    tokenize = _tokenizer().tokenize
    overlap = sum(sum((_ngrams(predicted[d], n, tokenize) & _ngrams(gold[d], n, tokenize)).values())
                  for d in set(predicted) & set(gold))
    return _ratio(overlap, predicted, gold, n, tokenize)


def alignment_rouge(predicted: Timeline, gold: Timeline, n: int) -> Score:
    """AR-n: the one-to-one alignment of days that keeps them closest (content breaks ties),
    overlaps weighted by 1 / (days apart + 1)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not predicted or not gold:
        return Score(0.0, 0.0)
    tokenize = _tokenizer().tokenize
    pred_days, gold_days = sorted(predicted), sorted(gold)
    pred_grams = [_ngrams(predicted[d], n, tokenize) for d in pred_days]
    gold_grams = [_ngrams(gold[d], n, tokenize) for d in gold_days]
    apart = np.array([[abs((p - g).days) for g in gold_days] for p in pred_days], dtype=float)
    overlap = np.array([[sum((a & b).values()) for b in gold_grams] for a in pred_grams], dtype=float)
    scale = overlap.max() + 1.0
    rows, columns = linear_sum_assignment(apart - overlap / scale)  # distance first, content within it
    weighted = float(sum(overlap[r, c] / (apart[r, c] + 1.0) for r, c in zip(rows, columns, strict=True)))
    return _ratio(weighted, predicted, gold, n, tokenize)


def _ratio(overlap: float, predicted: Timeline, gold: Timeline, n: int, tokenize) -> Score:
    produced = sum(sum(_ngrams(texts, n, tokenize).values()) for texts in predicted.values())
    wanted = sum(sum(_ngrams(texts, n, tokenize).values()) for texts in gold.values())
    return Score(overlap / produced if produced else 0.0, overlap / wanted if wanted else 0.0)


MEASURES = {
    "date F1": date_f1,
    "concat R-1": lambda p, g: concat_rouge(p, g, 1),
    "concat R-2": lambda p, g: concat_rouge(p, g, 2),
    "agreement R-1": lambda p, g: agreement_rouge(p, g, 1),
    "agreement R-2": lambda p, g: agreement_rouge(p, g, 2),
    "AR-1": lambda p, g: alignment_rouge(p, g, 1),
    "AR-2": lambda p, g: alignment_rouge(p, g, 2),
}


def evaluate(predicted: Timeline, golds: list[Timeline], *, protocol: bool = True,
             weights: dict[dt.date, int] | None = None) -> list[dict[str, Score]]:
    """Each measure against each gold timeline (the prediction limited to it first, keeping the
    days of most ``weights``, unless ``protocol`` is false)."""
    return [{name: measure(limit_to(predicted, gold, weights) if protocol else predicted, gold)
             for name, measure in MEASURES.items()} for gold in golds]


def mean_f1(scores: list[dict[str, Score]]) -> dict[str, float]:
    return {name: sum(s[name].f1 for s in scores) / len(scores) for name in MEASURES} if scores else {}
