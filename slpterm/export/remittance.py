"""Files that come back for the 837Ps slpterm sends: 835 payments (005010X221A1), 999
implementation acknowledgements (005010X231A1) and 277CA claim acknowledgements (005010X214).

:func:`read_returned_file` reads one file (pyx12's ``RawX12File`` finds the delimiters in ISA and
splits the segments; the envelopes' counts and control numbers are checked as it goes) and gives
back what it says per claim. Claims are named by their claim number, CLM01 of
the 837P, which the 835 returns in CLP01 and the 277CA in TRN02 of its claim loop. Amounts are
integer cents. A file that cannot be read raises :class:`ReturnedFileError` naming the problem.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from slpterm.domain.remittance import (
    ACCEPTED_ACK_CODES,
    ACCEPTED_CATEGORIES,
    CLAIM_ACK,
    IMPLEMENTATION_ACK,
    PAYMENT,
    REJECTED_CATEGORIES,
    AcknowledgementFile,
    Adjustment,
    ClaimAcknowledgement,
    ClaimPayment,
    PaymentFile,
    ReturnedFile,
)


class ReturnedFileError(ValueError):
    """A file that is not a readable 835, 999 or 277CA; the message names the problem."""


class _Segments:
    """The file's segments as lists of element strings (element 0 is the segment id), with the
    position of the current one for messages. pyx12's ``RawX12File`` finds the delimiters in ISA
    and splits the segments; the envelopes (ISA/IEA, GS/GE, ST/SE counts and control numbers) are
    checked here, as pyx12's ``X12Reader`` checks them, without building an object per segment."""

    def __init__(self, text: str, name: str) -> None:
        from pyx12.errors import X12Error
        from pyx12.rawx12file import RawX12File

        self.name = name
        self.number = 0
        try:
            self._raw = RawX12File(io.StringIO(text))
        except X12Error as error:
            raise ReturnedFileError(f"{name} is not an X12 file slpterm can read: {error}. An 835, 999 or "
                                    "277CA file begins with a 106-character ISA segment.") from None
        _segment, self._element_separator, self.component, _eol, _repetition = self._raw.get_term()

    def __iter__(self) -> Iterator[list[str]]:
        separator = self._element_separator
        opened: dict[str, tuple[str, int]] = {}  # envelope -> (control number, segment number it opened at)
        ended = False
        for line in self._raw:
            self.number += 1
            segment = line.rstrip("\r\n").split(separator)
            tag = segment[0]
            if tag in ("ISA", "GS", "ST"):
                opened[tag] = (_element(segment, {"ISA": 13, "GS": 6, "ST": 2}[tag]), self.number)
            elif tag in ("IEA", "GE", "SE"):
                self._close(tag, segment, opened)
            ended = tag == "IEA"
            yield segment
        if not ended:
            raise ReturnedFileError(f"{self.name} ends after segment {self.number} without its IEA trailer "
                                    "(cut short, or an empty segment '~~' in it). Ask the sender for the file again.")

    def _close(self, tag: str, segment: list[str], opened: dict[str, tuple[str, int]]) -> None:
        header = {"IEA": "ISA", "GE": "GS", "SE": "ST"}[tag]
        if header not in opened:
            raise self.problem(f"{tag} without its {header}; the file is damaged. Ask the sender for the file again.")
        control, start = opened.pop(header)
        if _element(segment, 2) != control:
            raise self.problem(f"{tag}02 is {_element(segment, 2)!r} but its {header} says {control!r}; the file is "
                               "damaged. Ask the sender for the file again.")
        if tag == "SE" and _element(segment, 1) != str(self.number - start + 1):
            raise self.problem(f"SE01 says {_element(segment, 1)} segments but the transaction has "
                               f"{self.number - start + 1}; the file is damaged or incomplete. Ask the sender for "
                               "the file again.")

    def problem(self, text: str) -> ReturnedFileError:
        return ReturnedFileError(f"{self.name}, segment {self.number}: {text}")


def _element(segment: list[str], number: int) -> str:
    return segment[number].strip() if number < len(segment) else ""


def _cents(segments: _Segments, segment: list[str], number: int, *, required: bool = True) -> int:
    text = _element(segment, number)
    if not text:
        if required:
            raise segments.problem(f"{segment[0]}{number:02d} (an amount) is empty.")
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise segments.problem(f"{segment[0]}{number:02d} is {text!r}, which is not an amount.") from None
    if not amount.is_finite():
        raise segments.problem(f"{segment[0]}{number:02d} is {text!r}, which is not an amount.")
    return int((amount * 100).to_integral_value())


def _date(segments: _Segments, text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise segments.problem(f"{what} is {text!r}, which is not a date (CCYYMMDD).") from None


def read_returned_file(text: str, name: str = "the file") -> ReturnedFile:
    """The payments or acknowledgements in ``text`` (the whole file; ``name`` is used in messages)."""
    segments = _Segments(text, name)
    found = ReturnedFile(kind="")
    iterator = iter(segments)
    interchange_control = ""
    for segment in iterator:
        tag = segment[0]
        if tag == "ISA":
            interchange_control = _element(segment, 13)
        elif tag == "ST":
            kind = _element(segment, 1)
            version = _element(segment, 3)
            if kind == "835":
                found.payments.append(_read_835(segments, iterator))
                found.kind = PAYMENT
            elif kind == "999":
                found.acknowledgements.append(_read_999(segments, iterator, interchange_control))
                found.kind = IMPLEMENTATION_ACK
            elif kind == "277" and (not version or "X214" in version):
                found.acknowledgements.append(_read_277ca(segments, iterator, interchange_control))
                found.kind = CLAIM_ACK
            elif kind == "837":
                raise ReturnedFileError(f"{name} is an 837 claim file (one slpterm sends), not a payment (835) "
                                        "or an acknowledgement (999, 277CA).")
            else:
                raise ReturnedFileError(f"{name} holds an X12 {kind} {version} transaction; slpterm reads "
                                        "835 payments, 999 and 277CA acknowledgements.")
    if not found.payments and not found.acknowledgements:
        raise ReturnedFileError(f"{name} holds no transaction (no ST segment between its GS and GE).")
    return found


def _read_835(segments: _Segments, iterator: Iterator[list[str]]) -> PaymentFile:
    payment = PaymentFile(trace_number="", payer_id="", payer_name="", payment_date=None, paid_cents=0, method="")
    claim: ClaimPayment | None = None
    procedure = ""
    in_payer = False
    for segment in iterator:
        tag = segment[0]
        if tag == "SE":
            break
        if tag == "BPR":
            payment.paid_cents = _cents(segments, segment, 2)
            payment.method = _element(segment, 4)
            payment.payment_date = _date(segments, _element(segment, 16), "BPR16 (the payment date)")
        elif tag == "TRN":
            payment.trace_number = _element(segment, 2)
            payment.payer_id = _element(segment, 3)
        elif tag == "N1":
            in_payer = _element(segment, 1) == "PR"
            if in_payer:
                payment.payer_name = _element(segment, 2)
        elif tag == "REF" and in_payer and _element(segment, 1) == "2U" and not payment.payer_id:
            payment.payer_id = _element(segment, 2)
        elif tag == "CLP":
            claim_number = _element(segment, 1)
            if not claim_number:
                raise segments.problem("CLP01 (the claim number) is empty.")
            claim = ClaimPayment(claim_number=claim_number, status_code=_element(segment, 2),
                                 charge_cents=_cents(segments, segment, 3), paid_cents=_cents(segments, segment, 4),
                                 patient_responsibility_cents=_cents(segments, segment, 5, required=False),
                                 payer_claim_control=_element(segment, 7))
            payment.claims.append(claim)
            procedure = ""
        elif claim is None:
            continue
        elif tag == "SVC":
            composite = _element(segment, 1).split(segments.component)
            procedure = composite[1] if len(composite) > 1 else composite[0]
            claim.line_allowed_cents.append(None)
        elif tag == "CAS":
            group = _element(segment, 1)
            for start in range(2, 19, 3):  # up to six reason / amount / quantity triplets
                reason = _element(segment, start)
                if reason:
                    claim.adjustments.append(Adjustment(group, reason, _cents(segments, segment, start + 1), procedure))
        elif tag == "AMT" and _element(segment, 1) == "B6" and procedure and claim.line_allowed_cents:
            claim.line_allowed_cents[-1] = _cents(segments, segment, 2)
        elif tag == "LQ" and _element(segment, 1) == "HE":
            _add_remark(claim, _element(segment, 2))
        elif tag == "MOA":  # outpatient adjudication: MOA03..MOA07 are remark codes
            for number in range(3, 8):
                _add_remark(claim, _element(segment, number))
        elif tag == "MIA":  # inpatient adjudication: MIA05, MIA20..MIA23
            for number in (5, 20, 21, 22, 23):
                _add_remark(claim, _element(segment, number))
        elif tag == "DTM" and _element(segment, 1) in ("232", "472") and claim.service_date is None:
            claim.service_date = _date(segments, _element(segment, 2), f"DTM{_element(segment, 1)} (date of service)")
    if not payment.trace_number:
        raise ReturnedFileError(f"{segments.name} has no TRN segment (the payment's trace number), so a second "
                                "import of it could not be recognised; it was not imported.")
    return payment


def _add_remark(claim: ClaimPayment, code: str) -> None:
    if code and code not in claim.remarks:
        claim.remarks.append(code)


def _read_999(segments: _Segments, iterator: Iterator[list[str]], control: str) -> AcknowledgementFile:
    acknowledgement = AcknowledgementFile(kind=IMPLEMENTATION_ACK, control=control, created=None)
    transaction: int | None = None
    errors: list[str] = []
    for segment in iterator:
        tag = segment[0]
        if tag == "SE":
            break
        if tag == "AK2":
            text = _element(segment, 2)
            try:
                transaction = int(text)
            except ValueError:
                raise segments.problem(f"AK202 is {text!r}; it should be the ST02 control number of an 837P.") from None
            errors = []
        elif tag in ("IK3", "IK4") and transaction is not None:
            errors.append(f"{tag} {' '.join(value for value in segment[1:] if value)}")
        elif tag == "IK5" and transaction is not None:
            code = _element(segment, 1)
            accepted = code in ACCEPTED_ACK_CODES
            message = ("accepted" if code == "A" else "accepted with errors" if code == "E"
                       else "rejected by the clearinghouse's syntax check")
            if errors:
                message += ": " + "; ".join(errors)
            acknowledgement.verdicts.append(ClaimAcknowledgement(accepted=accepted, status_code=f"IK5 {code}",
                                                                 message=message, batch_control=transaction))
            transaction = None
    return acknowledgement


def _read_277ca(segments: _Segments, iterator: Iterator[list[str]], control: str) -> AcknowledgementFile:
    acknowledgement = AcknowledgementFile(kind=CLAIM_ACK, control=control, created=None)
    level = ""
    claim_number = ""
    payer_control = ""
    statuses: list[list[str]] = []  # each claim-level STC01 as its components, then its free text
    in_service_line = False

    def finish_claim() -> None:
        if not claim_number or not statuses:
            return
        categories = [status[0] for status in statuses]
        words = "; ".join(segments.component.join(status[:-1]) + (f" ({status[-1]})" if status[-1] else "")
                          for status in statuses)
        acknowledgement.verdicts.append(ClaimAcknowledgement(
            accepted=categories[0] in ACCEPTED_CATEGORIES and not REJECTED_CATEGORIES.intersection(categories),
            status_code=categories[0], message=f"STC {words}", claim_number=claim_number,
            payer_claim_control=payer_control))

    for segment in iterator:
        tag = segment[0]
        if tag == "SE":
            break
        if tag == "BHT":
            acknowledgement.created = _date(segments, _element(segment, 4), "BHT04 (the file's date)")
        elif tag == "HL":
            if level == "PT":
                finish_claim()
            level = _element(segment, 3)
            claim_number, payer_control, statuses, in_service_line = "", "", [], False
        elif level != "PT":
            continue
        elif tag == "TRN" and _element(segment, 1) == "2":
            claim_number = _element(segment, 2)
        elif tag == "SVC":
            in_service_line = True  # the service lines' own STCs follow; the claim's verdict is above
        elif tag == "STC" and not in_service_line:
            statuses.append([*_element(segment, 1).split(segments.component), _element(segment, 12)])
        elif tag == "REF" and _element(segment, 1) == "1K":
            payer_control = _element(segment, 2)
    if level == "PT":
        finish_claim()
    return acknowledgement
