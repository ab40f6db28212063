from __future__ import annotations

import datetime as dt
import io

import pytest
from conftest import SEEDS

from storyline.errors import InputError
from storyline.ingest import load_articles


def test_seeds_have_stable_ids_titles_and_dates():
    articles = load_articles([SEEDS])
    assert [a.id for a in articles] == [
        "000_194fac485f307d0b", "001_c294f2ccbd6d00ec", "002_c924205565333087",
        "003_1326406fc45ba7b4", "004_f550f66cc359bc1c",
    ]
    published = {a.id[:3]: a.published for a in articles}
    assert published == {"000": dt.date(2025, 3, 17), "001": dt.date(2025, 3, 17), "002": dt.date(2025, 3, 17),
                         "003": dt.date(2025, 3, 17), "004": dt.date(2025, 3, 18)}
    assert articles[1].title == "Trump, Putin to Discuss Ukraine Peace Deal on Tuesday"
    assert articles[0].title is None
    assert load_articles([SEEDS]) == articles  # stable across reads


def test_front_matter_and_default_published(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A title\npublished: 2024-05-01\nsource: Wire\n---\nBody text.\n")
    (tmp_path / "b.txt").write_text("Other body.\n")
    a, b = load_articles([tmp_path], published=dt.date(2024, 6, 1))
    assert (a.title, a.source, a.published, a.text) == ("A title", "Wire", dt.date(2024, 5, 1), "Body text.\n")
    assert b.published == dt.date(2024, 6, 1)


def test_stdin_article_gets_content_id():
    first = load_articles(["-"], stdin=io.StringIO("Some news.\n"))[0]
    again = load_articles(["-"], stdin=io.StringIO("Some news.\n"))[0]
    assert first.id == again.id and first.id.startswith("stdin-")


def test_duplicate_stems_get_unique_ids(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(f"Text {folder}.")
    ids = [a.id for a in load_articles([tmp_path])]
    assert ids == ["same", "same-2"]


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_articles([tmp_path / "nope.txt"])


def test_bad_article_is_skipped_and_reported_not_fatal(tmp_path):
    (tmp_path / "good.txt").write_text("Fine text.")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "baddate.md").write_text("---\npublished: soon\n---\nText.")
    problems: list[str] = []
    articles = load_articles([tmp_path], problems=problems)
    assert [a.id for a in articles] == ["good"]
    assert len(problems) == 3
    assert any("binary.txt" in p and "UTF-8" in p for p in problems)
    assert any("baddate.md" in p and "YYYY-MM-DD" in p for p in problems)


def test_only_bad_articles_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="No usable articles"):
        load_articles([tmp_path])
