"""Starting a follow-up session from the patient's last signed one.

What is carried forward is the starting point only: the goals marked worked on, the techniques, the
cue level each goal ended on, and the Plan. It lands in the new unsigned draft like anything typed
(every part still editable, stored by the same calls the keys use); nothing is signed or billed
because of it, and the Objective and its counts are never carried: they come from today's tallies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from slpterm.domain.vocab import CueLevel
from slpterm.services.session_flow import CUE_SHORT

if TYPE_CHECKING:
    from slpterm.store.store import Store


@dataclass(frozen=True)
class CarryForward:
    """What the patient's last signed session offers a new one."""

    participant_id: str
    day: date
    goal_ids: tuple[str, ...]
    technique_ids: tuple[str, ...]
    # goal id -> the cue level of the last trial tallied on it
    cue_levels: dict[str, str] = field(default_factory=dict)
    plan: str = ""

    @property
    def summary(self) -> str:
        """One line for the start dialog, e.g. '2026-10-26: 2 goals (ind, min), 3 techniques, Plan'."""
        goals = f"{len(self.goal_ids)} goal{'s' if len(self.goal_ids) != 1 else ''}"
        cues = [CUE_SHORT[CueLevel(self.cue_levels[goal_id])] for goal_id in self.goal_ids if goal_id in self.cue_levels]
        if cues:
            goals += f" (cues {', '.join(cues)})"
        parts = [goals, f"{len(self.technique_ids)} technique{'s' if len(self.technique_ids) != 1 else ''}"]
        if self.plan.strip():
            parts.append("Plan")
        return f"{self.day.isoformat()}: " + ", ".join(parts)


@dataclass(frozen=True)
class CarriedForward:
    """What was put into the new draft (the goals only those still on the plan in force)."""

    goal_ids: tuple[str, ...]
    technique_ids: tuple[str, ...]
    cue_levels: dict[str, str]
    plan: bool
    left_out_goals: int = 0


def last_signed(store: Store, patient_id: str, leave_out: str | None = None) -> CarryForward | None:
    """The patient's newest signed session as a starting point (``leave_out``: a participant id,
    the new session itself); None when the patient has no signed session."""
    for participant, _therapy_session in store.sessions.for_patient(patient_id):
        if participant.id == leave_out or participant.status != "signed":
            continue
        detail = store.sessions.detail(participant.id)
        live = [trial for trial in detail.trials if trial.voided_at is None]
        cue_levels = {trial.goal_id: trial.cue_level for trial in live}  # the last trial of each goal wins
        note = detail.note
        return CarryForward(
            participant_id=participant.id, day=detail.session.date_of_service,
            goal_ids=tuple(detail.goal_ids), technique_ids=tuple(detail.techniques),
            cue_levels=cue_levels, plan=note.plan if note is not None else "",
        )
    return None


def apply(store: Store, participant_id: str, carried: CarryForward, goals_in_view: set[str]) -> CarriedForward:
    """Put ``carried`` into the unsigned draft ``participant_id``: what the draft has already is kept
    (a goal or technique already marked stays marked, a Plan already written is not replaced)."""
    detail = store.sessions.detail(participant_id)
    goal_ids = tuple(goal_id for goal_id in carried.goal_ids if goal_id in goals_in_view)
    for goal_id in goal_ids:
        if goal_id not in detail.goal_ids:
            store.sessions.toggle_goal(participant_id, goal_id)
    for technique_id in carried.technique_ids:
        if technique_id not in detail.techniques:
            store.sessions.toggle_technique(participant_id, technique_id)
    note = detail.note
    plan = bool(carried.plan.strip()) and not (note is not None and note.plan.strip())
    if plan:
        store.sessions.save_note(participant_id, plan=carried.plan)
    return CarriedForward(
        goal_ids=goal_ids, technique_ids=carried.technique_ids,
        cue_levels={goal_id: cue for goal_id, cue in carried.cue_levels.items() if goal_id in goals_in_view},
        plan=plan, left_out_goals=len(carried.goal_ids) - len(goal_ids),
    )
