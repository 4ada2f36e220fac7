"""The caseload read without the store gives the store's rows; the filter keeps its meaning."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pytest

from slpterm.store import open_store
from slpterm.store.caseload import filter_rows, read_caseload_rows


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, today=date(2026, 3, 20))
    return folder


@pytest.mark.parametrize("include_archived", [False, True])
def test_plain_read_gives_the_store_rows_except_last_seen(demo_dir, include_archived):
    store = open_store(demo_dir)
    try:
        stored = store.caseload.rows(include_archived=include_archived)
    finally:
        store.close()
    plain = read_caseload_rows(demo_dir / "slpterm.sqlite3", include_archived=include_archived)
    assert stored and len(plain) == len(stored)
    assert [{**asdict(row), "last_seen": None} for row in stored] == [asdict(row) for row in plain]
    assert any(row.last_seen for row in stored)
    assert any(row.drafts for row in stored)
    assert any(row.archived for row in stored) == include_archived


def test_rows_are_sorted_by_name_and_carry_payer_and_diagnoses(demo_dir):
    rows = read_caseload_rows(demo_dir / "slpterm.sqlite3")
    names = [row.name.lower() for row in rows]
    assert names == sorted(names)
    assert all(row.payer for row in rows)
    assert any(" " in row.diagnoses for row in rows)


def test_plain_read_refuses_a_missing_file(tmp_path):
    import sqlite3

    with pytest.raises(sqlite3.Error):
        read_caseload_rows(tmp_path / "slpterm.sqlite3")


def test_filter_matches_every_word_case_insensitively(demo_dir):
    rows = read_caseload_rows(demo_dir / "slpterm.sqlite3")
    first = rows[0]
    last_name, _, first_name = first.name.partition(", ")
    assert filter_rows(rows, "") is rows
    assert first in filter_rows(rows, last_name.upper())
    assert first in filter_rows(rows, f"{first_name.lower()}   {last_name.lower()}")
    assert filter_rows(rows, f"{last_name} no-such-word") == []
    one_word = filter_rows(rows, first.payer)
    assert one_word == [row for row in rows if row.matches([first.payer.lower()])]


def test_preview_is_the_head_of_the_caseload_with_its_counts(demo_dir):
    from slpterm.store.caseload import read_caseload_preview

    rows = read_caseload_rows(demo_dir / "slpterm.sqlite3")
    preview = read_caseload_preview(demo_dir / "slpterm.sqlite3", limit=5)
    assert [asdict(row) for row in preview.rows] == [asdict(row) for row in rows[:5]]
    assert preview.total == len(rows)
    assert preview.drafts == sum(row.drafts for row in rows) > 0


def test_preview_reader_gives_none_for_a_file_it_cannot_read(tmp_path):
    from slpterm.store.caseload import CaseloadPreviewReader

    assert CaseloadPreviewReader(tmp_path / "slpterm.sqlite3").result(timeout=10) is None
    (tmp_path / "garbage.sqlite3").write_bytes(b"not a database" * 100)
    assert CaseloadPreviewReader(tmp_path / "garbage.sqlite3").result(timeout=10) is None
