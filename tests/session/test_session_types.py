"""Session types: one registry of facts (label, evaluation, group, implied area, AAC device) that
the start dialog, the session flow, billing and the coding engine read."""

from __future__ import annotations

from slpterm.domain.vocab import SESSION_TYPES, DisorderArea, SessionType
from slpterm.services import session_flow
from slpterm.ui.screens import new_session


def test_every_session_type_has_its_facts():
    assert list(SESSION_TYPES) == list(SessionType)
    assert {kind for kind in SessionType if kind.is_evaluation} == {
        SessionType.EVALUATION, SessionType.RE_EVALUATION, SessionType.AAC_EVALUATION}
    assert [kind for kind in SessionType if kind.is_group] == [SessionType.GROUP_TREATMENT]
    assert [kind for kind in SessionType if kind.facts.aac_device] == [SessionType.AAC_TREATMENT]


def test_the_readers_follow_the_registry():
    assert list(new_session.SESSION_TYPE_LABELS.items()) == [(kind, facts.label) for kind, facts in SESSION_TYPES.items()]
    assert session_flow.TYPE_AREAS == {
        SessionType.SWALLOWING_TREATMENT: DisorderArea.SWALLOWING, SessionType.AAC_EVALUATION: DisorderArea.AAC,
        SessionType.AAC_TREATMENT: DisorderArea.AAC, SessionType.COGNITIVE_TREATMENT: DisorderArea.COGNITION}
