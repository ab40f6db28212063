"""The summary's output contract: whole sentences in a neutral voice, not the prompt's lines."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from storyline.summary import SummaryOutput


def _summary(*sentences: str) -> SummaryOutput:
    return SummaryOutput.model_validate({"sentences": list(sentences)})


def test_whole_sentences_are_kept_and_a_repeated_one_is_dropped():
    output = _summary("Trump will speak with Putin on 18 Mar 2025.", "TRUMP will speak with Putin on 18 Mar 2025!",
                      "The Kremlin confirmed the call.")
    assert output.text == "Trump will speak with Putin on 18 Mar 2025. The Kremlin confirmed the call."


@pytest.mark.parametrize("sentence", [
    "18 Mar 2025 | 5 sources | expected | Trump speaks with Putin.",  # the prompt's line, pipes and all
    "- 18 Mar 2025: Trump speaks with Putin.",  # a list item
    "Trump speaks with Putin (sources disagree: the date).",
    "The talks broke off mid-",  # does not end like a sentence
    "Officials slammed the plan.",  # a loaded word in the summary's own voice
])
def test_a_sentence_that_echoes_the_prompt_or_is_not_neutral_prose_is_refused(sentence):
    with pytest.raises(ValidationError):
        _summary("The Kremlin confirmed the call.", sentence)


def test_a_loaded_word_inside_a_quotation_is_the_speaker_s():
    assert _summary('Lammy said Russia “slammed the door” on talks.').sentences
