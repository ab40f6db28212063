"""The model as the merge's judge (``--adjudicate``): whether two reports are one event.

The merge decides which pairs to ask and checks the judge first (``merge.judge``); this module
asks the model. Where the backend can read an answer as probabilities (``ChoiceReader``, the
in-process llama.cpp backend) and sampling is greedy, one forward pass over the prompt and the
reply's forced opening ``{"same":`` gives the log-odds of " true" against " false", and the
likelier answer is the verdict: what a greedy constrained reply would write, without generating
or parsing it. Elsewhere (a server, sampling at a temperature) the reply is generated and
validated as ``AdjudicationOutput``; one that fails counts as "no".

The number of questions is bounded (``limit``): past it, every pair is left apart, as without a
judge, and the questions not asked are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tenacity import Retrying

from .backends import Backend, ChoiceReader, GenerationRequest
from .cache import CallCache
from .calls import ModelCalls, read_choice, structured_call
from .errors import ExtractionRetryError, TruncatedOutputError, UnreliableAdjudicatorError
from .merge import AdjudicationOutput, merge
from .models import Article, ArticleInfo, Event, Mention, Stats
from .templating import PromptSet

REPLY_START = '{"same":'
ANSWERS = (" true", " false")
"""The reply's opening as the JSON grammar forces it, and the two tokens that decide it (the
tokenizer of a model trained on JSON writes the space with the word)."""

STAGE = "adjudicate"

QUESTIONS_PER_MENTION = 2
"""The judge's bound in a run (``judged_merge``): linear in the mentions, like the merge. The
merge asked at most 1.3 questions per mention on the labelled sets (``benchmarks/judge.py``) and
1.5 on the 1.5B model's own mentions of the seeds (83 for 54), so the bound is for large
stories, where each question (two or three seconds of the 1.5B model on a laptop CPU) would
otherwise add up to hours."""


class ModelJudge:
    """An adjudicator (``merge.Adjudicator``) backed by a model, with its questions counted in
    ``stats`` (``adjudicated_pairs``, ``adjudicated_same``, ``adjudication_unasked``) and in its
    own ``asked`` and ``unasked`` (``limit`` bounds ``asked``: stats may span several runs).
    ``temperature``, ``seed``, ``max_retries`` and ``cache_extra`` are for a generated reply (as
    ``calls.structured_call`` takes them); a temperature above 0 always generates, and so does
    ``read_answers=False`` (to compare the two ways)."""

    def __init__(self, backend: Backend, prompts: PromptSet, stats: Stats, *, cache: CallCache | None,
                 articles: Iterable[Article | ArticleInfo] = (), limit: int | None = None,
                 temperature: float = 0.0, seed: int = 0, max_retries: int | Retrying = 2,
                 cache_extra: dict[str, Any] | None = None, read_answers: bool = True):
        self.backend, self.prompts, self.stats, self.cache = backend, prompts, stats, cache
        self.sources = {a.id: a for a in articles}
        self.limit, self.read_answers = limit, read_answers
        self.asked = self.unasked = 0
        self.temperature, self.seed, self.max_retries, self.cache_extra = temperature, seed, max_retries, cache_extra

    def __call__(self, first: Mention, second: Mention) -> bool:
        if self.limit is not None and self.asked >= self.limit:
            self.unasked += 1
            self.stats.adjudication_unasked += 1
            return False
        odds = self.log_odds(first, second)
        same = self._generated(first, second) if odds is None else odds > 0
        self.asked += 1
        self.stats.adjudicated_pairs += 1
        self.stats.adjudicated_same += same
        return same

    def messages(self, first: Mention, second: Mention) -> tuple[tuple[str, str], ...]:
        return self.prompts.messages("adjudicate", first=self.report(first), second=self.report(second))

    def log_odds(self, first: Mention, second: Mention) -> float | None:
        """The model's log-odds that the two reports are one event, where the backend can read
        them and sampling is greedy; else None. Not counted as a question."""
        if not (self.read_answers and isinstance(self.backend, ChoiceReader)) or self.temperature > 0:
            return None
        reading = read_choice(self.backend, self.messages(first, second), REPLY_START, ANSWERS,
                              identity=self.backend.identity, stage=STAGE, stats=self.stats, cache=self.cache)
        same, different = reading.logprobs
        return same - different

    def report(self, mention: Mention) -> dict:
        """What the prompt is shown of a report (``adjudicate.j2``)."""
        from .dates import format_day, format_span

        article = self.sources.get(mention.article)
        return {"article": mention.article, "source": (article.title if article else None) or mention.article,
                "published": format_day(article.published) if article and article.published else "",
                "date": format_span(mention.date) if mention.date.is_known else "",
                "title": mention.title, "quote": mention.quote}

    def _generated(self, first: Mention, second: Mention) -> bool:
        request = GenerationRequest(messages=self.messages(first, second),
                                    json_schema=AdjudicationOutput.model_json_schema(), max_tokens=16,
                                    temperature=self.temperature, seed=self.seed)
        try:
            answer = structured_call(self.backend, request, AdjudicationOutput, stage=STAGE, stats=self.stats,
                                     prompts=self.prompts, cache=self.cache, cache_extra=self.cache_extra,
                                     max_retries=self.max_retries)
        except (ExtractionRetryError, TruncatedOutputError):
            return False
        return answer.same


def judge_of(calls: ModelCalls, articles: Iterable[Article | ArticleInfo] = (), limit: int | None = None
             ) -> ModelJudge:
    """The run's model as a judge of pairs, shown each report's source and publication date from
    ``articles``; after ``limit`` questions every pair is left apart."""
    settings = calls.settings
    return ModelJudge(calls.backend, calls.prompts, calls.stats, cache=calls.cache, articles=articles, limit=limit,
                      temperature=settings.temperature, seed=settings.seed, max_retries=settings.max_retries,
                      cache_extra=calls.cache_extra())


def judged_merge(calls: ModelCalls, mentions: list[Mention], articles: Iterable[Article | ArticleInfo],
                 adjudicate: bool) -> list[Event]:
    """The timeline's events; with ``adjudicate``, the model judges the pairs the articles' words
    leave unsure, up to ``QUESTIONS_PER_MENTION`` questions a mention. A judge that fails its
    check is left out, with a warning."""
    limit = QUESTIONS_PER_MENTION * len(mentions)
    judge = judge_of(calls, articles, limit) if adjudicate else None
    try:
        events = merge(mentions, judge)
    except UnreliableAdjudicatorError as error:
        calls.warn(f"{error} The merge went on without adjudication.")
        events = merge(mentions)
    if judge is not None and judge.unasked:
        calls.warn(f"The judge (--adjudicate) was asked its limit of {limit} questions ({QUESTIONS_PER_MENTION} "
                   f"per mention); {judge.unasked} more were not asked, and those pairs were left apart, "
                   "as without --adjudicate.")
    calls.stats.duplicates_dropped += len(mentions) - sum(len(e.mentions) for e in events)
    return events
