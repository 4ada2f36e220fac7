"""A session's billing facts: what a claim needs that the signed note does not carry.

They are kept beside the signed record (not in it), so that a claim held for a missing fact can be
completed after signing; every change is in the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from slpterm.domain.billing_facts import BillingFacts, check_billing_facts
from slpterm.store.base import Repository
from slpterm.store.errors import ValidationFailed
from slpterm.store.models import (
    PlanOfCare,
    SessionBillingFacts,
    SessionParticipant,
    TherapySession,
    utc_now,
)

if TYPE_CHECKING:
    from sqlmodel import Session


def effective_billing_facts(row: SessionBillingFacts | None, participant: SessionParticipant | None,
                            plan_rehabilitative: bool | None) -> BillingFacts:
    """The facts from the billing-facts row, else what the signed record said (older sessions), and
    habilitative/rehabilitative from the plan when the session says neither."""
    note = row.distinct_service_note if row is not None else (participant.distinct_service_note if participant else "")
    if not note and participant is not None:
        note = participant.distinct_service_note
    rehab = row.rehabilitative if row is not None else None
    if rehab is None and participant is not None:
        rehab = participant.rehabilitative
    from_plan = rehab is None and plan_rehabilitative is not None
    return BillingFacts(
        distinct_service_note=note or "",
        distinct_modifier=row.distinct_modifier if row is not None else None,
        rehabilitative=plan_rehabilitative if from_plan else rehab,
        rehabilitative_from_plan=from_plan,
        audio_only=bool(row.audio_only) if row is not None else False,
    )


class BillingFactsRepository(Repository):
    def row(self, participant_id: str) -> SessionBillingFacts | None:
        with self.db.read() as session:
            return session.get(SessionBillingFacts, participant_id)

    def facts(self, participant_id: str) -> BillingFacts:
        """The facts in force for the participant (plan default included)."""
        with self.db.read() as session:
            participant = self.require(session, SessionParticipant, participant_id)
            therapy_session = self.require(session, TherapySession, participant.session_id)
            row = session.get(SessionBillingFacts, participant_id)
            plan = plan_rehabilitative(session, participant.patient_id, therapy_session.date_of_service)
        return effective_billing_facts(row, participant, plan)

    def record(self, participant_id: str, *, distinct_service_note: str = "", distinct_modifier: str | None = None,
               rehabilitative: bool | None = None, audio_only: bool = False) -> SessionBillingFacts:
        """Store the participant's billing facts (all of them; signed sessions included)."""
        modifier = (distinct_modifier or "").strip().upper() or None
        problems = check_billing_facts(distinct_service_note, modifier)
        if problems:
            raise ValidationFailed(problems)
        values: dict[str, Any] = {"distinct_service_note": distinct_service_note.strip(), "distinct_modifier": modifier,
                  "rehabilitative": rehabilitative, "audio_only": bool(audio_only)}
        with self.db.write() as session:
            self.require(session, SessionParticipant, participant_id)
            row = session.get(SessionBillingFacts, participant_id)
            before = None
            if row is None:
                row = SessionBillingFacts(participant_id=participant_id, **values)
            else:
                before = {key: getattr(row, key) for key in values}
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = utc_now()
            session.add(row)
            session.flush()
            self.audit(session, "update" if before else "create", "sessionbillingfacts", participant_id,
                       {"before": before, "after": values})
            return row


def plan_rehabilitative(session: Session, patient_id: str, day: date) -> bool | None:
    """The habilitative/rehabilitative answer of the plan in force on ``day`` (latest start first)."""
    from sqlmodel import col, select

    plans = session.exec(select(PlanOfCare).where(PlanOfCare.patient_id == patient_id, PlanOfCare.start_date <= day,
                                                  PlanOfCare.status != "discharged")
                         .order_by(col(PlanOfCare.start_date).desc())).all()
    covering = [plan for plan in plans if plan.end_date >= day] or list(plans)
    return covering[0].rehabilitative if covering else None
