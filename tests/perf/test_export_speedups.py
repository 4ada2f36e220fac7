"""The fast paths of the exporters write exactly what the plain standard-library ways write."""

from __future__ import annotations

import gc
import json
import random
import re
import uuid
from typing import Any

import pytest

from slpterm.export import fhir
from slpterm.domain.bulk import paused_gc
from slpterm.export.jsontext import dumps_indented

MARK = "\u0000decimal:"
SCALARS = (None, "", "a", 'quote " back \\ newline \n tab \t nul \x00', "ünïcødé ✓", 0, 1, -7, 10**20, True, False,
           1.5, -0.25, MARK + "145.00", MARK + "-3", MARK + "12.5x", MARK)
KEYS = ("a", "id", "ü", 'k"', "resourceType", "")


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(SCALARS)
    if roll < 0.6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.65:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    return {f"{rng.choice(KEYS)}{index}": _random_value(rng, depth + 1) for index in range(rng.randint(0, 4))}


def _strip_empty(value: Any) -> Any:
    """The reference rule: FHIR forbids empty arrays, objects and strings."""
    if isinstance(value, dict):
        cleaned = {key: _strip_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned = [_strip_empty(item) for item in value]
        return [item for item in cleaned if item not in (None, "", [], {})]
    return value


def _reference_fhir_text(value: Any) -> str:
    text = json.dumps(_strip_empty(value), indent=2, ensure_ascii=False)
    return re.sub(r'"\\u0000decimal:(-?\d+(?:\.\d+)?)"', r"\1", text)


@pytest.mark.parametrize("seed", range(8))
def test_dumps_indented_writes_what_json_dumps_writes(seed):
    rng = random.Random(seed)
    for _ in range(500):
        value = _random_value(rng)
        assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("seed", range(8))
def test_dumps_indented_strips_empty_values_and_writes_marked_numbers(seed):
    rng = random.Random(100 + seed)
    for _ in range(500):
        value = _random_value(rng)
        assert dumps_indented(value, strip_empty=True, number_mark=MARK) == _reference_fhir_text(value)


@pytest.mark.parametrize("value, expected", [
    ({"a": {"b": [None, "", {}, []]}, "c": 1}, '{\n  "c": 1\n}'),
    ({"net": {"value": MARK + "145.00", "currency": "USD"}}, '{\n  "net": {\n    "value": 145.00,\n    "currency": "USD"\n  }\n}'),
    ({"keep": (), "zero": 0, "no": False}, '{\n  "keep": [],\n  "zero": 0,\n  "no": false\n}'),
    ({}, "{}"),
])
def test_dumps_indented_stripping_examples(value, expected):
    assert dumps_indented(value, strip_empty=True, number_mark=MARK) == expected


def test_dumps_indented_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        dumps_indented({"when": object()})
    with pytest.raises(TypeError):
        dumps_indented([{"a": {1, 2}}], strip_empty=True)


@pytest.mark.parametrize("kind, key", [("patient", "p-1"), ("claim", "8c6d0b6e-1f7e-4a57-9b8e-1d2f3a4b5c6d"),
                                       ("condition", "p-ü:F80.0"), ("organization", "")])
def test_fhir_urn_is_the_uuid5_of_the_kind_and_key(kind, key):
    assert fhir._urn(kind, key) == f"urn:uuid:{uuid.uuid5(fhir._NAMESPACE, f'{kind}:{key}')}"


def test_paused_gc_restores_the_collector_state():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
