"""Clinical domain layer: diagnosis codes, what is due, form validation, catalogs, trial tallies,
the session timer's arithmetic and CSV patient import.

Pure Python (stdlib only); nothing here imports Textual, Rich or the database layer. Rules files
live in ``slpterm/rules/``; a broken file raises ``slpterm.clinical.data.ClinicalDataError``
(naming the file, the entry and the fix). Submodules are imported directly, e.g.
``from slpterm.clinical.icd10 import check_code``.

icd10
    check_code(code, *, on=None, consult_full_code_set=True) -> CodeCheck(code, status, description, reason)
        (on: the date of service; the release in force then answers)
        status (CodeStatus, a StrEnum): "billable" | "unlisted_valid_format" | "not_billable" | "malformed";
        ``.usable`` is True for the first two (the second carries a warning in ``reason``).
    search(text, limit=20) -> list[CodeEntry(code, description, billable, category)]
    lookup(code) -> CodeEntry | None;  all_codes() -> list[CodeEntry]
    normalize_code(text) -> str;  x12_format(code) -> str (no dot; ValueError if malformed)
    excludes1_conflicts(codes, *, on=None) -> list[(code_a, code_b, reason)]
    companion_warnings(codes, *, on=None) -> list[(code, message)]
    preload_full_code_set() -> bool;  release_for(day) -> Release;  release_note(day) -> str | None;
    reload_releases() (after an install);  title(code, on=None) -> str | None

due
    due_items(PatientDueFacts, rules=None) -> list[DueItem(kind: DueKind, severity: Severity, message,
        short_label, plan_id)];  summarize(items, max_length=24) -> str (one caseload cell)
    PatientDueFacts(today, payer_kind, plans: tuple[PlanDueFacts], iep: tuple[IepDueFacts], kx: KxDueFacts | None,
        progress_report_interval=None, requires_certification=None)
    PlanDueFacts(plan_id, start, end, status, certified_on, first_treatment_date,
        treatment_dates_since_progress_report, last_progress_report_on, label)
    IepDueFacts(required_minutes, period, kind, delivered_minutes);  iep_period_bounds(today, period)
    KxDueFacts(threshold_amount, year_to_date_amount, visit_count, visit_threshold)
    load_documentation_rules(path=None, *, clinic_dir=None) -> DocumentationRules; with_progress_mode(rules, mode)
    plan_length_days(start, end) -> int

validation
    FieldError(field, message, level: Level "error"|"warning");  has_errors(list) -> bool
    parse_date(text, field) -> date  (raises DateInputError);  parse_frequency(text) -> Frequency(times, per) | None
    validate_patient(*, first_name, last_name, date_of_birth, today, phone, guardian, school, grade, sex, is_student)
    validate_coverage(*, payer_kind, member_id, payer_name, effective_from, effective_to)
    validate_plan(*, start, end, today, payer_kind, frequency, duration_weeks, certifying_npi, certified_on,
        first_treatment_date)
    validate_goal(*, text, target_accuracy, consecutive_sessions)
    normalize_grade(text), phone_problem(text), mbi_problem(member_id), age_on(birth, on)

catalogs
    load_goal_bank(clinic_dir=None) -> list[GoalTemplate];  goals_for_area(goals, area, term=None)
    GoalTemplate.render(**values) -> str
    load_techniques(clinic_dir=None) -> TechniqueCatalog(procedures, techniques; by_id, for_procedure, for_area)
    load_phrases(clinic_dir=None) -> dict[SoapSection, list[Phrase]]

tally / objective
    tally(trials) -> Tally(correct, incorrect, no_response; total, accuracy, fraction_text());
    tally_by_cue(trials) -> dict[CueLevel, Tally];  tally_by_goal(mapping) -> dict[key, Tally];  percent(c, t)
    draft_objective(goals_with_trials: list[GoalTrials(label, trials, number, cue_type)], total_minutes,
        minutes_by_area) -> str;  goal_line(goal), minutes_text(total, by_area)

timer
    TimeSegment(area, started_at, ended_at=None)
    elapsed_seconds / seconds_by_area / minutes_by_area / total_minutes / start_and_stop
        (segments, now, last_seen_at=None, sleep_gap=5 min[, rounding=MinuteRounding.FLOOR])
    start(segments, area, now), stop(segments, now), switch_area(...), resume(segments, now, default_area),
    close_stale_segment(segments, now, last_seen_at) -> StaleCheck(segments, suspended)
    format_elapsed(seconds), format_clock(moment, tz=None)

patient_import
    parse_patient_csv(text_or_file, *, today, existing_ids=()) -> ImportResult(patients, errors, duplicates,
        file_errors, notices; ok, summary());  read_patient_csv(path, *, today, existing_ids=())
    COLUMNS, REQUIRED_COLUMNS; column documentation in the module docstring.
"""
