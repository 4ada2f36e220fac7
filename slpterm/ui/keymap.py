"""Every binding id of the interface (what a keymap file may remap), read from the bindings themselves."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding


def _binding_owners() -> list[type]:
    import slpterm.ui.screens as screens
    import slpterm.ui.widgets as widgets
    from slpterm.ui.app import SlpTermApp

    owners: list[type] = [SlpTermApp]
    for package in (screens, widgets):
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            owners.extend(owner for owner in vars(module).values()
                          if inspect.isclass(owner) and owner.__module__ == module.__name__)
    return owners


def binding_ids() -> dict[str, tuple[str, str]]:
    """binding id -> (default key, description), for every binding slpterm declares."""
    found: dict[str, tuple[str, str]] = {}
    for owner in _binding_owners():
        for binding in vars(owner).get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, (binding.key, binding.description))
    return dict(sorted(found.items()))


def keymap_reference() -> str:
    """docs/keymap.md's table of binding ids (a test keeps the page equal to this)."""
    lines = ["| Binding id | Default key | What it does |", "| --- | --- | --- |"]
    for binding_id, (key, description) in binding_ids().items():
        lines.append(f"| `{binding_id}` | `{key}` | {description or ''} |")
    return "\n".join(lines) + "\n"
