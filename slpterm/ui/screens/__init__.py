"""The screens, by name. This is the one place where start-up's deferred imports live.

The first frame needs only the caseload and the message screen, which the app imports itself;
every other screen is imported the first time it is shown, through the names below
(``from slpterm.ui import screens`` and then ``screens.SessionScreen(...)``). Keeping them out of
the first frame keeps SQLAlchemy, the coding engine and the exporters out of it too: start-up
stays as fast as ``python -m slpterm.bench`` measures it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_SHOWN_LATER = {
    "AuditScreen": "security",
    "BillingSettingsScreen": "billing_settings",
    "ExportScreen": "export",
    "FirstRunScreen": "settings",
    "HelpScreen": "help",
    "ImportScreen": "chart_import",
    "LockScreen": "security",
    "NewClinicScreen": "new_clinic",
    "NewSessionScreen": "new_session",
    "PatientForm": "chart_forms",
    "PatientScreen": "patient",
    "RulesScreen": "rules",
    "SchoolScreen": "school",
    "SecurityScreen": "security",
    "SessionRequest": "new_session",
    "SessionScreen": "session",
    "SettingsScreen": "settings",
    "TodayScreen": "today",
    "UnlockScreen": "security",
    "WalkthroughScreen": "help",
}

if TYPE_CHECKING:
    from slpterm.ui.screens.billing_settings import BillingSettingsScreen
    from slpterm.ui.screens.chart_forms import PatientForm
    from slpterm.ui.screens.chart_import import ImportScreen
    from slpterm.ui.screens.export import ExportScreen
    from slpterm.ui.screens.help import HelpScreen, WalkthroughScreen
    from slpterm.ui.screens.new_clinic import NewClinicScreen
    from slpterm.ui.screens.new_session import NewSessionScreen, SessionRequest
    from slpterm.ui.screens.patient import PatientScreen
    from slpterm.ui.screens.rules import RulesScreen
    from slpterm.ui.screens.school import SchoolScreen
    from slpterm.ui.screens.security import (
        AuditScreen,
        LockScreen,
        SecurityScreen,
        UnlockScreen,
    )
    from slpterm.ui.screens.session import SessionScreen
    from slpterm.ui.screens.settings import FirstRunScreen, SettingsScreen
    from slpterm.ui.screens.today import TodayScreen

__all__ = [  # the names of _SHOWN_LATER, spelled out for the linters
    "AuditScreen", "BillingSettingsScreen", "ExportScreen", "FirstRunScreen", "HelpScreen",
    "ImportScreen", "LockScreen", "NewClinicScreen", "NewSessionScreen", "PatientForm",
    "PatientScreen", "RulesScreen", "SchoolScreen", "SecurityScreen", "SessionRequest",
    "SessionScreen", "SettingsScreen", "TodayScreen", "UnlockScreen", "WalkthroughScreen",
]


def __getattr__(name: str) -> object:
    module = _SHOWN_LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
