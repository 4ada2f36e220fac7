"""What a replay stored, read back from the data file without anything that depends on when it ran."""

from __future__ import annotations

from pathlib import Path

from slpterm.store import open_store


def participant_ids(data_dir: Path) -> set[str]:
    """Every session participant in the file (the demo's own, left out of a replay's result)."""
    store = open_store(data_dir)
    try:
        return {participant.id for row in store.caseload.rows()
                for participant, _ in store.sessions.for_patient(row.patient_id)}
    finally:
        store.close()


def stored_result(data_dir: Path, leave_out: set[str]) -> dict:
    """Patients, the sessions not in ``leave_out`` and every chart, with goals named by their text
    (a goal added in the flow gets a new id each run)."""
    store = open_store(data_dir)
    try:
        names = {row.patient_id: row.name for row in store.caseload.rows()}
        goal_text = {}
        for patient_id in names:
            for goals in store.patients.chart(patient_id).goals_by_plan.values():
                goal_text.update({goal.id: goal.text for goal in goals})
        sessions = []
        for patient_id, name in sorted(names.items(), key=lambda item: item[1]):
            for participant, therapy_session in store.sessions.for_patient(patient_id):
                if participant.id in leave_out:
                    continue
                detail = store.sessions.detail(participant.id)
                sessions.append({
                    "patient": name, "type": therapy_session.session_type, "setting": therapy_session.setting,
                    "date": therapy_session.date_of_service.isoformat(), "group_size": detail.group_size,
                    "trials": [(goal_text.get(t.goal_id), t.result, t.cue_level, t.voided_at is None)
                               for t in detail.trials],
                    "techniques": sorted(detail.techniques), "goals": sorted(goal_text.get(g, g) for g in detail.goal_ids),
                    "note": {name: getattr(detail.note, name) for name in ("subjective", "objective", "assessment",
                                                                         "plan")},
                    "manual_segments": sorted((s.started_at.isoformat(), s.ended_at.isoformat() if s.ended_at else "")
                                              for s in detail.segments if therapy_session.manual_time),
                    "signed": detail.signed, "addenda": [a.text for a in detail.addenda],
                })
        charts = {}
        for patient_id, name in names.items():
            chart = store.patients.chart(patient_id)
            charts[name] = {
                "coverage": sorted((c.payer_kind, c.payer_name, c.payer_id, c.member_id) for c in chart.coverages),
                "diagnoses": sorted(d.code for d in chart.diagnoses),
                "plans": sorted((p.start_date.isoformat(), p.end_date.isoformat() if p.end_date else "", p.frequency)
                                for p in chart.plans),
                "goals": sorted(g.text for goals in chart.goals_by_plan.values() for g in goals),
            }
        return {"patients": sorted(names.values()), "sessions": sessions, "charts": charts}
    finally:
        store.close()
