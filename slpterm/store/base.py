"""What every repository shares: access to the database and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session, SQLModel

from slpterm.store import changes
from slpterm.store.audit import record_event
from slpterm.store.errors import NotFound
from slpterm.store.models import table_name

if TYPE_CHECKING:
    from slpterm.store.db import Database
    from slpterm.store.store import Store

ModelT = TypeVar("ModelT", bound=SQLModel)


class Repository:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def db(self) -> Database:
        return self.store.db

    def audit(self, session: Session, action: str, entity: str, entity_id: str, detail: dict[str, Any] | str = "") -> None:
        record_event(session, self.store.actor, action, entity, entity_id, detail, key=self.store.audit_key)
        changes.note(session, entity, entity_id, detail)

    @staticmethod
    def require(session: Session, model: type[ModelT], record_id: str) -> ModelT:
        record = session.get(model, record_id)
        if record is None:
            raise NotFound(f"No {model.__name__.lower()} with id {record_id}; it may have been removed.")
        return record

    def get(self, model: type[ModelT], record_id: str) -> ModelT:
        with self.db.read() as session:
            return self.require(session, model, record_id)

    def _insert(self, record: ModelT, action: str = "create") -> ModelT:
        with self.db.write() as session:
            session.add(record)
            session.flush()
            values = record.model_dump(mode="json")
            self.audit(session, action, table_name(type(record)), values["id"], values)
        return record

    def _update(self, model: type[ModelT], record_id: str, changes: dict[str, Any]) -> ModelT:
        with self.db.write() as session:
            record = self.require(session, model, record_id)
            before = {key: getattr(record, key) for key in changes}
            for key, value in changes.items():
                if not hasattr(record, key):
                    raise AttributeError(f"{model.__name__} has no field {key}")
                setattr(record, key, value)
            session.add(record)
            session.flush()
            self.audit(session, "update", table_name(model), record_id,
                       {"before": before, "after": changes})
        return record
