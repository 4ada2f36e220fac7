"""Domain, store and rule code must load without the UI toolkit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import slpterm

HEADLESS_PACKAGES = ("slpterm.domain", "slpterm.store", "slpterm.coding", "slpterm.clinical", "slpterm.demo",
                     "slpterm.services", "slpterm.reports",
                     "slpterm.export", "slpterm.api", "slpterm.preferences")


def _headless_modules() -> list[str]:
    names = []
    for module in pkgutil.walk_packages(slpterm.__path__, "slpterm."):
        if module.name.startswith(HEADLESS_PACKAGES):
            names.append(module.name)
    return sorted(names)


def test_headless_modules_do_not_import_textual_or_rich():
    modules = _headless_modules()
    assert "slpterm.store.store" in modules and "slpterm.domain.vocab" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"UI modules loaded by domain code: {result.stdout.strip()}"
