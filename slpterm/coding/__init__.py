"""slpterm's coding engine and claim scrubber (pure Python: no UI, no database).

Rules are data (`slpterm/rules/`, format in docs/rules-format.md), keyed by date of service and
payer. A session is described by an `EncounterFacts`; the engine returns claim lines and findings.

Public API
----------
Rules::

    load_rulebook(rules_dir: Path | None = None,
                  fee_overrides: dict[str, Decimal] | None = None,
                  payer_overrides: dict[str, dict] | None = None) -> RuleBook
        Shipped rules + the clinic's rules folder (files override/extend by kind) + settings.
        Raises RuleBookError (`.problems`: RuleProblem(file, entry, message, fix)).
    RuleBook.codeset_for(dos) -> CodeSetView | None     # None: no code set covers the date
    RuleBook.policy_for(payer_kind, payer_id, dos) -> PayerPolicy | None
    RuleBook.kx_threshold(year) -> KxThreshold | None   # provisional years: last known amount, .provisional_from
    RuleBook.targeted_review_amount(dos);  RuleBook.mue_for(code, dos) -> MueLimit | None
    RuleBook.ncci_pair(code_a, code_b, dos) -> NcciPair | None;  RuleBook.fee(code)
    CodeSetView: codes, addons_for (base -> add-on kinds in order), pending, unmapped,
        same_day_areas, origin_of (code -> set id); inheritance is explicit (inherits + carries)

Coding::

    code_encounter(facts: EncounterFacts, rulebook, same_day: Sequence[EncounterFacts] = ()) -> CodingResult
    code_patient_day(sessions: Sequence[EncounterFacts], rulebook) -> dict[str, CodingResult]
    check_lines(facts, lines: Sequence[ClaimLine], rulebook, diagnoses_count=None) -> list[Finding]
        Re-check lines edited by hand (GN position, CQ/CO, four modifiers, add-on without primary...).

    CodingResult(session_id, lines: tuple[ClaimLine], findings: tuple[Finding],
                 diagnoses: tuple[str] (pointer order), place_of_service)
        .blocked (any error: do not export), .errors, .warnings, .finding_codes, .total_charge
    ClaimLine(code, modifiers, units, charge, place_of_service, diagnosis_pointers, rendering_npi,
              minutes, date_of_service)
    Finding(severity: Severity, code: str (stable kebab-case), message, fix, line: int | None)

Same-day sessions: untimed codes are billed once per patient per day and timed minutes are pooled
per day; the earliest session (by start time, then session id) carries the line and the others get
an info finding `billed-on-other-session`.

Command line (wired by the app's parser)::

    add_rules_parser(subparsers) -> ArgumentParser      # rules check | show | import-ptp | install | rollback | installs
    run_rules(args, rules_dir: Path | None, out=None, record=None, confirm=None) -> int
    import_cms_ptp(path, codes=None) -> list[NcciPair]

Installing a year (slpterm.coding.install)::

    plan_install(rules_dir, rvu=, ptp=[f1..f4], mue=, spec=, icd_order=, icd_tabular=, icd_effective=) -> InstallPlan
        (.mapping proposed/confirmed areas, .files, .problems, .changes by date, .needs_confirmation, .ok)
    apply_install(plan, rules_dir, actor=) -> manifest entry;  rollback_last(rules_dir) -> entry | None
    validate_rulebook(rulebook) -> list[RuleProblem];  describe_changes(before, after, year) -> list[str]

Throughput: `slpterm.coding.bench.measure_throughput(n) -> float` (sessions/second).
"""

from __future__ import annotations

from slpterm.coding.cli import add_rules_parser, import_cms_ptp, run_rules
from slpterm.coding.engine import check_lines, clear_caches, code_encounter, code_patient_day
from slpterm.coding.model import (
    BillingProviderFacts,
    ClaimLine,
    ClinicianFacts,
    CodingResult,
    CoverageFacts,
    DiagnosisFact,
    EncounterFacts,
    Finding,
    PlanFacts,
    Severity,
)
from slpterm.coding.rulebook import (
    NcciPair,
    PayerPolicy,
    RuleBook,
    RuleBookError,
    RuleProblem,
    load_rulebook,
)

__all__ = [
    "BillingProviderFacts", "ClaimLine", "ClinicianFacts", "CodingResult", "CoverageFacts", "DiagnosisFact",
    "EncounterFacts", "Finding", "NcciPair", "PayerPolicy", "PlanFacts", "RuleBook", "RuleBookError", "RuleProblem",
    "Severity", "add_rules_parser", "check_lines", "clear_caches", "code_encounter", "code_patient_day",
    "import_cms_ptp", "load_rulebook", "run_rules",
]
