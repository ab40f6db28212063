"""Progress lines for a log (``storyline.progress``), and a pipeline run printing them."""

from __future__ import annotations

import logging

from conftest import oracle

from storyline import progress
from storyline.backends.scripted import ScriptedBackend
from storyline.pipeline import Pipeline


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_line_at_most_every_interval_with_calls_rate_and_time_left(caplog):
    clock = Clock()
    bar = progress.Progress("extracting", 180, articles=40, terminal=False, every=30, clock=clock)
    with caplog.at_level(logging.INFO, logger="storyline"):
        clock.now += 10
        bar.advance(10)  # 10 s in: too soon for a line
        clock.now += 20
        bar.advance(30)  # 30 s in, 40 of 180 done
        clock.now += 5
        bar.advance(5)  # 35 s in: too soon after the last line
    # 40 articles x 40/180 of the calls in half a minute: 17.8 a minute; 140 calls left at 40 per 30 s: 105 s
    assert [r.getMessage() for r in caplog.records] == [
        "extracting: 40 of 180 calls (22%), 17.8 articles a minute, about 2 min left"]


def test_no_line_once_the_stage_is_done(caplog):
    clock = Clock()
    bar = progress.Progress("naming", 3, terminal=False, every=1, clock=clock)
    with caplog.at_level(logging.INFO, logger="storyline"):
        clock.now += 5
        bar.advance(3)
    assert caplog.records == []


def test_a_run_without_a_terminal_logs_progress_lines(caplog, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    from conftest import SEEDS

    with caplog.at_level(logging.INFO, logger="storyline"):
        Pipeline(ScriptedBackend(responder=oracle), use_cache=False).run([SEEDS])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("extracting: ")]
    assert [line.split(",")[0] for line in lines] == [f"extracting: {n} of 5 calls (" + f"{n / 5:.0%})"
                                                      for n in range(1, 5)]
    assert all("articles a minute" in line and "left" in line for line in lines)
