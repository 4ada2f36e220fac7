"""What the app asks of the screens it shows, declared instead of guessed from attribute names."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class HoldsUnsavedText(Protocol):
    """A screen with typed text waiting for its autosave: stored before quitting or locking."""

    def save_note(self) -> bool:
        """Store the text now; False when it could not be stored (it stays on screen)."""
        ...


@runtime_checkable
class ShowsAPatient(Protocol):
    """A screen about one patient (or with one highlighted): F3 starts a session for them."""

    @property
    def patient_in_view(self) -> str | None: ...


@runtime_checkable
class WritesProgressReports(Protocol):
    """A screen that opens the progress report of the plan in view (the command palette offers it)."""

    def action_progress_report(self) -> None: ...
