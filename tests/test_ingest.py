from __future__ import annotations

import datetime as dt
import io
import os

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
    # No title in its metadata: its opening words, cut at ten, name it (never its file name).
    assert articles[0].title == "US President Donald Trump will speak with Russian President Vladimir…"
    assert load_articles([SEEDS]) == articles  # stable across reads


@pytest.mark.parametrize(("text", "title"), [
    ("Council Approves Budget\nThe council approved the budget on Monday.", "Council Approves Budget"),
    ("# Council approves budget\nThe council approved it.", "Council approves budget"),
    ("\nThe council approved the budget on Monday after a debate of eleven hours.",
     "The council approved the budget on Monday after a debate…"),  # ten words
])
def test_an_article_without_a_title_is_named_by_its_headline_or_opening_words(tmp_path, text, title):
    (tmp_path / "a.txt").write_text(text)
    assert load_articles([tmp_path / "a.txt"])[0].title == title


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
    (tmp_path / "binary.txt").write_bytes(b"\x81\x00\xfabad")
    (tmp_path / "baddate.md").write_text("---\npublished: soon\n---\nText.")
    problems: list[str] = []
    articles = load_articles([tmp_path], problems=problems)
    assert [a.id for a in articles] == ["baddate", "good"]  # the bad date is dropped, the text kept
    assert len(problems) == 3
    assert any("binary.txt" in p and "UTF-8" in p for p in problems)
    assert any("empty.txt" in p and "empty" in p for p in problems)
    assert any("baddate.md" in p and "YYYY-MM-DD" in p for p in problems)


def test_only_bad_articles_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="No usable articles"):
        load_articles([tmp_path])


# --- bad input: one bad article never loses the others ---------------------------------------------


def _good(folder):
    (folder / "good.txt").write_text("The minister resigned on Monday.\n")


@pytest.mark.parametrize(("front", "kept", "reported"), [
    ("title: 1984", {"title": "1984"}, None),
    ("source: 2020\nurl: 123", {"source": "2020", "url": "123"}, None),
    # A title left out is made from the text's opening words.
    ("title: {a: 1}", {"title": "The vote was held on Tuesday."}, "'title'"),
    ("published: 2025-02-30", {"published": None}, "'published'"),
    ("author: Jane Doe\ntitle: Kept", {"title": "Kept"}, "unknown metadata key 'author'"),
    ("- just\n- a list", {"title": "The vote was held on Tuesday."}, "must be a mapping"),
    ("title: [unclosed", {"title": "The vote was held on Tuesday."}, "not valid YAML"),
])
def test_front_matter_problems_drop_the_value_not_the_article(tmp_path, front, kept, reported):
    _good(tmp_path)
    (tmp_path / "odd.md").write_text(f"---\n{front}\n---\nThe vote was held on Tuesday.\n")
    problems: list[str] = []
    articles = {a.id: a for a in load_articles([tmp_path], problems=problems)}
    assert set(articles) == {"good", "odd"}
    assert articles["odd"].text == "The vote was held on Tuesday.\n"
    for field, value in kept.items():
        assert getattr(articles["odd"], field) == value
    if reported:
        assert any("odd.md" in p and reported in p for p in problems), problems
    else:
        assert problems == []


@pytest.mark.parametrize(("manifest", "reported"), [
    ("published = 2025-03-17\n", "not a table"),
    ("defaults = 5\n", "must be a table"),
    ("[defaults\n", "not valid TOML"),
    ('["missing.txt"]\ntitle = "x"\n', "names no file"),
    ('[defaults]\npublished = "soon"\n', "'published'"),
])
def test_manifest_problems_are_reported_with_file_and_key(tmp_path, manifest, reported):
    _good(tmp_path)
    (tmp_path / "manifest.toml").write_text(manifest)
    problems: list[str] = []
    articles = load_articles([tmp_path], problems=problems)
    assert [a.id for a in articles] == ["good"]
    assert any("manifest.toml" in p and reported in p for p in problems), problems


def test_binary_stdin_is_reported_not_a_traceback():
    problems: list[str] = []
    with pytest.raises(InputError, match=r"No usable articles.*stdin is not UTF-8"):
        load_articles(["-"], stdin=io.BytesIO(b"\xff\xfe\xfa\x00\x81"), problems=problems)


def test_utf16_and_crlf_files_are_read(tmp_path):
    (tmp_path / "wide.txt").write_bytes("The vote was held.\r\nIt passed.\r\n".encode("utf-16"))
    (tmp_path / "crlf.txt").write_bytes(b"Talks ended.\r\nThey agreed.\r\n")
    articles = {a.id: a.text for a in load_articles([tmp_path])}
    assert articles == {"crlf": "Talks ended.\nThey agreed.\n", "wide": "The vote was held.\nIt passed.\n"}


def test_nul_bytes_skip_the_file(tmp_path):
    _good(tmp_path)
    (tmp_path / "nul.txt").write_bytes(b"Text\x00with nul.")
    problems: list[str] = []
    assert [a.id for a in load_articles([tmp_path], problems=problems)] == ["good"]
    assert any("nul.txt" in p and "binary" in p for p in problems)


def test_symlink_loop_is_named(tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="loop of symbolic links"):
        load_articles([loop])


def test_an_unreadable_folder_is_named_and_the_rest_is_read(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()
    _good(folder)
    locked = folder / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("Hidden.")
    real_scandir = os.scandir

    def scandir(path="."):  # what a folder without read permission does (root reads any folder)
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    problems: list[str] = []
    assert [a.id for a in load_articles([folder], problems=problems)] == ["good"]
    assert any("locked" in p and "cannot be read" in p for p in problems)


def test_other_files_in_a_folder_are_named(tmp_path):
    _good(tmp_path)
    (tmp_path / "page.html").write_text("<p>Hi</p>")
    problems: list[str] = []
    load_articles([tmp_path], problems=problems)
    assert any("page.html" in p and "not read" in p for p in problems)


def test_the_same_article_twice_counts_once(tmp_path):
    text = (SEEDS / "001_c294f2ccbd6d00ec.txt").read_text()
    (tmp_path / "a.txt").write_text(text)
    (tmp_path / "b.txt").write_text(text.replace("Trump", "Trump ", 1))  # near-identical
    (tmp_path / "c.txt").write_text((SEEDS / "002_c924205565333087.txt").read_text())  # same story, other words
    problems: list[str] = []
    assert [a.id for a in load_articles([tmp_path], problems=problems)] == ["a", "c"]
    assert any("b.txt" in p and "a.txt" in p and "once" in p for p in problems)
