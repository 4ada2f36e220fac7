from __future__ import annotations

import subprocess
import sys

MODULES = [
    "slpterm.clinical",
    "slpterm.clinical.icd10",
    "slpterm.clinical.due",
    "slpterm.clinical.validation",
    "slpterm.clinical.catalogs",
    "slpterm.clinical.tally",
    "slpterm.clinical.objective",
    "slpterm.clinical.timer",
    "slpterm.clinical.patient_import",
]


def test_clinical_layer_imports_no_ui_database_or_full_code_set():
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in MODULES)
        + "from slpterm.clinical import icd10\n"
        + "icd10.check_code('R13.12'); icd10.search('dys')\n"
        + "loaded = [m for m in ('textual', 'rich', 'sqlmodel', 'sqlalchemy', 'simple_icd_10_cm') if m in sys.modules]\n"
        + "print(','.join(loaded))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""
