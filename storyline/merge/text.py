"""The mentions as words: tokens, vocabulary and sparse vectors for scoring many pairs at once.

Four kinds of evidence, each a binary matrix over one vocabulary: the quote's content words,
the title's words, the names (in the quote, and the actors) and the numbers in the quote.
Pairs are scored on the IDF of what they share (``scoring``), so rare words ("ironclad",
"Astrakhan") count and common ones ("Trump", "ceasefire") barely do.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, NamedTuple

from ..models import Mention
from ..words import NARRATION_WORDS, STOPWORDS, stem

_STOPWORDS = STOPWORDS | NARRATION_WORDS


def actor_key(name: str) -> str:
    """An actor by the last word of its name ("Vladimir Putin" -> "putin")."""
    parts = name.rsplit(None, 1)
    return parts[-1].lower().strip(".,;:'’\"()") if parts else ""


def sorted_unique(values):
    """np.unique by sorting (numpy 2's hash-based unique is several times slower on these)."""
    import numpy as np

    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


_ASCII_PUNCTUATION = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c in "\x00-")})
"""ASCII punctuation and spaces become spaces; letters, digits, hyphens, the separator and all
non-ASCII characters stay (an ASCII-only table keeps ``str.translate`` on its fast path)."""
_WIDE_PUNCTUATION = "’‘“”–—…«»„‚·•"


_SEPARATOR = "\x00"
"""Between texts when they are joined (taken out of the texts first). Not white space, and ASCII:
an all-ASCII string is several times faster to change case and split than a wider one."""


class _Tokens(NamedTuple):
    words: list[str]
    """Every word of every text, case kept, a separator between texts."""
    distinct: list[str]
    codes: Any
    """Each word as an index into ``distinct``."""
    rows: Any
    """The index of the text each word comes from."""


def _flat(texts: list[str]) -> _Tokens:
    """All words of all texts in one list, coded.

    Built for 100,000 mentions: one table ``translate`` and one ``split`` over all texts
    joined, instead of a regular expression and a list per text, and one dictionary lookup per
    word. Few container objects are made, so the cyclic garbage collector has little to walk
    through (the merge used to pause it).
    """
    import numpy as np

    joined = f" {_SEPARATOR} ".join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a text holds the separator: take it out
        joined = f" {_SEPARATOR} ".join(t.replace(_SEPARATOR, " ") for t in texts)
    for mark in _WIDE_PUNCTUATION:
        joined = joined.replace(mark, " ")
    words = joined.translate(_ASCII_PUNCTUATION).split()
    distinct = list(set(words))
    code = {word: i for i, word in enumerate(distinct)}
    codes = np.fromiter(map(code.__getitem__, words), dtype=np.int64, count=len(words))
    rows = np.cumsum(codes == code[_SEPARATOR]) if _SEPARATOR in code else np.zeros(len(words), dtype=np.int64)
    return _Tokens(words, distinct, codes, rows)


def _copied_titles(quotes: _Tokens, titles: _Tokens):
    """Whether each title is a run of its quote's own words, case and punctuation aside: such a
    title (as small models often write) is no evidence of its own. An empty title is none either."""
    import numpy as np

    def padded(tokens: _Tokens) -> list[str]:
        # " a b \x00 c \x00 d " splits into " a b ", " c ", " d ": every text with one space
        # at each end, so containment is containment of whole words.
        return f" {' '.join(tokens.words).lower()} ".split(_SEPARATOR)

    quote_texts, title_texts = padded(quotes), padded(titles)
    return np.fromiter(map(str.__contains__, quote_texts, title_texts), dtype=bool, count=len(quote_texts))


def _common_words(titles: _Tokens, quotes: _Tokens, word: dict[str, str], position: dict[str, int]):
    """(row, id) of the titles' content words that are no names: those written in lower case,
    and a title's capitalised first word where some quote writes it in lower case ("Leak causes
    explosion")."""
    import numpy as np

    written_lower = set(quotes.distinct)
    ids = np.array([position[word[t]] if t in word else -1 for t in titles.distinct], dtype=np.int64)
    lower = np.array([t[:1].islower() for t in titles.distinct], dtype=bool)
    first_lower = np.array([t[:1].isupper() and t.lower() in written_lower for t in titles.distinct], dtype=bool)
    separator = np.array([t == _SEPARATOR for t in titles.distinct], dtype=bool)
    first = np.concatenate(([True], separator[titles.codes[:-1]])) if len(titles.codes) else np.zeros(0, dtype=bool)
    keep = (ids[titles.codes] >= 0) & (lower[titles.codes] | (first & first_lower[titles.codes]))
    return titles.rows[keep], ids[titles.codes][keep]


class Vectors:
    """The mentions as sparse vectors (see the module's docstring): ``stacked`` holds every
    kind side by side over one vocabulary, ``columns`` sums a pair's shared entries per kind
    (IDF for words, names and title words, a count for numbers) and ``totals`` each mention's own.
    ``copied_title`` and ``grounded`` are what the title test (``titles``) starts from."""

    def __init__(self, mentions: list[Mention]):
        import numpy as np

        self.n = n = len(mentions)
        quotes, titles = _flat([m.quote for m in mentions]), _flat([m.title for m in mentions])
        actor_lists = [m.actors for m in mentions]
        actor_names = list(chain.from_iterable(actor_lists))
        actor_rows = np.repeat(np.arange(n), list(map(len, actor_lists)))
        actor_keys = {a: actor_key(a) for a in set(actor_names)}
        # What each distinct written word stands for. Words: stems of content words. Names: the
        # quote's capitalised words that are not common words (a rule rather than a tagger: news
        # capitalises names, and a model-based tagger would need a download), with the actors
        # the model listed. Numbers: words that start with a digit.
        lower = {t: t.lower() for t in (*quotes.distinct, *titles.distinct)}
        word = {t: stem(low) for t, low in lower.items() if len(low) > 1 and low not in _STOPWORDS}
        name = {t: low for t, low in lower.items() if t[:1].isupper() and low not in _STOPWORDS}
        number = {t: "#" + low for t, low in lower.items() if low[:1].isdigit()}
        # Ids follow the sorted keys, so ties break the same way in every run whatever the
        # string hashing.
        self.vocabulary = sorted({*word.values(), *name.values(), *number.values(), *filter(None, actor_keys.values())})
        position = {key: i for i, key in enumerate(self.vocabulary)}

        def entries(tokens: _Tokens, keys: dict[str, str]):
            table = np.array([position[keys[t]] if t in keys else -1 for t in tokens.distinct], dtype=np.int64)
            found = table[tokens.codes]
            return tokens.rows[found >= 0], found[found >= 0]

        actor_ids = {a: position.get(k, -1) for a, k in actor_keys.items()}
        found = np.array([actor_ids[a] for a in actor_names], dtype=np.int64)
        actors = (actor_rows[found >= 0], found[found >= 0])
        quote_names = entries(quotes, name)
        kinds = {"quotes": entries(quotes, word), "titles": entries(titles, word),
                 "names": (np.concatenate((quote_names[0], actors[0])), np.concatenate((quote_names[1], actors[1]))),
                 "numbers": entries(quotes, number)}
        self.title_words = self.matrix(kinds["titles"])
        self.title_names = self._title_names(quotes, titles)
        self.copied_title = _copied_titles(quotes, titles)
        self.quote_prefixes, self.title_prefixes, self.title_common_words = self._prefixes(
            kinds["quotes"], kinds["titles"], _common_words(titles, quotes, word, position))
        self.grounded = np.asarray(self.quote_prefixes.multiply(self.title_prefixes).getnnz(axis=1) > 0)
        self._weigh(kinds)

    def _prefixes(self, *kinds):
        """Content words (the quotes', the titles', ...) as binary rows over their first five
        letters ("Zelensky" and "Zelenskiy", "Ukraine" and "Ukrainian" agree), one matrix per
        kind. ``grounded``: a title that shares none with its own quote ("Ceremony", or the
        prompt's own example, as small models write) is not about it."""
        import numpy as np

        keys: dict[str, int] = {}
        prefix = np.array([keys.setdefault(word[:5], len(keys)) for word in self.vocabulary], dtype=np.int64)
        return tuple(self.matrix((rows, prefix[ids]), width=len(keys)) for rows, ids in kinds)

    def _title_names(self, quotes: _Tokens, titles: _Tokens):
        """Each title's names, as binary rows over their first five letters ("Zelensky" and
        "Zelenskiy", "Ukraine" and "Ukrainian" agree): its capitalised words that some quote also
        writes capitalised after a lower-case word (a name, not a sentence's first word)."""
        import numpy as np

        words = np.array([w[:1].isupper() and len(w) > 1 and w.lower() not in _STOPWORDS for w in quotes.distinct],
                         dtype=bool)
        lower_case = np.array([w[:1].islower() for w in quotes.distinct], dtype=bool)
        inside = words[quotes.codes[1:]] & lower_case[quotes.codes[:-1]]
        named = {quotes.distinct[code][:5].lower() for code in set(quotes.codes[1:][inside].tolist())}
        keys: dict[str, int] = {}
        table = np.array([keys.setdefault(w[:5].lower(), len(keys)) if w[:5].lower() in named and w[:1].isupper()
                          else -1 for w in titles.distinct], dtype=np.int64)
        found = table[titles.codes]
        return self.matrix((titles.rows[found >= 0], found[found >= 0]), width=len(keys))

    def title_keys(self):
        """One key per mention for the set of its title's words (a hash of the sorted word ids),
        so titles that differ only in case, punctuation or word order are one title."""
        import numpy as np

        words = self.title_words
        mixed = (words.indices.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(29)
        running = np.concatenate(([np.uint64(0)], np.cumsum(mixed, dtype=np.uint64)))
        return running[words.indptr[1:]] - running[words.indptr[:-1]]

    def _weigh(self, kinds: dict[str, tuple]) -> None:
        """The kinds of evidence side by side in one matrix, so a batch of pairs is compared in
        one product; ``self.columns`` sums what a pair shares per kind: the IDF of shared words,
        names and title words, and the count of shared numbers."""
        import numpy as np

        width = max(len(self.vocabulary), 1)
        self.stacked = self.matrix((np.concatenate([rows for rows, _ in kinds.values()]),
                                     np.concatenate([ids + k * width for k, (_, ids) in enumerate(kinds.values())])),
                                    width=len(kinds) * width)
        # Every token of every kind once per mention: the same rows folded onto one vocabulary.
        self.width = width
        self.title_entries = self.stacked.indices // width == list(kinds).index("titles")
        # Rarity is judged on the articles' words alone: a title the model gave many mentions
        # alike must not make their quotes' words look common.
        said = self.folded(~self.title_entries)
        self.idf = np.log((self.n + 1) / np.maximum(np.bincount(said.indices, minlength=width), 1))
        self.columns = np.zeros((len(kinds) * width, len(kinds)), dtype=np.float32)  # single precision: less to move
        for k, kind in enumerate(kinds):
            self.columns[k * width:(k + 1) * width, k] = 1.0 if kind == "numbers" else self.idf
        self.totals = self.stacked @ self.columns

    def folded(self, keep):
        """The stacked entries where ``keep`` holds, folded onto one vocabulary (each token once
        per mention whatever its kinds)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        kept = np.concatenate(([0], np.cumsum(keep)))
        folded = csr_matrix((self.stacked.data[keep], self.stacked.indices[keep] % self.width,
                             kept[self.stacked.indptr]), shape=(self.n, self.width))
        folded.sum_duplicates()
        return folded

    def matrix(self, entries, width: int | None = None):
        """Binary rows from (row, id) pairs: each token once per mention."""
        import numpy as np
        from scipy.sparse import csr_matrix

        rows, ids = entries
        matrix = csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, ids)),
                            shape=(self.n, max(width or len(self.vocabulary), 1)))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

