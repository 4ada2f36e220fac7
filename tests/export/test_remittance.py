"""Remittances in: 835 payments and 999 / 277CA acknowledgements, built in the 005010X221A1 (and
X231A1, X214) layouts with fictional payers and people, posted to the claims an 837P billed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from slpterm import cli
from slpterm.export.formats import billing_format_ids
from slpterm.export.remittance import ReturnedFileError, read_returned_file
from slpterm.export.remittance_codes import explain_carc, explain_rarc
from slpterm.services.billing import BillingService
from slpterm.services.exporting import export_signed
from slpterm.services.remittances import ImportProblem, RemittanceService

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
TODAY = date(2026, 11, 27)
DAYS = (date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 6))


def _clinic(store):
    """A Medicare patient with three signed 92507 sessions, billed in one 837P."""
    store.clinic.save_clinic(name="Harbor Speech", npi="1234567893", tax_id="12-3456789", address_line1="1 Pier Rd",
                             city="Astoria", state="OR", postal_code="971031234", phone="503 555 0100",
                             submitter_id="HARBOR01", submitter_contact="Rosa Fennimore", receiver_id="CLEAR1",
                             receiver_name="Clearing House")
    clinician = store.clinic.add_clinician(first_name="Rosa", last_name="Fennimore", npi="1234567893")
    patient = store.patients.create(first_name="Walter", last_name="Brightwater", external_id="P-88",
                                    date_of_birth=date(1948, 2, 14), sex="M", address_line1="44 Spruce Lane",
                                    city="Astoria", state="OR", postal_code="97103")
    store.patients.add_coverage(patient_id=patient.id, payer_kind="medicare", payer_name="Medicare Part B Oregon",
                                payer_id="02402", member_id="1EG4TE5MK73")
    store.patients.add_diagnosis(patient_id=patient.id, code="I69.391", role="medical", rank=1)
    store.patients.add_diagnosis(patient_id=patient.id, code="R13.12", role="treatment", rank=2)
    plan = store.patients.add_plan(patient_id=patient.id, start_date=date(2026, 10, 1), end_date=date(2026, 12, 29),
                                   frequency="2x/week", certified_on=date(2026, 10, 3), status="certified",
                                   certifying_physician_name="Dana Whitlock", certifying_physician_npi="1234567893")
    goal = store.patients.add_goal(plan_id=plan.id, text="safe swallow with chin tuck")
    for day in DAYS:
        therapy_session, (participant,) = store.sessions.create(
            date_of_service=day, session_type="individual_treatment", setting="office",
            patient_ids=[patient.id], clinician_id=clinician.id)
        start = datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc)
        store.sessions.set_manual_time(therapy_session.id, "swallowing", start, start + timedelta(minutes=30))
        store.sessions.record_trial(participant.id, goal.id, "correct", "independent")
        store.sessions.save_note(participant.id, objective="1/1 trials")
        store.sessions.sign(participant.id, clinician.id)
    outcome = export_signed(store, "x12", store.data_dir.parent / "x12", now=NOW, today=TODAY)
    assert outcome.ok and len(outcome.exported_ids) == 3, outcome.problems
    claims = store.claims.register(billing_format_ids())
    assert len(claims) == 3
    return patient, claims


def interchange(kind: str, version: str, body: list[str], control: str = "000000201") -> str:
    """``body`` (the segments after ST) wrapped in ISA/GS/ST ... SE/GE/IEA with right counts."""
    isa = (f"ISA*00*          *00*          *ZZ*PAYERCLEAR     *ZZ*HARBOR01       *261120*0930*^*00501*"
           f"{control}*0*P*:")
    group = {"835": "HP", "999": "FA", "277": "HN", "837": "HC"}[kind]
    segments = [isa, f"GS*{group}*PAYERCLEAR*HARBOR01*20261120*0930*201*X*{version}", f"ST*{kind}*0001*{version}",
                *body, f"SE*{len(body) + 2}*0001", "GE*1*201", f"IEA*1*{control}"]
    return "".join(segment + "~\n" for segment in segments)


def payment_835(claims: list[list[str]], *, trace: str = "EFT778899", total: str = "0") -> str:
    """An 835 (005010X221A1) paying ``claims``, each a list of segments from CLP on."""
    body = [f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20261120",
            f"TRN*1*{trace}*1512345678", "DTM*405*20261119",
            "N1*PR*NORTHWEST MEDICARE ADMINISTRATOR", "N3*PO BOX 100", "N4*PORTLAND*OR*972010100",
            "PER*BL*PROVIDER SERVICES*TE*5035550199",
            "N1*PE*HARBOR SPEECH*XX*1234567893", "LX*1"]
    for claim in claims:
        body += claim
    return interchange("835", "005010X221A1", body)


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def paid_claim(number: str, charge: int, allowed: int, paid: int) -> list[str]:
    """Paid: the contractual write-off (CO-45) and 20% coinsurance (PR-2), with the allowed amount."""
    coinsurance = allowed - paid
    return [f"CLP*{number}*1*{_money(charge)}*{_money(paid)}*{_money(coinsurance)}*MB*PCN{number[-4:]}*11*1",
            "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", "DTM*232*20261102",
            f"SVC*HC:92526:GN*{_money(charge)}*{_money(paid)}**1", "DTM*472*20261102",
            f"CAS*CO*45*{_money(charge - allowed)}", f"CAS*PR*2*{_money(coinsurance)}", f"AMT*B6*{_money(allowed)}",
            "LQ*HE*MA01"]


def denied_claim(number: str, charge: int) -> list[str]:
    return [f"CLP*{number}*4*{_money(charge)}*0*0*MB*PCN{number[-4:]}*11*1",
            "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", "MOA***N115",
            f"SVC*HC:92526:GN*{_money(charge)}*0**1", "DTM*472*20261104",
            f"CAS*CO*50*{_money(charge)}", "AMT*B6*0"]


def partly_paid_claim(number: str, charge: int, paid: int) -> list[str]:
    """Part paid, the rest refused as too many units (CO-151) and with a reason outside the table."""
    refused = charge - paid
    return [f"CLP*{number}*1*{_money(charge)}*{_money(paid)}*0*MB*PCN{number[-4:]}*11*1",
            "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73",
            f"SVC*HC:92526:GN*{_money(charge)}*{_money(paid)}**1", "DTM*472*20261106",
            f"CAS*CO*151*{_money(refused - 100)}**283*1.00", "LQ*HE*N362"]


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return path


def test_an_835_posts_payments_a_denial_and_an_adjustment_to_the_right_claims_and_the_kx_figure(store, tmp_path):
    patient, claims = _clinic(store)
    first, second, third = claims  # by date of service
    billing = BillingService(store, TODAY)
    charged = billing.year_to_date_through(patient.id, TODAY)
    assert charged == Decimal(first.charge_cents + second.charge_cents + third.charge_cents) / 100

    allowed_first = first.charge_cents * 8 // 10
    paid_first = allowed_first * 8 // 10
    text = payment_835([paid_claim(first.claim_number, first.charge_cents, allowed_first, paid_first),
                        denied_claim(second.claim_number, second.charge_cents),
                        partly_paid_claim(third.claim_number, third.charge_cents, 1000)])
    report = RemittanceService(store).import_file(_write(tmp_path, "era.835", text))

    assert report.unmatched == [] and report.duplicates == []
    assert report.outcomes == {"paid": 1, "denied": 1, "partly paid": 1}
    service = RemittanceService(store)
    outcomes = service.outcomes()
    assert outcomes == {first.claim_number: "paid", second.claim_number: "denied", third.claim_number: "partly paid"}
    work = {review.claim_number: review for review in report.needs_work}
    assert set(work) == {second.claim_number, third.claim_number}
    denied = work[second.claim_number]
    assert denied.paid_cents == 0 and denied.allowed_cents == 0 and denied.date_of_service == DAYS[1]
    assert any("CARC 50: These are non-covered services because this is not deemed a 'medical necessity'" in reason
               for reason in denied.reasons)
    assert any(reason.startswith("RARC N115: This decision was based on a Local Coverage Determination")
               for reason in denied.reasons)
    partly = work[third.claim_number]
    assert partly.paid_cents == 1000 and partly.payer_claim_control == f"PCN{third.claim_number[-4:]}"
    assert any("CARC 151:" in reason and "on 92526" in reason for reason in partly.reasons)
    assert any("CARC 283 (not in slpterm's table)" in reason for reason in partly.reasons)
    assert any("RARC N362: The number of Days or Units of Service exceeds our acceptable maximum." in reason
               for reason in partly.reasons)

    register = {entry.claim_number: entry for entry in store.claims.register(billing_format_ids())}
    assert [register[claim.claim_number].status.label for claim in claims] == ["paid", "denied", "partly paid"]
    assert register[third.claim_number].payer_claim_number == f"PCN{third.claim_number[-4:]}"
    assert "CARC 50" in register[second.claim_number].status_note

    # KX counts what the payer allowed once known: 80% of the first, nothing of the denial, the
    # paid part of the third (paid + patient's share, no AMT*B6 given).
    after = BillingService(store, TODAY).year_to_date_through(patient.id, TODAY)
    assert after == Decimal(allowed_first + 0 + 1000) / 100
    assert after < charged


def test_the_same_835_imported_twice_posts_once(store, tmp_path, capsys):
    _patient, claims = _clinic(store)
    text = payment_835([paid_claim(claim.claim_number, claim.charge_cents, 5000, 4000) for claim in claims])
    path = _write(tmp_path, "era.835", text)
    assert RemittanceService(store).import_file(path).duplicates == []
    copy = _write(tmp_path, "era-copy.835", text.replace("DTM*405*20261119", "DTM*405*20261121"))
    again = RemittanceService(store).import_file(copy)
    assert again.summaries == [] and len(again.duplicates) == 1
    assert "EFT778899" in again.duplicates[0] and "era.835" in again.duplicates[0]
    assert "nothing was posted twice" in again.duplicates[0]
    posted = store.remittances.payments()
    assert sorted(posted) == sorted(claim.claim_number for claim in claims)
    assert all(len(payments) == 1 for payments in posted.values())


def test_the_command_imports_lists_what_needs_work_and_refuses_bad_files_without_a_traceback(store, tmp_path, capsys):
    _patient, claims = _clinic(store)
    data_dir = store.data_dir
    store.close()
    text = payment_835([denied_claim(claims[0].claim_number, claims[0].charge_cents),
                        paid_claim("ZZ-NOT-OURS", 10000, 8000, 6400)])
    path = _write(tmp_path, "era.835", text)
    assert cli.main(["claims", "import", str(path), "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "payment EFT778899 from NORTHWEST MEDICARE ADMINISTRATOR" in out and "2 claim(s) posted" in out
    assert "Not claims slpterm billed" in out and "ZZ-NOT-OURS" in out
    assert "Needs work (1):" in out and claims[0].claim_number in out and "denied" in out
    assert "CARC 50:" in out

    bad = {
        "notx12.835": ("Patient,Amount\nBrightwater,12.00\n", "is not an X12 file"),
        "claims.x12": (interchange("837", "005010X222A1", ["BHT*0019*00*1*20261120*0930*CH"]), "is an 837 claim file"),
        "cut.835": (text[: text.index("SE*")], "without its IEA trailer"),
        "amount.835": (text.replace("CLP*ZZ-NOT-OURS*1*100.00", "CLP*ZZ-NOT-OURS*1*ten"), "'ten', which is not an amount"),
        "count.835": (text.replace(f"SE*{text.count('~') - 4}*0001", "SE*3*0001"), "SE01 says 3 segments"),
        "empty.835": ("", "is empty"),
    }
    for name, (content, wording) in bad.items():
        bad_path = _write(tmp_path, name, content)
        assert cli.main(["claims", "import", str(bad_path), "--data-dir", str(data_dir)]) == 1, name
        captured = capsys.readouterr()
        assert wording in captured.err and name in captured.err, (name, captured.err)
        assert "Traceback" not in captured.err + captured.out
    assert cli.main(["claims", "import", str(tmp_path / "missing.835"), "--data-dir", str(data_dir)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_a_999_rejects_a_whole_837p_and_a_277ca_accepts_or_rejects_single_claims(store, tmp_path):
    _patient, claims = _clinic(store)
    control = claims[0].batches[0][1]
    assert control is not None
    rejected_999 = interchange("999", "005010X231A1", [
        f"AK1*HC*{control}*005010X222A1", f"AK2*837*{control:09d}*005010X222A1", "IK3*N4*14**8", "IK4*3*116*7*97103",
        "IK5*R*5", "AK9*R*1*1*0"])
    report = RemittanceService(store).import_file(_write(tmp_path, "ack.999", rejected_999))
    assert report.outcomes == {"rejected": 3} and len(report.needs_work) == 3
    assert "IK3 N4 14 8" in report.needs_work[0].reasons[0]

    first, second, third = claims
    ack_277 = interchange("277", "005010X214", [
        "BHT*0085*08*ACK1*20261121*1000*TH", "HL*1**20*1", "NM1*PR*2*NORTHWEST MEDICARE ADMINISTRATOR*****PI*02402",
        "HL*2*1*21*1", "NM1*41*2*HARBOR SPEECH*****46*HARBOR01", "HL*3*2*19*1", "NM1*85*2*HARBOR SPEECH*****XX*1234567893",
        "HL*4*3*PT", "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", f"TRN*2*{first.claim_number}",
        "STC*A1:20*20261121*WQ*55.00", "REF*1K*2226001234",
        "HL*5*3*PT", "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", f"TRN*2*{second.claim_number}",
        "STC*A7:562:85*20261121*U*55.00********Billing provider NPI not on file"])
    report = RemittanceService(store).import_file(_write(tmp_path, "ack.277", ack_277))
    outcomes = RemittanceService(store).outcomes()
    assert outcomes[first.claim_number] == "accepted" and outcomes[second.claim_number] == "rejected"
    assert outcomes[third.claim_number] == "rejected"  # the 999 said so and no 277CA spoke of it since
    rejected = {review.claim_number: review for review in report.needs_work}
    assert second.claim_number in rejected and "Billing provider NPI not on file" in rejected[second.claim_number].reasons[0]
    # The same acknowledgement again records nothing more.
    again = RemittanceService(store).import_file(_write(tmp_path, "ack-again.277", ack_277))
    assert again.summaries == [] and again.duplicates


def test_the_code_tables_explain_known_codes_and_name_unknown_ones():
    assert explain_carc("45").startswith("CARC 45: Charge exceeds fee schedule/maximum allowable")
    assert explain_carc("1") == "CARC 1: Deductible Amount. (the patient's deductible: bill the patient)"
    assert explain_carc("999") == "CARC 999 (not in slpterm's table)"
    assert explain_rarc("MA130").startswith("RARC MA130: Your claim contains incomplete and/or invalid information")
    assert explain_rarc("N9999") == "RARC N9999 (not in slpterm's table)"


def test_the_parser_reads_amounts_adjustments_and_remarks_of_every_claim():
    text = payment_835([paid_claim("C-1", 14500, 11600, 9280), denied_claim("C-2", 14500)], total="92.80")
    (payment,) = read_returned_file(text, "era.835").payments
    assert (payment.trace_number, payment.payer_id, payment.paid_cents) == ("EFT778899", "1512345678", 9280)
    assert payment.payment_date == date(2026, 11, 20)
    first, second = payment.claims
    assert (first.charge_cents, first.paid_cents, first.patient_responsibility_cents, first.allowed_cents) == \
        (14500, 9280, 2320, 11600)
    assert [(a.group, a.reason, a.amount_cents, a.procedure) for a in first.adjustments] == \
        [("CO", "45", 2900, "92526"), ("PR", "2", 2320, "92526")]
    assert first.remarks == ["MA01"] and second.remarks == ["N115"] and second.status_code == "4"
    with pytest.raises(ReturnedFileError, match="no TRN segment"):
        read_returned_file(text.replace("TRN*1*EFT778899*1512345678~\n", "").replace(
            f"SE*{text.count('~') - 4}*", f"SE*{text.count('~') - 5}*"), "era.835")


def test_importing_from_a_folder_or_a_binary_file_says_what_is_wrong(store, tmp_path):
    service = RemittanceService(store)
    with pytest.raises(ImportProblem, match="is a folder"):
        service.import_file(tmp_path)
    binary = tmp_path / "era.zip"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    with pytest.raises(ImportProblem, match="not a text file"):
        service.import_file(binary)


def test_a_reversal_then_a_corrected_payment_leaves_the_corrected_one(store, tmp_path):
    patient, claims = _clinic(store)
    first = claims[0]
    number, charge = first.claim_number, first.charge_cents
    reversal = [f"CLP*{number}*22*-{_money(charge)}*-{_money(9000)}*0*MB*PCN1*11*1",
                "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", f"CAS*CR*45*-{_money(charge - 9000)}"]
    corrected = [f"CLP*{number}*1*{_money(charge)}*{_money(7000)}*{_money(1000)}*MB*PCN2*11*1",
                 "NM1*QC*1*BRIGHTWATER*WALTER****MI*1EG4TE5MK73", f"CAS*CO*45*{_money(charge - 8000)}",
                 f"CAS*PR*2*{_money(1000)}"]
    service = RemittanceService(store)
    service.import_file(_write(tmp_path, "first.835", payment_835([paid_claim(number, charge, 11250, 9000)], trace="T1")))
    report = service.import_file(_write(tmp_path, "fix.835", payment_835([reversal, corrected], trace="T2")))
    assert report.outcomes == {"paid": 1}
    assert [p.payment.status_code for p in store.remittances.payments()[number]] == ["1", "22", "1"]
    (allowed,) = store.remittances.allowed_by_participant([patient.id]).values()
    assert sum(allowed.values()) == 8000  # the corrected allowance: paid 70.00 + coinsurance 10.00
