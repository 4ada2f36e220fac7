"""Independent checks of export files: pyx12 for X12, fhir.resources for FHIR, and our own rules
that those validators do not check (NPI check digits, totals, pointers, dotless ICD codes)."""

from __future__ import annotations

import io
import json
import logging
from decimal import Decimal

from slpterm.domain.identifiers import npi_is_valid


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for ``text`` (empty when the file is valid)."""
    import pyx12.params
    import pyx12.x12n_document

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.WARNING)
    errors_json = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), io.StringIO(), None,
                                                  None, errors_json)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
    messages = [line for line in log.getvalue().splitlines() if line.strip()]
    report = json.loads(errors_json.getvalue() or "{}")
    messages += _json_errors(report)
    if not valid and not messages:
        messages.append("pyx12 rejected the file without a message")
    return messages


def _json_errors(node) -> list[str]:  # noqa: ANN001
    found = []
    if isinstance(node, dict):
        for error in node.get("errors", []) or []:
            found.append(f"{error.get('err_cde')}: {error.get('err_str')}")
        for value in node.values():
            if isinstance(value, (dict, list)):
                found += _json_errors(value)
    elif isinstance(node, list):
        for item in node:
            found += _json_errors(item)
    return found


def segments(text: str) -> list[list[str]]:
    return [segment.strip().split("*") for segment in text.split("~") if segment.strip()]


def claims_of(text: str) -> list[dict]:
    """Each CLM with its HI codes and SV1 lines, read back from the file."""
    claims: list[dict] = []
    for elements in segments(text):
        tag = elements[0]
        if tag == "CLM":
            claims.append({"clm": elements, "hi": [], "lines": []})
        elif tag == "HI" and claims:
            claims[-1]["hi"] = [element.split(":")[1] for element in elements[1:]]
        elif tag == "SV1" and claims:
            claims[-1]["lines"].append(elements)
    return claims


def own_x12_problems(text: str) -> list[str]:
    """Rules pyx12 does not enforce."""
    problems = []
    for elements in segments(text):
        if elements[0] == "NM1" and len(elements) > 9 and elements[8] == "XX" and not npi_is_valid(elements[9]):
            problems.append(f"bad NPI check digit in {'*'.join(elements)}")
    for claim in claims_of(text):
        clm = claim["clm"]
        total = sum((Decimal(line[2]) for line in claim["lines"]), Decimal("0"))
        if Decimal(clm[2]) != total:
            problems.append(f"CLM {clm[1]} total {clm[2]} is not the sum of its lines {total}")
        if not claim["hi"] or len(claim["hi"]) > 12:
            problems.append(f"CLM {clm[1]} has {len(claim['hi'])} diagnoses")
        for code in claim["hi"]:
            if "." in code:
                problems.append(f"CLM {clm[1]} diagnosis {code} carries a dot")
        for line in claim["lines"]:
            pointers = [int(p) for p in line[7].split(":")] if len(line) > 7 and line[7] else []
            if not 1 <= len(pointers) <= 4:
                problems.append(f"CLM {clm[1]} line {line[1]} has {len(pointers)} pointers")
            for pointer in pointers:
                if not 1 <= pointer <= len(claim["hi"]):
                    problems.append(f"CLM {clm[1]} line {line[1]} points at missing diagnosis {pointer}")
            modifiers = line[1].split(":")[2:]
            if len(modifiers) > 4:
                problems.append(f"CLM {clm[1]} line {line[1]} has more than 4 modifiers")
    return problems


def fhir_problems(bundle: dict) -> list[str]:
    """Validate with fhir.resources (R4B) and check that every reference resolves inside the Bundle."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    problems = []
    try:
        Bundle.model_validate(bundle)
    except Exception as error:  # noqa: BLE001
        return [f"Bundle: {error}"]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception as error:  # noqa: BLE001
            problems.append(f"{resource['resourceType']}: {error}")
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    if len(urls) != len(bundle["entry"]):
        problems.append("duplicate fullUrl")
    for url in urls:
        if not url.startswith("urn:uuid:"):
            problems.append(f"fullUrl {url} is not a urn:uuid")
    for reference in references(bundle):
        if reference not in urls:
            problems.append(f"reference {reference} does not resolve")
    return problems


def references(node) -> list[str]:  # noqa: ANN001
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found += references(value)
    elif isinstance(node, list):
        for item in node:
            found += references(item)
    return found
