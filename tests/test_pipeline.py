from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import SEEDS, event, events, is_extraction, oracle

from storyline import summarize
from storyline.backends.scripted import ScriptedBackend
from storyline.errors import TemplateError
from storyline.mentions import read_mentions, write_mentions
from storyline.models import Article
from storyline.pipeline import Pipeline
from storyline.render import render
from storyline.templating import PromptSet, default_prompts_dir

TUESDAY_CALL_000 = ("US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday to discuss "
                    "a potential ceasefire in Ukraine, following diplomatic engagements between US and Russian "
                    "officials in Moscow.")


def _run(backend, cache_dir, **options):
    return summarize([SEEDS], backend=backend, cache_dir=cache_dir, **options)


def test_seed_timeline_places_the_key_events(oracle_backend, tmp_path):
    result = _run(oracle_backend, tmp_path)

    def dated(fragment):
        return {(m.date.start, m.date.end, m.date.precision) for e in result.timeline for m in e.mentions
                if fragment in m.quote}

    tuesday = dt.date(2025, 3, 18)
    assert (tuesday, tuesday, "day") in dated("will speak with Russian President Vladimir Putin on Tuesday")
    assert (dt.date(2025, 3, 16), dt.date(2025, 3, 16), "day") in dated("Trump also mentioned on Sunday")
    # "reclaimed by Russian forces after a Ukrainian incursion last August": after August 2024
    assert (dt.date(2024, 9, 1), None, "month") in dated("Ukrainian incursion last August")
    assert (dt.date(2022, 3, 1), None, "month") in dated("under Russian control since March 2022")
    call = next(e for e in result.timeline if e.date.start == tuesday and e.sources >= 4)
    assert call.sources == 5
    assert TUESDAY_CALL_000 in [m.quote for m in call.mentions]  # the whole sentence, as the file has it
    assert result.summary
    stats = result.meta.stats
    headline_calls = stats.stages["headline"].calls  # events that only sentences the model skipped report
    assert stats.extract_calls == 5 and stats.summary_calls == 1 and headline_calls >= 1
    assert stats.llm_calls == 6 + headline_calls
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
    assert stats.extract_calls == 0 and stats.stages["extract"].cache_hits == 5
    assert stats.summary_calls == 1
    assert "brief neutral summary" in backend.requests[0].messages[0][1]


def test_editing_the_extraction_prompt_reruns_extraction(tmp_path):
    cache = tmp_path / "cache"
    _run(ScriptedBackend(responder=oracle), cache)
    prompts = _edited_prompt(tmp_path / "prompts", "extract", "Read its numbered sentences",
                             "Read the numbered sentences")
    stats = _run(ScriptedBackend(responder=oracle), cache, prompts=prompts).meta.stats
    assert stats.extract_calls == 5


def test_editing_the_retry_prompt_or_retry_count_misses_the_cache(tmp_path):
    cache = tmp_path / "cache"
    _run(ScriptedBackend(responder=oracle), cache)
    assert _run(ScriptedBackend(responder=oracle), cache, max_retries=1).meta.stats.extract_calls == 5
    prompts = _edited_prompt(tmp_path / "prompts", "retry", "Reply again", "Answer again")
    assert _run(ScriptedBackend(responder=oracle), cache, prompts=prompts).meta.stats.extract_calls == 5


def test_another_script_does_not_share_cached_results(tmp_path):
    cache = tmp_path / "cache"
    _run(ScriptedBackend(responder=oracle), cache)

    def other(request):
        return oracle(request) if not is_extraction(request) else events()

    stats = _run(ScriptedBackend(responder=other), cache).meta.stats
    assert stats.extract_calls == 5 and stats.cache_hits == 0


def _flaky(answers: int):
    """The oracle, interrupted (Ctrl-C) when asked once more after ``answers`` answers."""
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] > answers:
            raise KeyboardInterrupt
        return oracle(request)

    return flaky


def _interrupted_after(answers: int) -> ScriptedBackend:
    return ScriptedBackend(responder=_flaky(answers), identity="oracle")


def test_interrupted_run_resumes_without_redoing_finished_chunks(tmp_path):
    cache = tmp_path / "cache"
    crashing = _interrupted_after(3)
    with pytest.raises(KeyboardInterrupt):
        _run(crashing, cache)
    assert len(crashing.requests) == 4  # three finished, the fourth interrupted
    resumed = _run(ScriptedBackend(responder=oracle, identity="oracle"), cache).meta.stats
    assert resumed.cache_hits == 3
    assert resumed.extract_calls == 2


def test_a_long_run_is_announced_by_the_calls_the_cache_does_not_answer(tmp_path, monkeypatch):
    """Five seed chunks; a run of four calls or more is long. Resumed with three cached, two are
    left: no warning."""
    monkeypatch.setattr("storyline.extract.LARGE_RUN_CALLS", 4)
    cache = tmp_path / "cache"
    first = _run(ScriptedBackend(responder=oracle, identity="oracle"), cache)
    assert [w for w in first.meta.warnings if w.startswith("This run makes 5 extraction calls over")]
    for path in cache.rglob("*"):  # start again with only three of the five answers kept
        if path.is_file():
            path.unlink()
    with pytest.raises(KeyboardInterrupt):
        _run(_interrupted_after(3), cache)
    resumed = _run(ScriptedBackend(responder=oracle, identity="oracle"), cache)
    assert resumed.meta.stats.extract_calls == 2
    assert not [w for w in resumed.meta.warnings if "extraction calls" in w]


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


@pytest.mark.parametrize("appended", ["Keep the summary to two sentences.", "{{ no_such_variable.attr }}"])
def test_text_outside_the_blocks_is_refused_with_file_and_line(tmp_path, appended):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    original = (default_prompts_dir() / "summarize.j2").read_text()
    (prompts / "summarize.j2").write_text(original.rstrip("\n") + "\n" + appended + "\n")
    line = len(original.rstrip("\n").splitlines()) + 1
    backend = ScriptedBackend(responder=oracle)
    with pytest.raises(TemplateError) as caught:
        _run(backend, tmp_path / "cache", prompts=prompts)
    assert f"summarize.j2, line {line}" in str(caught.value) and "outside" in str(caught.value)
    assert backend.requests == []


def test_template_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "extract.j2").write_text(
        "{% block system %}ok{% endblock %}\n{% block user %}{% for x in %}{% endblock %}")
    with pytest.raises(TemplateError, match=r"extract\.j2, line 2"):
        PromptSet(tmp_path).messages("extract", article={}, chunk={}, sentences=[])


def test_prompt_overrides_fall_back_to_defaults(tmp_path):
    shutil.copy(default_prompts_dir() / "summarize.j2", tmp_path / "summarize.j2")
    listing = {name: origin for name, _, origin in PromptSet(tmp_path).listing()}
    assert listing == {"extract": "default", "headline": "default", "summarize": "custom", "adjudicate": "default",
                       "retry": "default"}


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
    assert any("004_f550f66cc359bc1c" in w and "Invalid JSON" in w for w in result.meta.warnings)
    assert {m.article for e in result.timeline for m in e.mentions} >= {
        "000_194fac485f307d0b", "001_c294f2ccbd6d00ec", "002_c924205565333087", "003_1326406fc45ba7b4"}


def test_a_reply_that_does_not_fit_is_extracted_in_halves():
    from storyline.backends import Generation

    text = "\n".join(f"Minister {i} resigned on Monday." for i in range(1, 9))
    article = Article(id="a", text=text, published=dt.date(2025, 3, 18))

    class Cramped(ScriptedBackend):
        """Cuts off any reply for a chunk of more than three sentences."""

        def generate(self, request, progress=None):
            generation = super().generate(request)
            if is_extraction(request) and request.messages[1][1].count("\n") > 2:
                return Generation(text='{"ev', finish_reason="length", completion_tokens=request.max_tokens)
            return generation

    def respond(request):
        if not is_extraction(request):
            return oracle(request)
        lines = request.messages[1][1].splitlines()
        return events(*[event(f"Minister {line.split()[2]} resigns", n) for n, line in enumerate(lines, 1)])

    backend = Cramped(responder=respond, context_window=100_000)
    pipeline = Pipeline(backend, use_cache=False)
    mentions = pipeline.extract([article])
    assert sorted(m.quote for m in mentions) == sorted(f"Minister {i} resigned on Monday." for i in range(1, 9))
    assert all(m.date.start == dt.date(2025, 3, 17) for m in mentions)
    assert pipeline.stats.truncated > 0 and pipeline.stats.failed_chunks == 0
    user_prompts = [r.messages[1][1] for r in backend.requests]
    assert user_prompts[-1].startswith("1 Minister")  # halves are numbered from 1 again


def test_a_prompt_too_long_for_the_window_loses_only_its_chunk(tmp_path):
    """A backend that refuses one article's prompts as too long for its window (a server with a
    smaller context than planned for): that chunk is split and then reported, the run goes on."""
    from storyline.errors import PromptTooLongError

    def refusing(request):
        if is_extraction(request) and "Former U.S. President" in request.messages[1][1]:
            return PromptTooLongError("the prompt does not fit the server's context window")
        return oracle(request)

    result = _run(ScriptedBackend(responder=refusing), tmp_path)
    assert result.meta.stats.failed_chunks >= 1
    assert any("004_f550f66cc359bc1c" in w and "context window" in w for w in result.meta.warnings)
    assert {m.article for e in result.timeline for m in e.mentions} >= {
        "000_194fac485f307d0b", "001_c294f2ccbd6d00ec", "002_c924205565333087", "003_1326406fc45ba7b4"}
    assert result.summary


def test_rerender_with_another_template_never_calls_the_model(oracle_backend, tmp_path):
    result = _run(oracle_backend, tmp_path)
    calls = len(oracle_backend.requests)
    custom = tmp_path / "brief.j2"
    custom.write_text("{% for e in result.timeline %}{{ e.date | span }}|{{ e.sources }}\n{% endfor %}")
    text = render(result, str(custom))
    assert "18 Mar 2025|5" in text
    assert "## Events" in render(result, "markdown") and render(result, "text")
    assert len(oracle_backend.requests) == calls


def test_html_templates_escape_every_value(oracle_backend, tmp_path):
    result = _run(oracle_backend, tmp_path)
    result.summary = "<script>alert(1)</script> {{ 7 * 7 }}"
    custom = tmp_path / "page.html"
    custom.write_text("<p>{{ result.summary }}</p>")
    text = render(result, str(custom))
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "{{ 7 * 7 }}" in text  # article and model text is never template code
    plain = tmp_path / "page.txt"
    plain.write_text("{{ result.summary }}")
    assert render(result, str(plain)).startswith("<script>")  # text formats keep text as it is


def test_article_without_publication_date_warns_and_still_orders():
    def respond(request):
        if not is_extraction(request):
            return {"sentences": ["A minister resigned."]}
        return events(event("Minister resigns", 1), event("Vote held", 2))

    article = Article(id="undated", text="The minister resigned on Tuesday. The vote was held in March 2021.\n")
    result = summarize([article], backend=ScriptedBackend(responder=respond), use_cache=False)
    assert any("no publication date" in w and "--published" in w for w in result.meta.warnings)
    dates = {m.when: m.date for e in result.timeline for m in e.mentions}
    assert dates["on Tuesday"].start is None and dates["on Tuesday"].precision == "unknown"
    assert (dates["in March 2021"].start, dates["in March 2021"].end) == (dt.date(2021, 3, 1), dt.date(2021, 3, 31))
    assert result.timeline[0].date.start == dt.date(2021, 3, 1)  # the placed event comes first


def test_impossible_dates_in_an_article_never_stop_the_run():
    def respond(request):
        if not is_extraction(request):
            return {"sentences": ["A treaty was signed."]}
        return events(event("Treaty signed", 1), event("Talks held", 2))

    article = Article(id="odd", text="The treaty was signed on April 31.\nTalks were held on February 30.\n",
                      published=dt.date(2025, 5, 5))
    result = summarize([article], backend=ScriptedBackend(responder=respond), use_cache=False)
    spans = {m.when: m.date for e in result.timeline for m in e.mentions}
    assert set(spans) == {"on April 31", "on February 30"}
    for span in spans.values():
        assert span.start is None and span.end == dt.date(2025, 5, 5) and span.qualifier == "before"
        assert "no day" in span.note


def _unsure_mentions():
    from test_merge import _unsure_pair

    from storyline.models import ArticleInfo

    mentions = _unsure_pair()
    return [ArticleInfo(id=m.article, title=f"The {m.article} story", published=dt.date(2025, 3, 17 + n))
            for n, m in enumerate(mentions)], mentions


def test_summary_and_adjudication_failures_leave_a_warning_not_a_crash():
    articles, mentions = _unsure_mentions()
    broken = ScriptedBackend(responder=lambda request: "not json")
    result = Pipeline(broken, use_cache=False, adjudicate=True).run_from_mentions(articles, mentions)
    assert result.summary == "" and any(w.startswith("No summary") for w in result.meta.warnings)
    assert result.meta.stats.adjudicate_calls == 3  # one question, asked three times, never answered
    assert (result.meta.stats.adjudicated_pairs, result.meta.stats.adjudicated_same) == (1, 0)
    assert len(result.timeline) == 2  # an unanswered question merges nothing


def _judge(same: bool, asked: list[str]) -> ScriptedBackend:
    """A backend answering every adjudication with ``same`` (the rest as the oracle), keeping
    each adjudication prompt's user message in ``asked``."""

    def respond(request):
        if "same" not in request.json_schema.get("properties", {}):
            return oracle(request)
        asked.append(request.messages[1][1])
        return {"same": same}

    return ScriptedBackend(responder=respond)


def test_the_adjudication_prompt_leaves_out_a_title_that_says_nothing():
    from test_merge import _OPENING

    articles, mentions = _unsure_mentions()
    # a faint link on the words alone (the labels say nothing): the judge's to join
    faint = [_OPENING, "Hundreds crossed the bridge over the river at dusk."]
    labelled = [m.model_copy(update={"title": "Council approves budget", "quote": quote})
                for m, quote in zip(mentions, faint, strict=True)]
    asked: list[str] = []
    Pipeline(_judge(False, asked), use_cache=False, adjudicate=True).run_from_mentions(articles, labelled)
    assert len(asked) == 1 and "budget" not in asked[0].lower()
    report_lines = [line for line in asked[0].splitlines() if line.startswith("Sentence ")]
    assert len(report_lines) == 2 and not any("headline" in line for line in report_lines)


def test_the_adjudication_prompt_shows_each_report_with_its_source_and_publication_date():
    articles, mentions = _unsure_mentions()
    asked: list[str] = []
    Pipeline(_judge(False, asked), use_cache=False, adjudicate=True).run_from_mentions(articles, mentions)
    first, second = (line for line in asked[0].splitlines() if line.startswith("Sentence "))
    sources = {m.article: n for n, m in enumerate(mentions)}
    shown = sorted((first, second), key=lambda line: sources[line.split('"The ')[1].split(" story")[0]])
    assert [line[line.index('"'):] for line in shown] == [
        f'"The {mentions[0].article} story" (published 17 Mar 2025); headline: {mentions[0].title}',
        f'"The {mentions[1].article} story" (published 18 Mar 2025); headline: {mentions[1].title}']


def test_a_model_that_says_yes_to_every_pair_is_not_used_and_the_user_is_told():
    from seed_gold import mentions

    from storyline.models import ArticleInfo

    weak = [m for _, m in mentions("weak")]
    articles = [ArticleInfo(id=article) for article in sorted({m.article for m in weak})]
    asked: list[str] = []
    judged = Pipeline(_judge(True, asked), use_cache=False, adjudicate=True).run_from_mentions(articles, weak)
    alone = Pipeline(_judge(True, []), use_cache=False).run_from_mentions(articles, weak)
    assert len(asked) == 5  # the control pairs that cannot be one event, each called the same event
    assert any("cannot be one event" in w and "without adjudication" in w for w in judged.meta.warnings)
    assert [e.mentions for e in judged.timeline] == [e.mentions for e in alone.timeline]


def test_adjudication_merges_the_pair_the_model_calls_the_same():
    articles, mentions = _unsure_mentions()
    asked: list[str] = []
    result = Pipeline(_judge(True, asked), use_cache=False, adjudicate=True).run_from_mentions(articles, mentions)
    assert result.meta.stats.adjudicate_calls == len(asked) == 1
    assert (result.meta.stats.adjudicated_pairs, result.meta.stats.adjudicated_same) == (1, 1)
    assert "Sentence A" in asked[0] and "mayor" in asked[0].lower()
    assert len(result.timeline) == 1 and result.timeline[0].sources == 2



def test_the_judge_asks_no_more_than_its_limit_and_counts_what_it_left_apart(monkeypatch):
    from storyline.adjudication import ModelJudge
    from storyline.models import Stats

    articles, mentions = _unsure_mentions()
    asked: list[str] = []
    stats = Stats()
    judge = ModelJudge(_judge(True, asked), Pipeline(_judge(True, [])).prompts, stats, cache=None,
                       articles=articles, limit=2)
    stats.adjudicated_pairs = 5  # an earlier run's questions do not count against this judge's limit
    answers = [judge(mentions[0], mentions[1]) for _ in range(4)]
    assert answers == [True, True, False, False] and len(asked) == 2
    assert (judge.asked, judge.unasked) == (2, 2)
    assert (stats.adjudicated_pairs, stats.adjudicated_same, stats.adjudication_unasked) == (7, 2, 2)

    monkeypatch.setattr("storyline.adjudication.QUESTIONS_PER_MENTION", 0)
    asked.clear()
    result = Pipeline(_judge(True, asked), use_cache=False, adjudicate=True).run_from_mentions(articles, mentions)
    assert asked == [] and len(result.timeline) == 2  # the pair the judge would have joined stays apart
    assert result.meta.stats.adjudication_unasked == 1
    assert any("limit of 0 questions" in w and "left apart" in w for w in result.meta.warnings)


def test_the_in_process_judge_reads_its_answer_and_a_rerun_takes_it_from_the_cache(tiny_gguf, tmp_path):
    """With llama.cpp at temperature 0 each question is one reading of the answer's probabilities
    (no token generated), its verdict the likelier answer; a second run asks the cache."""
    from storyline.adjudication import ANSWERS, REPLY_START
    from storyline.backends.llama import LlamaCppBackend

    articles, mentions = _unsure_mentions()
    backend = LlamaCppBackend(tiny_gguf)
    runs = []
    for _ in range(2):
        pipeline = Pipeline(backend, cache_dir=tmp_path, adjudicate=True)
        judge = pipeline.adjudicator(articles)
        runs.append((judge(mentions[0], mentions[1]), pipeline.stats.model_copy(deep=True)))
    reading = backend.read_choice(judge.messages(mentions[0], mentions[1]), REPLY_START, ANSWERS)
    (first, stats), (again, rerun) = runs
    assert first == again == (reading.logprobs[0] > reading.logprobs[1])
    judged = stats.stage("adjudicate")
    assert (judged.calls, judged.completion_tokens, stats.adjudicated_pairs) == (1, 0, 1)
    assert judged.prompt_tokens_evaluated > 0
    assert (rerun.stage("adjudicate").calls, rerun.stage("adjudicate").cache_hits) == (0, 1)
    sampled = Pipeline(backend, use_cache=False, adjudicate=True, temperature=0.7).adjudicator(articles)
    sampled(mentions[0], mentions[1])
    assert sampled.stats.stage("adjudicate").completion_tokens > 0  # sampling generates a reply
    backend.close()

NAMED = {  # sentence -> the headline the model writes for it alone
    "Ukraine reported on Sunday that Moscow had launched 90 Iranian-made Shahed drones on nine regions.":
        "Moscow launches 90 drones at nine regions",
    "Press Secretary Karoline Leavitt stated on Monday that Trump remains dedicated to securing peace.":
        "Leavitt says Trump dedicated to peace",
    "Last month, he clashed with Zelensky in Washington, causing the Ukrainian leader to leave early.":
        "Zelensky clashes with Putin",  # names someone the sentence does not: refused again
}


def test_a_refused_headline_is_asked_for_again_for_its_sentence_alone():
    """In a batch the model slips each headline onto the next sentence; asked for one sentence at
    a time, it names each. What it still cannot name is named by its opening words."""
    from storyline.merge import build_event
    from storyline.models import Mention

    sentences = list(NAMED)
    asked = []

    def reply(request):
        shown = [s for s in sentences if s in request.messages[-1][1]]
        asked.append(len(shown))
        if len(shown) > 1:  # the batch: every headline one sentence late
            return {"headlines": ["Weekend fighting continues", *(NAMED[s] for s in shown[:-1])]}
        return {"headlines": [NAMED[shown[0]]]}

    events = [build_event([Mention(article=f"a{i}", quote=s, title="", offset=i)]) for i, s in enumerate(sentences)]
    pipeline = Pipeline(backend=ScriptedBackend(responder=reply))
    named = pipeline.name_events(events)
    assert asked == [3, 1, 1, 1]
    assert [e.title for e in named] == [
        "Moscow launches 90 drones at nine regions", "Leavitt says Trump dedicated to peace",
        "Last month, he clashed with Zelensky in Washington, causing the Ukrainian leader…"]


# --- a large story, read in part (storyline.reading) ------------------------------------------------

FIGURES = "The committee went over the figures with members of the public on Monday"
WIRE = "Oil giant BP said on Monday that it would pay for the whole clean-up of the spill on the coast."


def _large_story(count: int = 30, sentences: int = 40) -> list[Article]:
    """Articles of a headline line, two lead sentences, the same wire sentence and many dated
    sentences (told apart by a number each): far more than the model reads."""
    articles = []
    for number in range(count):
        body = [f"{FIGURES}, item {number}-{index}." for index in range(sentences)]
        text = (f"Council of town {number} in the news\nThe council of town {number} met in public.\n"
                f"Its members argued about town {number}.\n" + " ".join([WIRE, *body]))
        articles.append(Article(id=f"t{number}", text=text, published=dt.date(2025, 3, 17)))
    return articles


@pytest.fixture(scope="module")
def large_run():
    backend = ScriptedBackend(responder=oracle)
    pipeline = Pipeline(backend, use_cache=False)
    result = pipeline.run(_large_story())
    return backend, result


def _asked(backend) -> str:
    return "\n".join(request.messages[-1][1] for request in backend.requests if is_extraction(request))


def test_a_dated_sentence_the_model_does_not_read_still_reaches_the_timeline(large_run):
    backend, result = large_run
    stats = result.meta.stats
    assert stats.sentences_unread > stats.sentences_read > 0
    unread = f"{FIGURES}, item 17-33."
    assert unread not in _asked(backend)  # the model never saw it
    (event,) = [e for e in result.timeline if any(m.quote == unread for m in e.mentions)]
    (mention,) = [m for m in event.mentions if m.quote == unread]
    assert mention.chunk == -1 and mention.article == "t17" and mention.when == "on Monday"
    assert (mention.date.start, mention.date.end) == (dt.date(2025, 3, 17), dt.date(2025, 3, 17))


def test_a_repeat_of_a_sentence_the_model_read_takes_its_headline(large_run):
    backend, result = large_run
    assert _asked(backend).count(WIRE) == 1
    reports = [m for e in result.timeline for m in e.mentions if m.quote == WIRE]
    assert sorted(m.article for m in reports) == sorted(f"t{n}" for n in range(30))
    (read,) = [m for m in reports if m.chunk >= 0]
    assert read.title.startswith("giant BP said")  # the oracle's headline, as grounding cleans it
    assert {m.title for m in reports} == {read.title}


def test_in_a_story_read_in_part_only_events_of_several_sources_are_named_by_the_model(large_run):
    backend, result = large_run
    asked = [request.messages[-1][1] for request in backend.requests if "headlines" in
             request.json_schema.get("properties", {})]
    events_asked = [e for e in result.timeline if any(m.quote in text for text in asked for m in e.mentions)]
    assert all(e.sources >= 2 for e in events_asked)
    lone = [e for e in result.timeline if e.sources == 1 and all(not m.title for m in e.mentions)]
    assert lone and all(e.title == " ".join(e.mentions[0].quote.split()[:12]) + "…" for e in lone)


def test_an_interrupted_run_with_calls_in_flight_leaves_a_backend_it_was_given_open(tmp_path):
    """Interrupted with calls in flight, a run cancels what has not started; it closes the
    backend only if it loaded it itself (a library caller's backend is the caller's to close)."""

    class Closable(ScriptedBackend):
        parallel = 3
        closed = 0

        def close(self) -> None:
            type(self).closed += 1

    given = Closable(responder=_flaky(2), identity="oracle")
    with pytest.raises(KeyboardInterrupt):
        _run(given, tmp_path / "cache")
    assert Closable.closed == 0


def test_each_run_counts_and_warns_for_itself_and_leaves_the_callers_options_as_given():
    """A second run of one Pipeline leaves the first run's Result as it was: its stats and
    warnings are its own. Overrides given to the Pipeline do not change the caller's Options."""
    from storyline.pipeline import Options

    def respond(request):
        if not is_extraction(request):
            return {"sentences": ["A minister resigned."]}
        return events(event("Minister resigns", 1))

    undated = Article(id="undated", text="The minister resigned on Tuesday.\n")
    given = Options(use_cache=False)
    pipeline = Pipeline(ScriptedBackend(responder=respond), given, read_share=None)
    assert given.read_share is not None and pipeline.options.read_share is None
    first = pipeline.run([undated])
    first_calls, first_warnings = first.meta.stats.llm_calls, list(first.meta.warnings)
    assert first_calls >= 1 and len(first_warnings) == 1
    second = pipeline.run([undated])
    assert (first.meta.stats.llm_calls, first.meta.warnings) == (first_calls, first_warnings)
    assert second.meta.stats.llm_calls == first_calls and len(second.meta.warnings) == 1
    with pytest.raises(TypeError, match="colour"):
        Pipeline(ScriptedBackend(responder=respond), colour="red")


def test_every_counter_of_the_stats_is_counted_somewhere():
    """A counter in the JSON contract that no code ever changes would always read 0 and mislead
    whoever reads it. Each is set or added to (``.name +=``, ``.name =``, or by name through
    ``calls._count``) in the package outside models.py, or set by ``Stats.settle``."""
    import re
    from pathlib import Path

    import storyline
    from storyline.models import Stats

    package = Path(storyline.__file__).parent
    code = "\n".join(path.read_text() for path in package.rglob("*.py") if path.name != "models.py")
    settled = {"extract_calls", "summary_calls", "adjudicate_calls", "extract_prompt_tokens_evaluated"}
    counters = [name for name, info in Stats.model_fields.items() if info.annotation is int]
    never = [name for name in counters if name not in settled
             and not re.search(rf"\.{name} *\+?=|\"{name}\"", code)]
    assert never == []
