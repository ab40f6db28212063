"""Words as grounding and the merge compare them: which carry no content, and how a word is
folded so that its forms agree.

Written by hand (no stemmer library): the comparison needs only a crude, fast, predictable fold
that agrees on the inflections news writes ("talks"/"talk", "accused"/"accuses") and on names
spelled two ways ("Zelensky"/"Zelenskiy"); a linguistic stemmer would add a dependency for
distinctions these scores do not use.
"""

from __future__ import annotations

STOPWORDS = frozenset("""
a an the and or but of to in on at by for with from as is are was were be been being has have had
will would could should may might can do does did not no its it this that these those their his
her they he she we i you our about over after before into than then there here new says said say
amid during while also more most some any each other such up out off again further who which
what when where whom how all both very just even only own same so too s t
""".split())
"""Function words and reporting verbs: no evidence that two texts tell the same thing."""

NARRATION_WORDS = frozenset("""
however meanwhile instead earlier later already still yet though although despite following
according asked now
""".split())
"""Words that carry a report along without saying what happened; the merge ignores them too."""


def stem(word: str) -> str:
    """Crude suffix stripping: enough to match "talks"/"talk", "accused"/"accuses"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def fold(word: str) -> str:
    """A word folded for comparison: lower case, without a possessive, stemmed, its first five
    letters ("Zelensky" and "Zelenskiy", "confirms" and "confirmed" agree)."""
    return stem(word.lower().replace("’", "'").removesuffix("'s"))[:5]
