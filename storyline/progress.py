"""Progress of a long stage: a bar on a terminal, and a line now and then in a log.

A run of a hundred articles takes minutes; a user watching a terminal sees a bar (tqdm), and a
log (stderr redirected to a file, a CI job, a benchmark) gets one line at most every
``LOG_EVERY`` seconds: calls done of all, articles a minute and the time left. Lines go to the
``storyline`` logger at INFO, so whoever configures logging decides where they land (the command
line prints them on stderr unless ``--quiet``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("storyline")

LOG_EVERY = 30.0
"""Seconds between two progress lines in a log."""


class Progress:
    """Counts the finished calls of one stage of ``total``; ``articles`` is how many articles they
    cover, for the rate. ``close()`` ends the bar."""

    def __init__(self, label: str, total: int, *, articles: int | None = None, terminal: bool | None = None,
                 every: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.total = total
        self.done = 0
        self._articles = articles
        self._every = LOG_EVERY if every is None else every
        self._clock = clock
        self._started = self._last = clock()
        self._bar = None
        if terminal if terminal is not None else sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="call", file=sys.stderr, leave=False)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self._clock()
        if now - self._last >= self._every and self.done < self.total:
            self._last = now
            log.info("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        """``extracting: 40 of 180 calls (22%), 12.5 articles a minute, about 6 min left``."""
        elapsed = max((now if now is not None else self._clock()) - self._started, 1e-9)
        share = self.done / self.total if self.total else 1.0
        parts = [f"{self.label}: {self.done} of {self.total} calls ({share:.0%})"]
        if self._articles:
            parts.append(f"{self._articles * share / (elapsed / 60):.1f} articles a minute")
        if 0 < self.done < self.total:
            parts.append(f"about {_duration(elapsed * (self.total - self.done) / self.done)} left")
        return ", ".join(parts)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def token_bar(label: str, limit: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A bar of the tokens one long reply has generated (on a terminal, when ``enabled``): the
    function to call with the count so far, or None."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=limit, desc=label, unit="token", file=sys.stderr, leave=False) as bar:
        def update(count: int) -> None:
            bar.update(count - bar.n)
        yield update
