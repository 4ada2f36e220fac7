"""The caseload: one light row per patient, read in a single query so 100,000 rows load quickly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text

from slpterm.store.base import Repository

_CASELOAD_SQL = """
SELECT p.id, p.last_name, p.first_name, p.external_id, p.date_of_birth, p.school, p.grade,
       p.archived_at IS NOT NULL AS archived,
       (SELECT c.payer_kind FROM coverage c WHERE c.patient_id = p.id ORDER BY c.rank LIMIT 1) AS payer_kind,
       (SELECT c.payer_name FROM coverage c WHERE c.patient_id = p.id ORDER BY c.rank LIMIT 1) AS payer_name,
       (SELECT group_concat(d.code, ' ') FROM (SELECT code FROM diagnosis d2
            WHERE d2.patient_id = p.id AND d2.active ORDER BY d2.rank) d) AS diagnoses
FROM patient p
{where}
ORDER BY p.last_name COLLATE NOCASE, p.first_name COLLATE NOCASE
"""

_ACTIVITY_SQL = """
SELECT sp.patient_id,
       SUM(CASE WHEN sp.status = 'draft' THEN 1 ELSE 0 END) AS drafts,
       MAX(s.date_of_service) AS last_seen
FROM sessionparticipant sp JOIN session s ON s.id = sp.session_id
GROUP BY sp.patient_id
"""


@dataclass
class CaseloadRow:
    patient_id: str
    name: str
    external_id: str
    date_of_birth: date | None
    school: str
    payer: str
    diagnoses: str
    archived: bool
    drafts: int = 0
    last_seen: date | None = None
    due: str = ""
    search_text: str = field(default="", repr=False)

    def matches(self, words: list[str]) -> bool:
        return all(word in self.search_text for word in words)


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


class CaseloadRepository(Repository):
    def rows(self, include_archived: bool = False) -> list[CaseloadRow]:
        where = "" if include_archived else "WHERE p.archived_at IS NULL"
        with self.db.read() as session:
            connection = session.connection()
            activity = {
                patient_id: (drafts, last_seen)
                for patient_id, drafts, last_seen in connection.execute(text(_ACTIVITY_SQL))
            }
            rows = []
            for record in connection.execute(text(_CASELOAD_SQL.format(where=where))):
                (patient_id, last_name, first_name, external_id, dob, school, grade, archived,
                 payer_kind, payer_name, diagnoses) = record
                name = f"{last_name}, {first_name}".strip(", ")
                drafts, last_seen = activity.get(patient_id, (0, None))
                school_text = f"{school} gr {grade}".strip() if grade else school
                rows.append(CaseloadRow(
                    patient_id=patient_id,
                    name=name,
                    external_id=external_id,
                    date_of_birth=_as_date(dob),
                    school=school_text,
                    payer=payer_kind or "",
                    diagnoses=diagnoses or "",
                    archived=bool(archived),
                    drafts=drafts or 0,
                    last_seen=_as_date(last_seen),
                    search_text=" ".join(
                        part for part in (name, f"{first_name} {last_name}", external_id, school, payer_name or "",
                                          diagnoses or "") if part
                    ).lower(),
                ))
            return rows


def filter_rows(rows: list[CaseloadRow], query: str) -> list[CaseloadRow]:
    """Rows whose name, ID, school, payer or diagnoses contain every word of the query."""
    words = query.lower().split()
    if not words:
        return rows
    return [row for row in rows if row.matches(words)]
