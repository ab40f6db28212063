"""Headlines for events no mention titled: which of the model's headlines are kept."""

from __future__ import annotations

from storyline.headlines import accepted


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
