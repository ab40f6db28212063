from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import SEEDS, oracle

from storyline import summarize
from storyline.backends.scripted import ScriptedBackend
from storyline.errors import TemplateError
from storyline.pipeline import Pipeline, read_mentions, write_mentions
from storyline.render import render
from storyline.templating import PromptSet, default_prompts_dir


def _run(backend, cache_dir, **options):
    return summarize([SEEDS], backend=backend, cache_dir=cache_dir, **options)


def test_seed_timeline_places_the_key_events(oracle_backend, tmp_path):
    result = _run(oracle_backend, tmp_path)
    texts = {article.id: (SEEDS / f"{article.id}.txt").read_text() for article in result.articles}
    for event in result.timeline:
        for mention in event.mentions:
            assert mention.quote in texts[mention.article]

    def dated(fragment):
        return {(m.date.start, m.date.end, m.date.precision) for e in result.timeline for m in e.mentions
                if fragment in m.quote}

    tuesday = dt.date(2025, 3, 18)
    assert (tuesday, tuesday, "day") in dated("will speak with Russian President Vladimir Putin on Tuesday")
    assert (dt.date(2025, 3, 16), dt.date(2025, 3, 16), "day") in dated("Trump also mentioned on Sunday")
    assert (dt.date(2024, 8, 1), dt.date(2024, 8, 31), "month") in dated("Ukrainian incursion last August")
    assert (dt.date(2022, 3, 1), None, "month") in dated("under Russian control since March 2022")
    call = next(e for e in result.timeline if e.date.start == tuesday and e.sources >= 4)
    assert call.sources == 5
    assert result.summary
    stats = result.meta.stats
    assert stats.extract_calls == 5 and stats.summary_calls == 1 and stats.llm_calls == 6
    assert stats.cache_hits == 0 and stats.source_tokens > 0


def _edited_prompt(folder, name, old, new):
    """A prompts folder holding one default prompt with ``old`` replaced by ``new``."""
    folder.mkdir()
    original = (default_prompts_dir() / f"{name}.j2").read_text()
    assert old in original
    (folder / f"{name}.j2").write_text(original.replace(old, new))
    return folder


def test_editing_the_summary_prompt_reruns_only_the_summary(tmp_path):
    cache = tmp_path / "cache"
    _run(ScriptedBackend(responder=oracle), cache)
    prompts = _edited_prompt(tmp_path / "prompts", "summarize", "short neutral summary", "brief neutral summary")
    backend = ScriptedBackend(responder=oracle)
    second = _run(backend, cache, prompts=prompts)
    stats = second.meta.stats
    assert stats.extract_calls == 0 and stats.cache_hits == 5
    assert stats.summary_calls == 1
    assert "brief neutral summary" in backend.requests[0].messages[0][1]


def test_editing_the_extraction_prompt_reruns_extraction(tmp_path):
    cache = tmp_path / "cache"
    _run(ScriptedBackend(responder=oracle), cache)
    prompts = _edited_prompt(tmp_path / "prompts", "extract", "for a timeline", "for a news timeline")
    stats = _run(ScriptedBackend(responder=oracle), cache, prompts=prompts).meta.stats
    assert stats.extract_calls == 5


def test_interrupted_run_resumes_without_redoing_finished_chunks(tmp_path):
    cache = tmp_path / "cache"
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return oracle(request)

    crashing = ScriptedBackend(responder=flaky)
    with pytest.raises(KeyboardInterrupt):
        _run(crashing, cache)
    assert len(crashing.requests) == 4  # three finished, the fourth interrupted
    resumed = _run(ScriptedBackend(responder=oracle), cache).meta.stats
    assert resumed.cache_hits == 3
    assert resumed.extract_calls == 2


def test_same_inputs_and_seed_give_identical_json(tmp_path):
    first = _run(ScriptedBackend(responder=oracle), tmp_path / "a", seed=7)
    second = _run(ScriptedBackend(responder=oracle), tmp_path / "b", seed=7)
    first.meta.stats = second.meta.stats
    assert render(first, "json") == render(second, "json")


def test_broken_template_fails_before_any_model_call(tmp_path):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "summarize.j2").write_text(
        "{% block system %}Summarize.{% endblock %}\n{% block user %}\n{{ events }}\n"
        "{{ evnets_typo }}\n{% endblock %}\n")
    backend = ScriptedBackend(responder=oracle)
    with pytest.raises(TemplateError) as caught:
        _run(backend, tmp_path / "cache", prompts=prompts)
    assert "summarize.j2" in str(caught.value) and "line 4" in str(caught.value)
    assert backend.requests == []


def test_template_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "extract.j2").write_text(
        "{% block system %}ok{% endblock %}\n{% block user %}{% for x in %}{% endblock %}")
    with pytest.raises(TemplateError, match=r"extract\.j2, line 2"):
        PromptSet(tmp_path).messages("extract", article={}, chunk={}, sentences=[])


def test_prompt_overrides_fall_back_to_defaults(tmp_path):
    shutil.copy(default_prompts_dir() / "summarize.j2", tmp_path / "summarize.j2")
    listing = {name: origin for name, _, origin in PromptSet(tmp_path).listing()}
    assert listing == {"extract": "default", "summarize": "custom", "adjudicate": "default", "retry": "default"}


def test_mentions_round_trip_and_from_mentions_makes_no_extraction_calls(tmp_path):
    pipeline = Pipeline(ScriptedBackend(responder=oracle), cache_dir=tmp_path)
    articles = pipeline.ingest([SEEDS])
    mentions = pipeline.extract(articles)
    path = tmp_path / "mentions.jsonl"
    with path.open("w") as handle:
        write_mentions(articles, mentions, handle)
    infos, loaded = read_mentions(path)
    assert loaded == mentions and [i.id for i in infos] == [a.id for a in articles]
    backend = ScriptedBackend(responder=oracle)
    result = Pipeline(backend, use_cache=False).run_from_mentions(infos, loaded)
    assert result.meta.stats.extract_calls == 0 and result.meta.stats.summary_calls == 1
    assert len(result.timeline) > 5


def test_a_chunk_that_stays_invalid_loses_only_itself(tmp_path):
    def sometimes_broken(request):
        if "Former U.S. President" in request.messages[1][1]:
            return "not json at all"
        return oracle(request)

    result = _run(ScriptedBackend(responder=sometimes_broken), tmp_path)
    stats = result.meta.stats
    assert stats.failed_chunks == 1 and stats.retries == 2
    assert any("004_f550f66cc359bc1c" in w for w in result.meta.warnings)
    assert {m.article for e in result.timeline for m in e.mentions} >= {
        "000_194fac485f307d0b", "001_c294f2ccbd6d00ec", "002_c924205565333087", "003_1326406fc45ba7b4"}


def test_rerender_with_another_template_never_calls_the_model(oracle_backend, tmp_path):
    result = _run(oracle_backend, tmp_path)
    calls = len(oracle_backend.requests)
    custom = tmp_path / "brief.j2"
    custom.write_text("{% for e in result.timeline %}{{ e.date | span }}|{{ e.sources }}\n{% endfor %}")
    text = render(result, str(custom))
    assert "18 Mar 2025|5" in text
    assert "## Events" in render(result, "markdown") and render(result, "text")
    assert len(oracle_backend.requests) == calls


def test_article_without_publication_date_warns_and_still_orders(tmp_path):
    (tmp_path / "undated.txt").write_text("The minister resigned on Tuesday. The vote was held in March 2021.\n")
    result = summarize([tmp_path], backend=ScriptedBackend(responder=oracle_dated), use_cache=False)
    assert any("no publication date" in w and "--published" in w for w in result.meta.warnings)
    dates = {m.when: m.date for e in result.timeline for m in e.mentions}
    assert dates["on Tuesday"].start is None and dates["on Tuesday"].precision == "unknown"
    assert str(dates["in March 2021"].start) == "2021-03-01"
    assert result.timeline[0].date.start is not None  # the placed event comes first


def oracle_dated(request):
    if "sentences" in request.json_schema.get("properties", {}):
        return {"sentences": ["A minister resigned."]}
    return {"e": [{"t": "Minister resigns", "w": "on Tuesday", "st": "happened", "s": [1], "a": []},
                  {"t": "Vote held", "w": "in March 2021", "st": "happened", "s": [2], "a": []}]}


def test_adjudication_calls_the_model_and_is_counted():
    from seed_mentions import seed_mentions

    from storyline.models import ArticleInfo

    mentions = [m for _, m in seed_mentions()]
    backend = ScriptedBackend(responder=oracle)
    articles = [ArticleInfo(id=i) for i in sorted({m.article for m in mentions})]
    result = Pipeline(backend, use_cache=False, adjudicate=True).run_from_mentions(articles, mentions)
    stats = result.meta.stats
    assert stats.adjudicate_calls > 0
    asked = [r for r in backend.requests if "same" in r.json_schema.get("properties", {})]
    assert len(asked) == stats.adjudicate_calls
    assert "Report A" in asked[0].messages[1][1]
