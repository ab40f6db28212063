from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from conftest import SEEDS, reference_vocabulary

from storyline import reading
from storyline.backends.llama import LlamaCppBackend
from storyline.chunk import chunk_article, chunk_articles, is_heading, section_headings, split_sentences
from storyline.errors import InputError
from storyline.extract import Planner
from storyline.ingest import load_articles
from storyline.models import Article
from storyline.templating import PromptSet

# The section headings of the seed articles, copied from the files by hand, and the headline of
# seeds/001, which is a heading wherever it is not an article's first line.
SEED_HEADINGS = {
    "Talks Over Land and Power Plants", "Challenges to Peace Talks", "Russian Demands and Western Responses",
    "Peacekeeping Debate", "US Officials Cautious Amid Ongoing Attacks", "Putin’s ‘Ironclad’ Demands",
    "Peacekeeping Prospects & International Response", "Optimism Grows for Ceasefire Deal",
    "U.S.-Russia Diplomatic Channels Remain Active", "UK Calls Out Russia’s Stalling Tactics",
    "Looking Ahead: Will a Ceasefire Materialize?", "Zelensky Accuses Putin of Blocking Peace Efforts",
    "Pressure Mounts for Immediate Ceasefire", "White House Remains Optimistic", "Disagreements and Future Challenges",
}
HEADLINE_001 = "Trump, Putin to Discuss Ukraine Peace Deal on Tuesday"


def _without_headings(text: str, sentences, also=()):
    return [s for s in sentences if text[s.start:s.end] not in SEED_HEADINGS | set(also)]


def _count(backend: LlamaCppBackend, text: str) -> int:
    """Tokens by llama.cpp's own tokenizer, called directly (not through storyline's counter)."""
    return len(reference_vocabulary(backend.path).tokenize(text.encode("utf-8"), add_bos=False, special=False))


def test_sentences_split_lines_and_keep_abbreviations():
    text = "Headline Without Stop\nU.S. Secretary of State Marco Rubio spoke. Feb. 28 was a Friday.\n\nLast one."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == ["Headline Without Stop", "U.S. Secretary of State Marco Rubio spoke.",
                         "Feb. 28 was a Friday.", "Last one."]


def test_text_that_made_the_splitter_panic_is_split():
    text = "A\xa0. B? C.\nNext line here."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]  # no PanicException
    assert sentences[-1] == "Next line here."
    assert re.sub(r"\s", "", "".join(sentences)) == re.sub(r"\s", "", text)


@pytest.mark.parametrize(("line", "sentences"), [
    # the Guardian: headline and standfirst, the stamp, the first sentence
    ("Swine flu will spread, as UK confirms three more cases Tuesday 12 May 2009 16.36 BST The virus will "
     "infect a third of the world. Experts agree.",
     ["Swine flu will spread, as UK confirms three more cases", "The virus will infect a third of the world.",
      "Experts agree."]),
    # the BBC: the stamp and its "Help" link open the line
    ("26 August 2010 Last updated at 14:30 GMT Help In 2002 the tanker Prestige broke up off Spain.",
     ["In 2002 the tanker Prestige broke up off Spain."]),
    ("Posted Friday, 4 June 2010, 6:15 pm EDT by the desk", ["Posted", "by the desk"]),
    # a date and a time of day in a report are no stamp
    ("The rig exploded on 20 April 2010 at 21.45 local time.", None),
    ("On Tuesday 12 May 2009 at 16.36 BST the results came.", None),
])
def test_a_pages_time_stamp_ends_the_headline_and_is_left_out(line, sentences):
    text = "Intro line.\n" + line
    assert [text[s.start:s.end] for s in split_sentences(text)] == ["Intro line.", *(sentences or [line])]


def test_a_splitter_panic_falls_back_to_full_stops(monkeypatch, caplog):
    import sentencex

    class PanicException(BaseException):  # what pyo3 raises: not an Exception
        pass

    def panic(language, text):
        raise PanicException("byte index is not a char boundary")

    monkeypatch.setattr(sentencex, "segment", panic)
    text = "Talks ended. Both sides left.\nA vote followed."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == ["Talks ended.", "Both sides left.", "A vote followed."]
    assert "sentence splitter failed" in caplog.text


def test_chunks_respect_budget_and_cover_every_sentence(llama_backend):
    article = load_articles([SEEDS])[4]
    chunks = chunk_article(article, llama_backend.tokenizer, 120, per_sentence_overhead=4)
    assert len(chunks) > 3
    for chunk in chunks:
        recount = sum(_count(llama_backend, article.text[s.start:s.end]) + 4 for s in chunk.sentences)
        assert recount <= 120
        assert chunk.text == article.text[chunk.start : chunk.end]
    covered = [s for c in chunks for s in c.sentences]
    assert covered == _without_headings(article.text, split_sentences(article.text))
    assert len(covered) == len(split_sentences(article.text)) - 4  # seeds/004 has four section headings


def test_sentence_longer_than_budget_is_cut_at_word_breaks(llama_backend):
    words = " ".join(f"word{i}" for i in range(400))
    article = Article(id="long", text=words + ".")
    chunks = chunk_article(article, llama_backend.tokenizer, 50)
    assert len(chunks) > 5
    assert all(_count(llama_backend, c.text) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks) == article.text


def test_a_long_run_without_spaces_is_left_out_and_the_rest_is_read(llama_backend):
    blob = "data:image/png;base64," + "iVBORw0KGgo" * 2000
    text = f"The minister resigned on Monday.\n{blob}\nParliament met on Tuesday. See {blob} too."
    article = Article(id="blob", text=text)
    problems: list[str] = []
    (chunks,) = chunk_articles([article], llama_backend.tokenizer, 200, problems=problems)
    read = [article.text[s.start:s.end] for c in chunks for s in c.sentences]
    assert read == ["The minister resigned on Monday.", "Parliament met on Tuesday.", "See", "too."]
    assert problems and "left out 2 stretch" in problems[0]


COMMENTED_PAGE = (
    "Oil reaches the coast\n"
    "Oil reached the Louisiana coast on Thursday, officials said.\n"
    "What do you think of the response?\n"
    "At 10:14 am on 28 May 2010 , pzero wrote : BP says it capped the well on Friday.\n"
    "I think the response was admirable.\n"
    "At 10:15 AM on May 28, 2010, Jane Doe wrote: Obama visited on Friday.\n"
)


def test_a_pages_reader_comments_are_left_out_and_said_so(llama_backend):
    article = Article(id="page", text=COMMENTED_PAGE, path="page.txt")
    problems: list[str] = []
    (chunks,) = chunk_articles([article], llama_backend.tokenizer, 200, problems=problems)
    read = [article.text[s.start:s.end] for c in chunks for s in c.sentences]
    assert read == ["Oil reaches the coast", "Oil reached the Louisiana coast on Thursday, officials said.",
                    "What do you think of the response?"]
    assert len(problems) == 1 and problems[0].startswith("page.txt: left out its reader comments")
    assert "At 10:14 am on 28 May 2010 , pzero wrote" in problems[0]


@pytest.mark.parametrize(("text", "article_lines"), [
    # Washington Post: each comment signed after its text, within its line
    ("BP agreed to a $20bn fund on Wednesday.\nThe fund will be run independently.\n"
     "Good news at last Posted by : eye95 | July 19 , 2010 9:25 AM | Report abuse Now plain and simple.\n"
     "Nothing will change Posted by : rallyart2012 | April 30 , 2010 12:27 PM | Report abuse\n", 2),
    # Guardian blogs: "Posted by NAME on DATE TIME ." closing each comment
    ("Was I wrong about Iraq?\nThe war began on 20 March 2003.\nPosted by David T on April 2 , 2005 11:01 PM .\n"
     "A New Labor sell out .\nPosted by Hanf on April 2 , 2005 11:42 PM .\n", 2),
])
def test_comment_sections_of_other_layouts_are_left_out(llama_backend, text, article_lines):
    article = Article(id="page", text=text)
    problems: list[str] = []
    (chunks,) = chunk_articles([article], llama_backend.tokenizer, 200, problems=problems)
    assert [article.text[s.start:s.end] for c in chunks for s in c.sentences] == text.split("\n")[:article_lines]
    assert len(problems) == 1 and "reader comments" in problems[0]


@pytest.mark.parametrize("text", [
    # a blog post signs itself once
    "The war began on 20 March 2003.\nPosted by David T on April 2 , 2005 11:01 PM .",
    # one byline may be a report quoting a post
    "Trump spoke on Monday.\nAt 8:02 am on 18 March 2025, Trump wrote: I will call Putin.\nThe call followed.",
    # a report's times of day on a weekday are no comment time stamps
    "At 8:02 am on Tuesday, Trump wrote: Calling Putin.\nAt 9:40 am on Tuesday, Trump wrote: Good call.",
])
def test_a_report_quoting_posts_is_read_whole(llama_backend, text):
    article = Article(id="report", text=text)
    problems: list[str] = []
    (chunks,) = chunk_articles([article], llama_backend.tokenizer, 200, problems=problems)
    assert [article.text[s.start:s.end] for c in chunks for s in c.sentences] == text.split("\n")
    assert problems == []


def test_a_long_word_under_the_limit_is_cut_between_characters(llama_backend):
    word = "x" * 450  # below the leave-out length, above the budget
    article = Article(id="w", text=f"Start. {word} end.")
    chunks = chunk_article(article, llama_backend.tokenizer, 40)
    assert all(_count(llama_backend, c.text) <= 40 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == article.text.replace(" ", "")


def _reference_prompt_tokens(backend: LlamaCppBackend, messages) -> int:
    """The prompt's tokens as llama-cpp-python itself formats and tokenizes a chat, with its own
    Jinja2 chat formatter over the GGUF's template (independent of storyline's ChatPrompt)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    formatter = Jinja2ChatFormatter(template=reference_vocabulary(backend.path).metadata["tokenizer.chat_template"],
                                    eos_token="<|im_end|>", bos_token="<s>")
    prompt = formatter(messages=[{"role": r, "content": c} for r, c in messages]).prompt
    return len(reference_vocabulary(backend.path).tokenize(prompt.encode(), add_bos=False, special=True))


@pytest.mark.slow
def test_long_article_every_call_fits_the_real_context_window(tiny_gguf):
    """Every call of a long article, its prompt recounted by llama-cpp-python itself plus its
    output budget, fits the window; and llama.cpp runs every one of them."""
    from storyline.pipeline import Pipeline

    backend = LlamaCppBackend(tiny_gguf)
    seeds = load_articles([SEEDS])
    long_text = "\n".join(a.text for a in seeds for _ in range(6))
    article = Article(id="long", text=long_text)
    planned = Pipeline(backend, use_cache=False, max_chunk_tokens=100_000, read_share=None).plan([article])
    window = backend.context_window
    assert len(planned) > 1
    for call in planned:
        assert _reference_prompt_tokens(backend, call.request.messages) + call.request.max_tokens <= window
        generation = backend.generate(call.request)
        assert generation.finish_reason == "stop"
        json.loads(generation.text)
    sentences = [s for call in planned for s in call.chunk.sentences]
    assert sentences == _without_headings(long_text, split_sentences(long_text), also=[HEADLINE_001])


@dataclass
class Overcounting:
    """A vocabulary whose exact prompt count is much larger than its per-sentence estimate for
    prompts of more than ``limit`` sentences, to drive the planner's halving."""

    inner: object
    limit: int
    context_window: int = 8192
    name: str = "overcounting"

    @property
    def tokenizer(self):
        return self.inner.tokenizer

    def count_prompt_tokens(self, messages):
        real = self.inner.count_prompt_tokens(messages)
        return real * 100 if messages[1][1].count("\n") >= self.limit else real


def test_chunks_that_do_not_fit_exactly_are_halved_and_renumbered(llama_backend):
    article = load_articles([SEEDS])[1]
    planner = Planner(PromptSet(), Overcounting(llama_backend, limit=4), margin_tokens=10**6)  # count every prompt
    planned = planner.plan(reading.whole([article]))
    assert [call.chunk.index for call in planned] == list(range(len(planned)))
    assert all(len(call.chunk.sentences) <= 4 for call in planned)
    sentences = split_sentences(article.text)
    assert [s for call in planned for s in call.chunk.sentences] == _without_headings(article.text, sentences)
    assert article.text[sentences[0].start:sentences[0].end] == HEADLINE_001  # an article's headline is read
    for call in planned:
        lines = call.request.messages[1][1].splitlines()
        assert lines[0].startswith("1 ") and lines[-1].startswith(f"{len(call.chunk.sentences)} ")


@pytest.mark.parametrize(("line", "heading"), [
    ("Talks Over Land and Power Plants", True),
    ("Looking Ahead: Will a Ceasefire Materialize?", True),
    ("## Reactions", True),
    ("Western leaders remain skeptical.", False),  # a sentence ends with a stop
    ("During a conversation aboard Air Force One, Trump stated:", False),
    ("the talks went on late into the night", False),  # not capitalised
    ("Trump to Talk with Putin on Tuesday About Ending Ukraine War, Says Reuters", False),  # long
])
def test_section_headings_are_short_capitalised_lines_that_do_not_end_like_a_sentence(line, heading):
    assert is_heading(line) is heading


def test_an_articles_first_line_is_its_headline_and_is_read():
    text = "Council Approves Budget\nThe council approved the budget.\nReactions\nCritics objected."
    sentences = split_sentences(text)
    assert sorted(section_headings(text, sentences)) == [2]  # "Reactions", not the headline


def test_a_sentence_that_cannot_fit_is_a_clear_error(llama_backend):
    article = Article(id="one", text="Just one sentence here.", path="one.txt")
    planner = Planner(PromptSet(), Overcounting(llama_backend, limit=0), margin_tokens=10**6)
    with pytest.raises(InputError, match=r"one\.txt.*does not fit.*--ctx"):
        planner.plan(reading.whole([article]))


def test_a_line_ending_in_a_colon_and_the_quotation_below_it_are_one_sentence():
    text = ("During a conversation aboard Air Force One, Trump stated:\n“I think we’ll be talking about land.” "
            "He then flew to Washington.\nThe list:\n- one item\nHe said:\n\n“Later.”")
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == [
        "During a conversation aboard Air Force One, Trump stated:\n“I think we’ll be talking about land.”",
        "He then flew to Washington.", "The list:", "- one item", "He said:", "“Later.”"]
