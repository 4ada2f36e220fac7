"""A session's billing facts: what a claim needs that the signed note does not carry, and the
checks they pass before they are stored (the store keeps them beside the signed record)."""

from __future__ import annotations

from dataclasses import dataclass

DISTINCT_MODIFIER_CHOICES = ("59", "XE", "XS", "XP", "XU")
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class BillingFacts:
    """The billing facts in force for one participant, with where each came from.

    ``rehabilitative`` is the session's own answer or, when it has none, the plan of care's
    (``rehabilitative_from_plan`` says so). ``distinct_modifier`` None leaves the choice to the payer.
    """

    distinct_service_note: str = ""
    distinct_modifier: str | None = None
    rehabilitative: bool | None = None
    rehabilitative_from_plan: bool = False
    audio_only: bool = False

    @property
    def distinct_service_documented(self) -> bool:
        return bool(self.distinct_service_note.strip())


def check_billing_facts(distinct_service_note: str, distinct_modifier: str | None) -> list[tuple[str, str]]:
    """Problems as (field, fix) pairs; empty when the facts can be stored."""
    problems = []
    if distinct_modifier is not None and distinct_modifier not in DISTINCT_MODIFIER_CHOICES:
        problems.append(("Distinct-service modifier", f"choose one of {', '.join(DISTINCT_MODIFIER_CHOICES)}, "
                                                      "or leave it to the payer"))
    if distinct_modifier is not None and not distinct_service_note.strip():
        problems.append(("Distinct service", "say why the service was separate (another session, site, "
                                             "practitioner or structure) before choosing its modifier"))
    if len(distinct_service_note) > MAX_NOTE_LENGTH:
        problems.append(("Distinct service", f"keep the documentation under {MAX_NOTE_LENGTH} characters"))
    return problems
