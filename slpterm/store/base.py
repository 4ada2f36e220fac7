"""What every repository shares: access to the database and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from sqlmodel import Session, SQLModel

from slpterm.store import changes
from slpterm.store.audit import record_event
from slpterm.store.errors import NotFound

if TYPE_CHECKING:
    from slpterm.store.store import Store

ModelT = TypeVar("ModelT", bound=SQLModel)


class Repository:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def db(self):  # noqa: ANN201
        return self.store.db

    def audit(self, session: Session, action: str, entity: str, entity_id: str, detail: dict | str = "") -> None:
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
            self.audit(session, action, type(record).__tablename__, record.id, record.model_dump(mode="json"))
        return record

    def _update(self, model: type[ModelT], record_id: str, changes: dict) -> ModelT:
        with self.db.write() as session:
            record = self.require(session, model, record_id)
            before = {key: getattr(record, key) for key in changes}
            for key, value in changes.items():
                if not hasattr(record, key):
                    raise AttributeError(f"{model.__name__} has no field {key}")
                setattr(record, key, value)
            session.add(record)
            session.flush()
            self.audit(session, "update", model.__tablename__, record_id,
                       {"before": before, "after": changes})
        return record
