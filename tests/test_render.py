"""Output formats: the HTML page (parsed, not matched as text), Markdown and text credits."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from conftest import SEEDS, oracle

from storyline import summarize
from storyline.backends.scripted import ScriptedBackend
from storyline.models import ArticleInfo, Conflict, DateSpan, Event, Mention, Meta, Precision, Result, Stats
from storyline.render import render

HOSTILE = "<script>alert('x')</script> {{ 7 * 7 }} {% if true %}yes{% endif %} & <b>bold</b>"


class Page(HTMLParser):
    """The parts of the page the tests look at: elements by class, texts, links, scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.events: list[dict] = []
        self.links: list[str] = []
        self.scripts = 0
        self.external = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.stack.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "li" and "event" in classes:
            self.events.append({"classes": classes, "quotes": [], "title": "", "when": "", "credits": [],
                                "differ": []})
        if tag == "a":
            self.links.append(attributes.get("href") or "")
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if attributes.get(name, "").startswith(("http", "//")) and tag != "a":
                self.external.append(attributes[name])

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.text.append(data)
        if not self.events or not any(t == "li" for t, _ in self.stack):
            return
        event, tags = self.events[-1], [t for t, _ in self.stack]
        if tags[-1] == "h2":
            event["title"] += data
        elif tags[-1] == "time":
            event["when"] += data
        elif tags[-2:] == ["blockquote", "p"]:
            event["quotes"].append(data)
        elif "footer" in tags and "blockquote" in tags:
            event["credits"].append(data)
        elif "li" in tags[tags.index("li") + 1:]:  # a list item inside the event: a disagreement
            event["differ"].append(data)


def _result() -> Result:
    day = DateSpan(start=dt.date(2025, 3, 18), end=dt.date(2025, 3, 18), precision=Precision.day)
    before = DateSpan(end=dt.date(2025, 3, 17), qualifier="before", vague=True, expression="recently")
    first = Mention(article="a", quote="Leaders met in Paris on Tuesday.", title="Leaders meet", when="on Tuesday",
                    date=day)
    second = Mention(article="b", quote=HOSTILE, title="Leaders meet", date=day)
    vague = Mention(article="b", quote="Talks were held recently.", title="Talks held", when="recently", date=before)
    return Result(
        articles=[ArticleInfo(id="a", title="Paris talks", source="Wire One", url="https://example.org/a"),
                  ArticleInfo(id="b", title=HOSTILE, url="javascript:alert(1)")],
        timeline=[Event(id="ev-1", title="Leaders meet " + HOSTILE, date=day, mentions=[first, second], sources=2,
                        conflicts=[Conflict(kind="title", detail="Macron is described differently")]),
                  Event(id="ev-2", title="Talks held", date=before, mentions=[vague], sources=1)],
        summary="Summary " + HOSTILE,
        meta=Meta(model="tiny.gguf", warnings=["a warning " + HOSTILE], stats=Stats(llm_calls=3)),
    )


def test_html_page_holds_every_event_and_quote_escaped():
    page = Page(render(_result(), "html"))
    assert page.scripts == 0 and page.external == []  # self-contained: no script, nothing fetched
    assert [e["title"].strip() for e in page.events] == ["Leaders meet " + HOSTILE, "Talks held"]
    assert [q.strip() for q in page.events[0]["quotes"]] == ["Leaders met in Paris on Tuesday.", HOSTILE]
    credits = "".join(page.events[0]["credits"])
    assert credits.count("Wire One") == 1 and "Paris talks" not in credits  # by outlet first
    assert HOSTILE in credits  # article b has no outlet: by its title (as text)
    assert "https://example.org/a" in page.links
    assert not any(link.startswith("javascript") for link in page.links)
    assert "job title" in " ".join(page.events[0]["differ"])
    assert "Summary " + HOSTILE in " ".join(page.text) and "a warning " + HOSTILE in " ".join(page.text)


def test_html_page_shows_precision_and_draws_vague_dates_as_open():
    page = Page(render(_result(), "html"))
    precise, vague = page.events
    assert precise["when"] == "18 Mar 2025" and "open" not in precise["classes"]
    assert vague["when"] == "before 17 Mar 2025 (recently)" and "open" in vague["classes"]


def test_custom_html_templates_escape_too(tmp_path):
    custom = tmp_path / "mine.html"
    custom.write_text("<p>{{ result.summary }}</p>")
    text = render(_result(), str(custom))
    assert "<script>" not in text and "&lt;script&gt;" in text and "{{ 7 * 7 }}" in text


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_markdown_and_text_credit_quotes_by_outlet_or_title(fmt):
    text = render(_result(), fmt)
    assert "Wire One" in text  # outlet of article a
    assert "`a`" not in text.split("## Sources")[0]


def test_markdown_footer_names_the_model():
    assert render(_result(), "markdown").rstrip().endswith("_Made with storyline using tiny.gguf._")


def test_render_command_writes_html_from_a_result(tmp_path):
    import subprocess

    result = summarize([SEEDS], backend=ScriptedBackend(responder=oracle), use_cache=False)
    path = tmp_path / "result.json"
    path.write_text(render(result, "json"))
    run = subprocess.run(["storyline", "render", str(path), "--format", "html"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    page = Page(run.stdout)
    assert len(page.events) == len(result.timeline)
    assert sum(len(e["quotes"]) for e in page.events) == sum(len(e.mentions) for e in result.timeline)


def test_a_template_mistake_is_a_template_error_naming_the_file(tmp_path):
    from storyline.errors import TemplateError

    result = Result(articles=[], timeline=[], summary="")
    for body, said in (("{{ 1 / 0 }}", "division by zero"), ('{{ "soon" | span }}', "span filter takes a date span")):
        custom = tmp_path / "mine.j2"
        custom.write_text(body)
        with pytest.raises(TemplateError, match=said) as caught:
            render(result, str(custom))
        assert "mine.j2" in str(caught.value)


def test_a_bug_in_storylines_own_filter_is_not_blamed_on_the_template(monkeypatch, tmp_path):
    """A failure inside storyline's code stays the error it is (a traceback, exit 1), never
    "fix the template"."""
    import storyline.dates

    def broken(span):
        raise KeyError("bug in format_span")

    monkeypatch.setattr(storyline.dates, "format_span", broken)
    custom = tmp_path / "mine.j2"
    custom.write_text("{% for e in result.timeline %}{{ e.date | span }}{% endfor %}")
    event = Event(id="e", title="t", date=DateSpan(), mentions=[])
    with pytest.raises(KeyError, match="bug in format_span"):
        render(Result(articles=[], timeline=[event], summary=""), str(custom))
