"""Which JSON keys make small models fill the right fields: compact (t, w, st, s, a) or
self-describing (title, when, status, sentences, actors)?

For each real model and each key set, in one process, it extracts the events of the seed
articles (and optionally Timeline17 articles) with the same instructions, only the keys named
differently, and counts:

- events: all events the model returned;
- when found: events whose time expression occurs verbatim in a sentence they cite;
- when empty: events with no time expression (neither right nor wrong);
- title ok: events whose title is not a copy of another field (the time expression, the
  status, an actor) nor of a bare number or date;
- both: events with a time expression found verbatim and a title that is ok;
- generated tokens and seconds.

    python benchmarks/keys.py                      # both real models, seeds
    python benchmarks/keys.py --articles 10        # plus 10 Timeline17 articles
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from typing import Annotated

from corpus import SEEDS, timeline17
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from storyline.backends.llama import LlamaCppBackend
from storyline.extract import Planner, find_in
from storyline.ingest import load_articles
from storyline.templating import PromptSet
from storyline.testing import real_models

VARIANTS = {
    "compact": {"events": "e", "title": "t", "when": "w", "status": "st", "sentences": "s", "actors": "a"},
    "descriptive": {k: k for k in ("events", "title", "when", "status", "sentences", "actors")},
}


def instructions(keys: dict[str, str]) -> str:
    """The shipped extraction prompt's system block with the key names of ``keys``."""
    system = PromptSet().messages("extract", article={}, chunk={"index": 0}, sentences=[])[0][1]
    system = system.replace('{"events":', f'{{"{keys["events"]}":')
    for field in ("title", "when", "status", "sentences", "actors"):
        system = re.sub(rf'(^|"){field}(:|")', rf"\g<1>{keys[field]}\g<2>", system, flags=re.M)
    return system


def output_model(keys: dict[str, str], sentence_count: int) -> type[BaseModel]:
    event = create_model(
        "Event", __config__=ConfigDict(populate_by_name=True),
        title=(str, Field(alias=keys["title"], min_length=1, max_length=90)),
        when=(str, Field(alias=keys["when"], max_length=48)),
        status=(str, Field(alias=keys["status"], pattern="^(happened|expected|ongoing)$")),
        sentences=(list[int], Field(alias=keys["sentences"], min_length=1, max_length=3)),
        actors=(list[Annotated[str, StringConstraints(min_length=1, max_length=32)]],
                Field(alias=keys["actors"], max_length=3)),
    )
    return create_model("Output", events=(list[event], Field(alias=keys["events"], max_length=16)))


def schema(keys: dict[str, str], sentence_count: int) -> dict:
    document = output_model(keys, sentence_count).model_json_schema(by_alias=True)
    event = document["$defs"]["Event"]
    event["properties"][keys["status"]] = {"enum": ["happened", "expected", "ongoing"]}
    event["properties"][keys["sentences"]]["items"] = {"enum": list(range(1, sentence_count + 1))}
    for name in (keys["title"], keys["when"]):
        event["properties"][name].pop("pattern", None)
    return document


_BARE = re.compile(r"^[\W\d_]*$|^(?:19|20)\d\d$")


def title_ok(event, sentences: list[str]) -> bool:
    title = event.title.strip().casefold()
    copies = {event.when.strip().casefold(), event.status.casefold(), *(a.strip().casefold() for a in event.actors)}
    return bool(title) and title not in copies and not _BARE.match(title)


def run(backend: LlamaCppBackend, articles, keys: dict[str, str]) -> dict:
    prompts = PromptSet()
    planner = Planner(prompts, backend)
    counts = {"events": 0, "when found": 0, "when empty": 0, "title ok": 0, "both": 0, "cut off": 0, "generated": 0,
              "seconds": 0.0}
    system = instructions(keys)
    for call in planner.plan(articles):
        count = len(call.chunk.sentences)
        request = call.request.model_copy(update={
            "messages": (("system", system), call.request.messages[1]), "json_schema": schema(keys, count)})
        generation = backend.generate(request)
        counts["generated"] += generation.completion_tokens
        counts["seconds"] += generation.seconds
        if generation.finish_reason != "stop":
            counts["cut off"] += 1
            continue
        output = output_model(keys, count).model_validate_json(generation.text)
        texts = [call.article.text[s.start:s.end] for s in call.chunk.sentences]
        for event in output.events:
            counts["events"] += 1
            cited = [texts[n - 1] for n in event.sentences if 1 <= n <= count]
            when = event.when.strip()
            found = bool(when) and any(find_in(when, sentence) >= 0 for sentence in cited)
            counts["when empty"] += not when
            counts["when found"] += found
            counts["title ok"] += title_ok(event, cited)
            counts["both"] += found and title_ok(event, cited)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=0, help="Timeline17 articles to add to the seeds")
    parser.add_argument("--topic", default="SyrianCrisis_bbc")
    args = parser.parse_args()
    articles = load_articles([SEEDS])
    if args.articles:
        articles += timeline17(args.topic, args.articles)
    print(f"{len(articles)} articles")
    print(f"{'model':<34}{'keys':<13}{'events':>7}{'when found':>12}{'when empty':>12}{'title ok':>10}"
          f"{'both':>6}{'cut off':>9}{'generated':>11}{'seconds':>9}")
    for name, path in real_models().items():
        backend = LlamaCppBackend(path)
        for variant, keys in VARIANTS.items():
            started = time.perf_counter()
            counts = run(backend, articles, keys)
            seconds = time.perf_counter() - started
            print(f"{name:<34}{variant:<13}{counts['events']:>7}{counts['when found']:>12}{counts['when empty']:>12}"
                  f"{counts['title ok']:>10}{counts['both']:>6}{counts['cut off']:>9}{counts['generated']:>11}"
                  f"{seconds:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
