"""The caseload read without the store gives the store's rows; the index filters like the rows read."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pytest

from slpterm.store import open_store
from slpterm.store.caseload import CaseloadFile, CaseloadPreviewReader


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from slpterm.demo import generate_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(folder, today=date(2026, 3, 20))
    return folder


@pytest.fixture(scope="module")
def demo_file(demo_dir):
    return CaseloadFile(demo_dir / "slpterm.sqlite3")


@pytest.mark.parametrize("include_archived", [False, True])
def test_plain_read_gives_the_store_rows(demo_dir, demo_file, include_archived):
    store = open_store(demo_dir)
    try:
        stored = store.caseload.rows(include_archived=include_archived)
        stored_index = store.caseload.index(include_archived=include_archived)
    finally:
        store.close()
    plain = demo_file.rows(include_archived=include_archived)
    assert stored and [asdict(row) for row in stored] == [asdict(row) for row in plain]
    assert any(row.drafts for row in stored)
    assert any(row.archived for row in stored) == include_archived
    plain_index = demo_file.index(include_archived=include_archived)
    assert stored_index == plain_index
    assert plain_index.ids == [row.patient_id for row in plain]
    assert plain_index.search == [row.search_text for row in plain]
    assert list(plain_index.archived) == [int(row.archived) for row in plain]
    assert plain_index.draft_count == sum(row.drafts for row in plain)


def test_rows_are_sorted_by_name_and_carry_payer_and_diagnoses(demo_file):
    rows = demo_file.rows()
    names = [row.name.lower() for row in rows]
    assert names == sorted(names)
    assert all(row.payer for row in rows)
    assert any(" " in row.diagnoses for row in rows)


def test_primary_coverage_and_diagnosis_ranks_decide_what_is_shown(tmp_path):
    store = open_store(tmp_path)
    patient = store.patients.create(first_name="Milo", last_name="Quillfeather", external_id="S-001")
    store.patients.add_diagnosis(patient_id=patient.id, code="F80.0", rank=2)
    store.patients.add_diagnosis(patient_id=patient.id, code="R47.01", rank=1)
    store.patients.add_coverage(patient_id=patient.id, rank=2, payer_kind="commercial", payer_name="Harbor Health",
                                member_id="H1")
    store.patients.add_coverage(patient_id=patient.id, rank=1, payer_kind="medicaid", payer_name="State Medicaid",
                                member_id="M1")
    store.close()
    row, = CaseloadFile(tmp_path / "slpterm.sqlite3").rows()
    assert row.payer == "medicaid"
    assert row.diagnoses == "R47.01 F80.0"
    assert "state medicaid" in row.search_text and "r47.01 f80.0" in row.search_text


def test_details_read_only_the_asked_patients(demo_file):
    rows = demo_file.rows(include_archived=True)
    wanted = [rows[3].patient_id, rows[-1].patient_id, "no-such-patient"]
    details = demo_file.details(wanted)
    assert set(details) == set(wanted[:2])
    assert details[rows[3].patient_id] == rows[3] and details[rows[-1].patient_id] == rows[-1]
    assert demo_file.details([]) == {}


def test_plain_read_refuses_a_missing_file(tmp_path):
    from slpterm.store.caseload import CaseloadFileUnreadable

    with pytest.raises(CaseloadFileUnreadable):
        CaseloadFile(tmp_path / "slpterm.sqlite3").rows()


def test_filter_matches_every_word_case_insensitively(demo_file):
    rows = demo_file.rows()
    index = demo_file.index()
    first = rows[0]
    last_name, _, first_name = first.name.partition(", ")

    def names(positions):
        return [rows[position].name for position in positions]

    assert list(index.filter("")) == list(range(len(rows)))
    assert first.name in names(index.filter(last_name.upper()))
    assert first.name in names(index.filter(f"{first_name.lower()}   {last_name.lower()}"))
    assert index.filter(f"{last_name} no-such-word") == []
    by_payer = index.filter(first.payer)
    assert names(by_payer) == [row.name for row in rows if first.payer.lower() in row.search_text]
    narrowed = index.filter(f"{first.payer} {last_name}", within=by_payer)
    assert narrowed == index.filter(f"{first.payer} {last_name}") and set(narrowed) <= set(by_payer)


def test_needs_and_trends_are_filled_by_patient(demo_file):
    index = demo_file.index()
    index.fill([(index.ids[2], "PR due"), ("someone-else", "ignored")], index.needs)
    assert index.needs[2] == "PR due" and index.needs.count("") == len(index) - 1


def test_preview_is_the_head_of_the_caseload_with_its_count(demo_file):
    rows = demo_file.rows()
    preview = demo_file.preview(limit=5)
    assert list(preview.rows) == preview.index.ids == [row.patient_id for row in rows[:5]]
    assert [asdict(row) for row in preview.rows.values()] == [asdict(row) for row in rows[:5]]
    assert preview.index.total == len(rows) and not preview.index.complete


def test_preview_reader_gives_none_for_a_file_it_cannot_read(tmp_path):
    assert CaseloadPreviewReader(tmp_path / "slpterm.sqlite3").result(timeout=10) is None
    (tmp_path / "garbage.sqlite3").write_bytes(b"not a database" * 100)
    assert CaseloadPreviewReader(tmp_path / "garbage.sqlite3").result(timeout=10) is None


def test_reading_again_shares_the_unchanged_strings_and_keeps_trends(demo_dir, tmp_path):
    from slpterm.store.db import DATABASE_FILE_NAME, copy_database

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    copy_database(demo_dir / DATABASE_FILE_NAME, data_dir / DATABASE_FILE_NAME)
    first = CaseloadFile(data_dir / "slpterm.sqlite3").index()
    first.fill([(first.ids[1], "▁▂▃"), (first.ids[2], "▇▆")], first.trends)
    first.fill([(first.ids[1], "PR due")], first.needs)
    store = open_store(data_dir)
    try:
        renamed_id = first.ids[2]
        store.patients.update(renamed_id, last_name="Zzyzx")
        again = store.caseload.index(previous=first)
    finally:
        store.close()
    assert again.ids == first.ids[:2] + first.ids[3:] + [renamed_id]
    assert all(new is old for new, old in zip(again.ids, first.ids[:2]))
    assert all(new is old for new, old in zip(again.search, first.search[:2]))
    assert again.search[-1] != first.search[2] and "zzyzx" in again.search[-1]
    assert again.trends[1] == "▁▂▃" and again.trends[-1] == "▇▆"
    assert again.needs[1] == ""  # worked out again, never carried over
