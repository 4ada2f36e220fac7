"""The claims register's statuses: where a claim stands, from ready to paid (or voided)."""

from __future__ import annotations

from enum import StrEnum


class ClaimStatus(StrEnum):
    READY = "ready"  # signed and clean, goes out with the next 837P (no batch yet)
    EXPORTED = "exported"  # sent in an 837P batch, no answer yet
    ACCEPTED = "accepted"  # the clearinghouse or payer acknowledged it (999, 277CA)
    REJECTED = "rejected"  # refused before adjudication (999, 277CA): fix and send again
    PAID = "paid"
    PARTLY_PAID = "partly_paid"
    DENIED = "denied"
    REPLACED = "replaced"  # a replacement (frequency 7) was sent
    VOIDED = "voided"  # a void (frequency 8) was sent

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# What the payer's answers (remittances, acknowledgements) may set; the others are the register's own.
PAYER_STATUSES = frozenset({ClaimStatus.ACCEPTED, ClaimStatus.REJECTED, ClaimStatus.PAID, ClaimStatus.PARTLY_PAID,
                            ClaimStatus.DENIED})
# Frequency codes (CLM05-3) of the claims a correction sends.
REPLACEMENT_FREQUENCY = "7"
VOID_FREQUENCY = "8"


def claim_status(text: str) -> ClaimStatus:
    """``text`` ('paid', 'partly paid', 'partly_paid') as a status; ValueError naming the choices."""
    wanted = text.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return ClaimStatus(wanted)
    except ValueError:
        choices = ", ".join(status.label for status in ClaimStatus)
        raise ValueError(f"{text!r} is not a claim status; choose one of {choices}.") from None
