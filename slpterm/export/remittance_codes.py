"""What the codes on a remittance mean: the Claim Adjustment Reason Codes (CARC, in CAS) and
Remittance Advice Remark Codes (RARC, in MOA, MIA and LQ) a speech-language pathology practice
meets, each with its official meaning and, for CARCs, what it usually asks of the practice.

Source: the X12 code lists "Claim Adjustment Reason Codes" and "Remittance Advice Remark Codes"
(https://x12.org/codes), the descriptions transcribed without their "Usage" notes. The lists are
revised three times a year; a code missing here is shown as "CARC NNN (not in slpterm's table)",
and the payer's own remittance or the X12 list has its meaning.
"""

from __future__ import annotations

CODE_TABLE_SOURCE = "X12 Claim Adjustment Reason Codes and Remittance Advice Remark Codes (x12.org/codes)"

# CARC -> (official description, what it usually means for the practice).
CARC: dict[str, tuple[str, str]] = {
    "1": ("Deductible Amount.", "the patient's deductible: bill the patient"),
    "2": ("Coinsurance Amount.", "the patient's coinsurance: bill the patient"),
    "3": ("Co-payment Amount.", "the patient's copay: collect it from the patient"),
    "4": ("The procedure code is inconsistent with the modifier used.",
          "a modifier is wrong or missing (e.g. GN, 59, KX): correct the claim and send a replacement"),
    "5": ("The procedure code/type of bill is inconsistent with the place of service.",
          "the place of service does not fit the code: check the setting and send a replacement"),
    "11": ("The diagnosis is inconsistent with the procedure.",
           "the diagnosis does not support the code: check the diagnosis pointers"),
    "16": ("Claim/service lacks information or has submission/billing error(s).",
           "something is missing or wrong on the claim; the remark codes say what: fix it and resend"),
    "18": ("Exact duplicate claim/service.", "the payer already has this claim: do not resend it"),
    "22": ("This care may be covered by another payer per coordination of benefits.",
           "bill the other (primary) coverage first"),
    "23": ("The impact of prior payer(s) adjudication including payments and/or adjustments.",
           "what the primary payer already paid or adjusted"),
    "26": ("Expenses incurred prior to coverage.", "the coverage had not started: check the patient's coverage dates"),
    "27": ("Expenses incurred after coverage terminated.",
           "the coverage had ended: check the patient's coverage and bill the right payer"),
    "29": ("The time limit for filing has expired.", "sent too late; usually not billable to the patient"),
    "31": ("Patient cannot be identified as our insured.",
           "the payer cannot find the patient: check the member ID, name and birth date"),
    "45": ("Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.",
           "the contractual write-off: the charge above the allowed amount"),
    "50": ("These are non-covered services because this is not deemed a 'medical necessity' by the payer.",
           "not medically necessary in the payer's view: appeal with the plan of care and notes"),
    "59": ("Processed based on multiple or concurrent procedure rules.",
           "reduced under the multiple-procedure rules"),
    "96": ("Non-covered charge(s).", "not covered: the remark codes say why"),
    "97": ("The benefit for this service is included in the payment/allowance for another service/procedure "
           "that has already been adjudicated.",
           "bundled into another service paid that day (e.g. 92507 with 92526): a distinct-service modifier may apply"),
    "109": ("Claim/service not covered by this payer/contractor. You must send the claim/service to the correct "
            "payer/contractor.", "sent to the wrong payer: bill the right one"),
    "119": ("Benefit maximum for this time period or occurrence has been reached.",
            "the plan's visit or dollar limit is used up: the patient may owe it"),
    "151": ("Payment adjusted because the payer deems the information submitted does not support this "
            "many/frequency of services.", "too many units or visits in the payer's view: appeal with documentation"),
    "167": ("This (these) diagnosis(es) is (are) not covered.", "the diagnosis is not covered: check the codes"),
    "170": ("Payment is denied when performed/billed by this type of provider.",
            "the payer does not pay this provider type for the service"),
    "197": ("Precertification/authorization/notification/pre-treatment absent.",
            "no prior authorization on file: get one or appeal with it"),
    "204": ("This service/equipment/drug is not covered under the patient's current benefit plan.",
            "not a benefit of this plan: the patient may owe it if told beforehand"),
    "242": ("Services not provided by network/primary care providers.", "out of network"),
    "253": ("Sequestration - reduction in federal payment.",
            "Medicare's sequestration cut: a write-off, not billable to the patient"),
}

# RARC -> official description.
RARC: dict[str, str] = {
    "M20": "Missing/incomplete/invalid HCPCS.",
    "M51": "Missing/incomplete/invalid procedure code(s).",
    "M76": "Missing/incomplete/invalid diagnosis or condition.",
    "M80": "Not covered when performed during the same session/date as a previously processed service for the patient.",
    "M86": "Service denied because payment already made for same/similar procedure within set time frame.",
    "MA01": "Alert: If you do not agree with what we approved for these services, you may appeal our decision.",
    "MA18": "Alert: The claim information is also being forwarded to the patient's supplemental insurer. Send any "
            "questions regarding supplemental benefits to them.",
    "MA130": "Your claim contains incomplete and/or invalid information, and no appeal rights are afforded because "
             "the claim is unprocessable. Please submit a new claim with the complete/correct information.",
    "N19": "Procedure code incidental to primary procedure.",
    "N20": "Service not payable with other service rendered on the same date.",
    "N30": "Patient ineligible for this service.",
    "N115": "This decision was based on a Local Coverage Determination (LCD).",
    "N130": "Consult plan benefit documents/guidelines for information about restrictions for this service.",
    "N211": "Alert: You may not appeal this decision.",
    "N290": "Missing/incomplete/invalid rendering provider primary identifier.",
    "N362": "The number of Days or Units of Service exceeds our acceptable maximum.",
    "N386": "This decision was based on a National Coverage Determination (NCD).",
    "N640": "Exceeds number/frequency approved/allowed within time period.",
    "N657": "This should be billed with the appropriate code for these services.",
}


def explain_carc(code: str) -> str:
    """``CARC 45: Charge exceeds ... (the contractual write-off: ...)``, or that the table lacks it."""
    found = CARC.get(code.strip())
    if found is None:
        return f"CARC {code} (not in slpterm's table)"
    description, meaning = found
    return f"CARC {code}: {description} ({meaning})"


def explain_rarc(code: str) -> str:
    found = RARC.get(code.strip())
    return f"RARC {code}: {found}" if found else f"RARC {code} (not in slpterm's table)"
