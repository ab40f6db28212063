"""Headlines for events no mention titled: which of the model's headlines are kept."""

from __future__ import annotations

import pytest

from storyline.headlines import accepted, quote_title


def test_a_headline_is_kept_only_if_it_is_about_its_own_sentence_and_more_than_its_opening():
    sentences = ["However, fighting continued over the weekend, with both sides launching heavy attacks.",
                 "Press Secretary Karoline Leavitt stated on Monday that Trump remains dedicated to peace.",
                 "The Kremlin confirmed the upcoming call."]
    headlines = ["However, fighting continued over the weekend",  # the opening, copied
                 "Kremlin confirms call",  # about the third sentence, not the second
                 "Kremlin confirms call"]
    assert accepted(headlines, sentences) == [None, None, "Kremlin confirms call"]
    titles = ["Weekend fighting continues", "Leavitt: Trump dedicated to peace", "Kremlin confirms call"]
    assert accepted(titles, sentences) == titles
    unfinished = ["Weekend fighting continues", "Leavitt says Trump is", "Kremlin confirms call"]
    assert accepted(unfinished, sentences) == ["Weekend fighting continues", None, "Kremlin confirms call"]


@pytest.mark.parametrize(("sentence", "title"), [
    ("“We want to see if we can bring that war to an end,” Trump told reporters aboard Air Force One.",
     "Trump: “We want to see if we can…”"),
    ("“Sergei Lavrov and Marco Rubio agreed to remain in contact,” the Russian Foreign Ministry stated.",
     "Russian Foreign Ministry: “Sergei Lavrov and Marco Rubio agreed to…”"),
    ("“We never do that,” said Dmitry Peskov.", "Dmitry Peskov: “We never do that”"),
    # the name run that ends the sentence, not the first capitalised word after the verb
    ("“We will keep working for peace,” said Trump adviser Steve Witkoff.",
     "Steve Witkoff: “We will keep working for peace”"),
    ("“It was a good call,” said Peskov, adding that talks would go on.", "Peskov: “It was a good call”"),
    # no speaker named after the quotation, or no quotation: the opening twelve words
    ("“The two presidents are going to have a really good and productive conversation this week.”",
     "“The two presidents are going to have a really good and productive…"),
    ("Fighting continued over the weekend, with both sides launching heavy attacks on energy sites.",
     "Fighting continued over the weekend, with both sides launching heavy attacks on…"),
])
def test_an_event_no_headline_names_is_named_from_its_sentence(sentence, title):
    assert quote_title(sentence) == title



def test_a_headline_that_names_someone_its_sentence_does_not_is_refused():
    cases = [  # (headline, sentence, kept), one batch as the headline stage asks for them
        # "he" and "they" guessed wrong: the sentence never writes these names
        ("Zelensky clashes with Putin",
         "Last month, he clashed with Zelensky in Washington, causing the Ukrainian leader to leave early.", False),
        ("Ukraine and Russia call for commitments",
         "During their meeting on Tuesday, they pledged assistance and called for commitments from Russia.", False),
        # names the sentence writes, however spelt
        ("Zelenskiy blames Putin for stalling",
         "Zelensky, in his nightly address on Monday, blamed Putin for stalling the peace process.", True),
        ("U.S. officials express optimism", "US officials expressed optimism on Sunday about a ceasefire deal.", True),
        ("Russian forces advance in Kursk", "Russia is advancing on Ukrainian positions in Kursk.", True),
        # the right name, but nothing the sentence says of him
        ("Jindal fires BP officials", "Louisiana Governor Bobby Jindal said BP did not have a plan.", False),
    ]
    headlines, sentences, kept = (list(column) for column in zip(*cases, strict=True))
    assert accepted(headlines, sentences) == [h if k else None for h, k in zip(headlines, kept, strict=True)]


def test_a_headline_longer_than_an_extraction_headline_is_kept_whole():
    from storyline.headlines import HeadlineOutput, accepted

    sentence = "Ukraine’s President Volodymyr Zelenskiy has said that Ukraine’s sovereignty is non-negotiable."
    headline = "Zelenskiy says Ukraine's sovereignty is non-negotiable"  # 54 characters
    reply = HeadlineOutput.model_validate_json(f'{{"headlines": ["{headline}"]}}')
    assert accepted(reply.headlines, [sentence]) == [headline]


def test_a_headline_that_guesses_the_storys_topic_word_is_refused():
    """"ceasefire" is the story's word, but this sentence is about the call's announcement."""
    sentence = "Trump made the announcement on Truth Social, emphasizing the need to end the deadly conflict."
    topic = frozenset({"cease", "putin"})  # folded as grounding.content_keys folds words
    guess, title = "Trump announces ceasefire on Truth Social", "Trump announces call on Truth Social"
    assert accepted([guess], [sentence], topic) == [None]
    assert accepted([title], [sentence], topic) == [title]
    assert accepted([guess], [sentence]) == [guess]  # no topic given

