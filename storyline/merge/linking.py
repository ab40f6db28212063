"""Linking: the candidate pairs, best first, joined into clusters under two guards."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from ..models import Mention
from .settings import MergeSettings

Adjudicator = Callable[[Mention, Mention], bool]


class Linker:
    """Union-find over the candidate pairs, best first, with two guards.

    - Dates: each cluster keeps the intersection of its mentions' date windows, so a chain of
      pairwise matches cannot join reports of different days (a strong textual match still
      merges, and the conflict is reported).
    - Cohesion: two clusters join only if their members are on average alike
      (``settings.cohesion``, over up to ``cohesion_sample`` members of each), not merely one
      pair: one mention that resembles two happenings cannot chain them into one. Where the
      adjudicator decides, the lower ``adjudicated_cohesion``: its majority vote checks the groups.

    Components that neither guard can split skip the loop (see ``_settled``).
    """

    def __init__(self, pairs, scores, window, mentions: list[Mention], settings: MergeSettings):
        self.pairs, self.scores, self.window, self.mentions = pairs, scores, window, mentions
        self.settings = settings
        self.n = len(mentions)
        self.known: dict[int, float] = {}

    def cohesive(self, first: list[int], second: list[int], floor: float) -> bool:
        """Whether the two clusters' members are alike on average, ``floor`` at least (see the
        class docstring)."""

        if len(first) == 1 and len(second) == 1:
            return True  # the pair's own score passed the threshold
        n, known, sample = self.n, self.known, self.settings.cohesion_sample
        total = 0.0
        for a in first[:sample]:
            for b in second[:sample]:
                total += known.get(a * n + b if a < b else b * n + a, 0.0)
        count = min(len(first), sample) * min(len(second), sample)
        return total / count >= floor

    def agreed(self, pair: tuple[int, int], first: list[int], second: list[int], adjudicate) -> bool:
        """Whether the adjudicator says the two groups are one event: asked about ``pair``, then
        about other pairs across them, ``settings.votes`` at most, until a majority is sure."""
        votes = self.settings.votes
        pairs = [pair, *(other for other in product(first[:votes], second[:votes]) if other != pair)][:votes]
        needed = len(pairs) // 2 + 1
        yes = no = 0
        for a, b in pairs:
            if adjudicate(self.mentions[a], self.mentions[b]):
                yes += 1
            else:
                no += 1
            if yes == needed or no > len(pairs) - needed:
                break
        return yes >= needed

    def _settled(self, label, first, second, adjudicate: Adjudicator | None):
        """Components that merge whole in any order: one pair, or every two mentions linked
        with compatible dates. Date windows that meet pairwise share a day (Helly's theorem on a
        line), and every average of scores at or above ``same_event`` passes ``cohesion``. With an
        adjudicator none are: unsure pairs must be put to it."""
        import numpy as np

        n = self.n
        size = np.bincount(label, minlength=n)
        if adjudicate is not None:
            return np.zeros(n, dtype=bool)
        window = self.window
        agree = np.maximum(window[first, 0], window[second, 0]) <= np.minimum(window[first, 1], window[second, 1])
        links = np.bincount(label[first], minlength=n)
        clashes = np.bincount(label[first][~agree], minlength=n)
        return (size == 2) | ((links == size * (size - 1) // 2) & (clashes == 0))

    def link(self, first, second, values, asked, adjudicate: Adjudicator | None):
        """Each mention's cluster, as a representative index. Pairs where ``asked`` holds join
        only if the adjudicator agrees (see ``agreed``); without one, ``asked`` is None."""
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n
        _, label = connected_components(coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n)),
                                        directed=False)
        settled = self._settled(label, first, second, adjudicate)
        lowest = np.full(n, n)
        np.minimum.at(lowest, label, np.arange(n))
        parent = np.where(settled[label], lowest[label], np.arange(n)).tolist()
        loop = ~settled[label[first]]
        # Cohesion needs the scores of all candidate pairs inside the components left to link.
        a, b = self.pairs
        inside = (label[a] == label[b]) & ~settled[label[a]]
        self.known = dict(zip((a[inside] * n + b[inside]).tolist(), self.scores[inside].tolist(), strict=True))
        order = np.lexsort((second[loop], first[loop], -values[loop]))
        # Plain lists of numbers and lists made only on a merge: few container objects for the
        # garbage collector to walk through.
        lows, highs = self.window[:, 0].tolist(), self.window[:, 1].tolist()
        members: dict[int, list[int]] = {}
        refused: set[tuple] = set()  # groups (root, size) the adjudicator said are not one event

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        questions = [False] * len(order) if asked is None else asked[loop][order].tolist()
        for i, j, value, ask in zip(first[loop][order].tolist(), second[loop][order].tolist(),
                                    values[loop][order].tolist(), questions, strict=True):
            root_i, root_j = find(i), find(j)
            if root_i == root_j:
                continue
            low, high = max(lows[root_i], lows[root_j]), min(highs[root_i], highs[root_j])
            if low > high and value < self.settings.strong_text:
                continue
            cluster_i, cluster_j = members.get(root_i) or [root_i], members.get(root_j) or [root_j]
            floor = self.settings.adjudicated_cohesion if ask else self.settings.cohesion
            if not self.cohesive(cluster_i, cluster_j, floor):
                continue
            if ask:
                groups = tuple(sorted(((root_i, len(cluster_i)), (root_j, len(cluster_j)))))
                if groups in refused:
                    continue
                if not self.agreed((i, j), cluster_i, cluster_j, adjudicate):
                    refused.add(groups)
                    continue
            root, child = min(root_i, root_j), max(root_i, root_j)
            parent[child] = root
            members.pop(child, None)
            members[root] = cluster_i + cluster_j if root == root_i else cluster_j + cluster_i
            if low <= high:
                lows[root], highs[root] = low, high
        return [find(i) for i in range(n)]
