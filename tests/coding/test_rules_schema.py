"""The rules-file schema is imported when rules are read, not with the rule book's module."""

from __future__ import annotations

import subprocess
import sys


def test_the_schema_library_loads_only_when_rules_are_read():
    script = ("import sys; import slpterm.coding.rulebook as rb; import slpterm.export.formats; "
              "print('pydantic' in sys.modules); rb.load_rulebook(); print('pydantic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
