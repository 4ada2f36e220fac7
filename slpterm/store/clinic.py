"""The clinic (billing provider), its clinicians and its settings."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from slpterm.store.base import Repository
from slpterm.store.models import (
    AppSetting,
    Clinic,
    Clinician,
    FeeScheduleEntry,
    PayerPolicyOverride,
    utc_now,
)

IDENTITY_SETTING = "data_file_identity"


class ClinicRepository(Repository):
    def get_clinic(self) -> Clinic | None:
        with self.db.read() as session:
            return session.exec(select(Clinic).order_by(col(Clinic.created_at))).first()

    def save_clinic(self, **fields: Any) -> Clinic:
        """Create the clinic on first use, or update the one clinic."""
        existing = self.get_clinic()
        if existing is None:
            return self._insert(Clinic(**fields))
        return self._update(Clinic, existing.id, {**fields, "updated_at": utc_now()})

    def add_clinician(self, **fields: Any) -> Clinician:
        return self._insert(Clinician(**fields))

    def update_clinician(self, clinician_id: str, **fields: Any) -> Clinician:
        return self._update(Clinician, clinician_id, fields)

    def clinicians(self, include_inactive: bool = False) -> list[Clinician]:
        with self.db.read() as session:
            query = select(Clinician).order_by(col(Clinician.created_at))
            if not include_inactive:
                query = query.where(col(Clinician.active).is_(True))
            return list(session.exec(query))

    def is_set_up(self) -> bool:
        """True once the clinic and at least one clinician have been entered (or setup was skipped)."""
        if self.get_setting("setup_skipped") == "yes":
            return True
        return self.get_clinic() is not None and bool(self.clinicians())

    def identity(self) -> str:
        """The data file's lasting identity: made once with the file, kept by backups and restores, so
        a backup of another clinic's file (or an anchor of another trail) is recognised as such."""
        existing = self.get_setting(IDENTITY_SETTING)
        if existing:
            return existing
        with self.db.write(changes_records=False) as session:
            setting = session.get(AppSetting, IDENTITY_SETTING)
            if setting is not None and setting.value:
                return setting.value
            value = str(uuid.uuid4())
            session.add(AppSetting(key=IDENTITY_SETTING, value=value))
            self.audit(session, "identity", "appsetting", IDENTITY_SETTING, {"identity": value})
            return value

    def get_setting(self, key: str, default: str = "") -> str:
        with self.db.read() as session:
            setting = session.get(AppSetting, key)
            return setting.value if setting else default

    def set_setting(self, key: str, value: str) -> None:
        with self.db.write() as session:
            setting = session.get(AppSetting, key) or AppSetting(key=key)
            before = setting.value
            setting.value = value
            session.add(setting)
            self.audit(session, "setting", "appsetting", key, {"before": before, "after": value})

    def fee_schedule(self) -> dict[str, Decimal]:
        with self.db.read() as session:
            return {
                entry.code: Decimal(entry.charge_cents) / 100
                for entry in session.exec(select(FeeScheduleEntry))
            }

    def set_fee(self, code: str, charge: Decimal) -> None:
        cents = int((Decimal(charge) * 100).to_integral_value())
        with self.db.write() as session:
            entry = session.get(FeeScheduleEntry, code) or FeeScheduleEntry(code=code, charge_cents=cents)
            entry.charge_cents = cents
            session.add(entry)
            self.audit(session, "update", "feescheduleentry", code, {"charge": str(charge)})

    def payer_overrides(self) -> dict[str, str]:
        with self.db.read() as session:
            return {row.payer_id: row.settings_json for row in session.exec(select(PayerPolicyOverride))}

    def set_payer_override(self, payer_id: str, settings_json: str) -> None:
        with self.db.write() as session:
            row = session.get(PayerPolicyOverride, payer_id) or PayerPolicyOverride(payer_id=payer_id)
            row.settings_json = settings_json
            session.add(row)
            self.audit(session, "update", "payerpolicyoverride", payer_id, settings_json)
