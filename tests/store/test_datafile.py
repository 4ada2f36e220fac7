"""One owner of the data file per process (``slpterm.store.datafile``).

The lost lock: SQLite's POSIX locks on a file are dropped when the process closes *any* descriptor of
it, so a plain ``open()``/``close()`` of the data file beside a live connection lets another
process's last close delete the live write-ahead log, and every later commit is lost on a kill.
These tests reproduce that with plain SQLite, show it cannot happen through the store's API, and
fail when a new plain file access or a second SQLite library appears in slpterm's code.
"""

from __future__ import annotations

import ast
import hashlib
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from slpterm.store import CorruptDatabase, NotAnSlptermDatabase, datafile, open_store
from slpterm.store.db import DATABASE_FILE_NAME

SLPTERM = Path(__file__).resolve().parents[2] / "slpterm"

# A process that keeps a WAL connection open, commits, does (or does not do) a plain read of the
# file, lets another process open and close the file, commits again and is then killed.
RAW_HOLDER = textwrap.dedent("""
    import os, signal, sqlite3, sys
    path, plain = sys.argv[1], sys.argv[2] == "plain"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS tally (n INTEGER)")
    connection.execute("INSERT INTO tally VALUES (1)")
    if plain:
        with open(path, "rb") as handle:  # what crypto detection used to do
            handle.read(16)
    print("ready", flush=True)
    sys.stdin.readline()  # the other process has opened and closed the file meanwhile
    connection.execute("INSERT INTO tally VALUES (2)")
    print("committed", os.path.exists(path + "-wal"), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")

STORE_HOLDER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from slpterm.store import crypto, datafile, open_store

    store = open_store(Path(sys.argv[1]))
    store.patients.create(first_name="Before", last_name="Reader")
    # Every way the store's code looks at the file's kind, while its connections are open.
    assert not crypto.is_encrypted_file(store.path)
    assert datafile.read_header(store.path).kind == datafile.PLAIN
    try:
        open(store.path, "rb").close()
    except datafile.PlainAccessRefused:
        pass
    else:
        raise SystemExit("a plain open of the live data file was allowed")
    print("ready", flush=True)
    sys.stdin.readline()
    store.patients.create(first_name="After", last_name="Reader")
    print("committed", os.path.exists(str(store.path) + "-wal"), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")

OTHER_PROCESS = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "c.execute('SELECT count(*) FROM sqlite_master').fetchall(); c.close()")


def _run_holder(script: str, path: Path, *args: str, database: Path | None = None) -> str:
    holder = subprocess.Popen([sys.executable, "-c", script, str(path), *args], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(database or path)], check=True)
    holder.stdin.write("go\n")
    holder.stdin.flush()
    line = holder.stdout.readline().strip()
    holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    return line


def _tallies(path: Path) -> list[int]:
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        return [n for (n,) in connection.execute("SELECT n FROM tally ORDER BY n")]
    finally:
        connection.close()


def test_a_plain_read_beside_a_wal_connection_loses_later_commits(tmp_path):
    """The pitfall itself, without slpterm: the second commit goes into a deleted log."""
    path = tmp_path / "raw.sqlite3"
    assert _run_holder(RAW_HOLDER, path, "plain") == "committed False"
    assert _tallies(path) == [1]

    kept = tmp_path / "kept.sqlite3"
    assert _run_holder(RAW_HOLDER, kept, "none") == "committed True"
    assert _tallies(kept) == [1, 2]


def test_through_the_store_the_file_is_never_read_plainly_and_nothing_is_lost(tmp_path):
    data_dir = tmp_path / "data"
    open_store(data_dir).close()
    assert _run_holder(STORE_HOLDER, data_dir, database=data_dir / DATABASE_FILE_NAME) == "committed True"
    store = open_store(data_dir)
    try:
        assert sorted(row.name for row in store.caseload.rows()) == ["Reader, After", "Reader, Before"]
    finally:
        store.close()


def test_the_guard_refuses_plain_opens_of_a_live_file_and_its_log(store):
    store.clinic.identity()  # the store's connections are made when first used
    for path in (store.path, Path(f"{store.path}-wal"), Path(f"{store.path}-shm")):
        with pytest.raises(datafile.PlainAccessRefused):
            open(path, "rb")
        with pytest.raises(datafile.PlainAccessRefused):
            path.read_bytes()
    with pytest.raises(datafile.PlainAccessRefused):
        datafile.fsync(store.path)
    assert datafile.read_header(store.path).kind == datafile.PLAIN  # from the connection, not the bytes
    store.close()
    assert not datafile.has_connections(store.path)
    assert store.path.read_bytes().startswith(datafile.SQLITE_HEADER)


def test_two_sqlite_libraries_never_share_a_file(tmp_path):
    if not datafile.encryption_available():
        pytest.skip("sqlcipher3 is not installed here")
    path = tmp_path / "one.sqlite3"
    first = datafile.connect(path)
    try:
        with pytest.raises(datafile.MixedSqliteLibraries):
            datafile.connect(path, cipher=True)
    finally:
        first.close()
    datafile.connect(path, cipher=True).close()  # once the first library has let go


def test_header_kinds(tmp_path):
    store = open_store(tmp_path / "data")
    path = store.path
    store.close()
    content = path.read_bytes()
    samples = {
        "missing": None, "empty": b"", "short": content[:10], "header only": content[:100],
        "cut": content[: len(content) - 4096], "text": b"hello, not a database\n" * 10,
    }
    kinds = {}
    for name, data in samples.items():
        target = tmp_path / f"{name}.sqlite3"
        if data is not None:
            target.write_bytes(data)
        kinds[name] = datafile.read_header(target).kind
    assert kinds == {"missing": datafile.MISSING, "empty": datafile.EMPTY, "short": datafile.TRUNCATED,
                     "header only": datafile.TRUNCATED, "cut": datafile.TRUNCATED, "text": datafile.NOT_SQLITE}
    assert datafile.read_header(path).kind == datafile.PLAIN


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_an_empty_or_truncated_data_file_is_refused_untouched(tmp_path, damage):
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    for number in range(40):
        store.patients.create(first_name=f"Kept{number}", last_name="Safe" * 50)
    store.close()
    path = data_dir / DATABASE_FILE_NAME
    content = path.read_bytes()
    path.write_bytes(b"" if damage == "empty" else content[: len(content) // 2])
    before = _digest(path)
    with pytest.raises(CorruptDatabase) as refused:
        open_store(data_dir)
    assert ("empty" if damage == "empty" else "cut short") in str(refused.value)
    assert "Restore" in str(refused.value) and "not changed" in str(refused.value)
    assert _digest(path) == before and sorted(p.name for p in data_dir.iterdir()) == ["slpterm.lock",
                                                                                      DATABASE_FILE_NAME]


def test_a_text_file_in_place_of_the_data_file_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / DATABASE_FILE_NAME).write_text("notes\n")
    with pytest.raises(NotAnSlptermDatabase):
        open_store(data_dir)


def test_a_new_data_file_appears_whole(tmp_path):
    store = open_store(tmp_path / "data")
    try:
        assert store.clinic.identity()
        assert not any(p.name.endswith(".creating") for p in store.data_dir.iterdir())
    finally:
        store.close()


# -- the rule, by construction ---------------------------------------------------------------------

SQLITE_LIBRARIES = {"sqlite3", "sqlcipher3", "pysqlite3"}
# Calls that open a file outside SQLite, and the names they go by.
FILE_OPENERS = {"open", "read_bytes", "read_text", "write_bytes", "write_text", "fdopen", "copy", "copy2",
                "copyfile", "copytree", "copyfileobj", "move", "ZipFile", "mmap"}
# Every plain file access in slpterm, and why it never touches a data file. A new one fails the test
# until it is added here; one that may touch a data file goes through slpterm.store.datafile instead.
ALLOWED_OPENERS = {
    "slpterm/export/batch.py:_PartFile.__init__": "an export file written under a temporary name",
    "slpterm/preferences.py:read_keymap": "keymap.toml in the config folder",
    "slpterm/preferences.py:read_preferences": "preferences.json in the config folder",
    "slpterm/store/caseload.py:_catalog_descriptions": "the shipped diagnosis catalog (icd10_slp.csv)",
    "slpterm/cli.py:_run": "/dev/null for a closed pipe",
    "slpterm/clinical/icd10_sources.py:_archive": "the shipped ICD-10-CM code files",
    "slpterm/clinical/icd10_sources.py:_write_by_letter": "ICD-10-CM code files an install writes",
    "slpterm/clinical/icd10_sources.py:read_excludes1": "the shipped Excludes1 notes",
    "slpterm/clinical/icd10_sources.py:read_order_file": "a CMS ICD-10-CM order file",
    "slpterm/clinical/icd10_sources.py:read_tabular": "a CMS ICD-10-CM tabular XML",
    "slpterm/clinical/icd10_sources.py:write_excludes1": "Excludes1 notes an install writes",
    "slpterm/coding/cli.py:_check": "a clinic rule file to check",
    "slpterm/coding/install.py:_csv_rows": "a CMS fee-schedule or MUE CSV",
    "slpterm/coding/install.py:_validate": "a scratch copy of the clinic rules folder",
    "slpterm/coding/install.py:_write_manifest": "the installs manifest",
    "slpterm/coding/install.py:apply_install": "rule files an install writes and keeps",
    "slpterm/coding/install.py:read_clinic_spec": "the clinic's install TOML",
    "slpterm/coding/install.py:read_manifest": "the installs manifest",
    "slpterm/coding/install.py:rollback_last": "rule files a rollback puts back",
    "slpterm/paths.py:create_private_file": "new private files (never an open data file)",
    "slpterm/paths.py:open_private": "new private files (never an open data file)",
    "slpterm/store/anchors.py:AnchorBook.read": "the audit anchor file",
    "slpterm/store/anchors.py:others_at": "other anchor files",
    "slpterm/store/anchors.py:read_anchor_record": "an anchor file beside an export batch",
    "slpterm/store/installation.py:load_installation": "installation.json in the config folder",
    "slpterm/store/installation.py:save_installation": "installation.json in the config folder",
    "slpterm/store/installation.py:last_batch_number": "installation.json in the config folder",
    "slpterm/services/remittances.py:RemittanceService.import_file": "the 835, 999 or 277CA file being imported",
    "slpterm/bench.py:measure_remittance": "the bench's synthetic 835",
    "slpterm/services/schedule.py:ScheduleService.import_ics": "the .ics file being imported",
    "slpterm/store/security.py:SecurityRepository.collect_start_failures": "the failed-unlock note beside the data file",
    "slpterm/bench.py:ensure_clinic": "the bench's own marker file",
    "slpterm/bench.py:ensure_long_trail": "the bench's own marker file",
    "slpterm/bench.py:_cpu_ticks": "/proc",
    "slpterm/bench.py:peak_rss_when_idle": "/proc",
    "slpterm/bench.py:measure_startup": "the floor app's script",
    "slpterm/bench.py:machine": "/proc/cpuinfo",
    "slpterm/bench.py:main": "the --json results",
    "slpterm/bench_compare.py:read_earlier": "an earlier run's --json results",
    "slpterm/bench_frames.py:_cpu_ticks": "/proc",
    "slpterm/bench_frames.py:FloorApps.script": "the floor apps' scripts",
    "slpterm/clinical/data.py:read_toml": "shipped rule data",
    "slpterm/clinical/icd10.py:load_code_list": "an ICD-10 code list",
    "slpterm/clinical/patient_import.py:read_patient_csv": "a CSV patient list",
    "slpterm/coding/cli.py:_ptp_lines": "the CMS PTP table (zip or text)",
    "slpterm/coding/cli.py:write_ncci_csv": "an NCCI rule file",
    "slpterm/coding/rulebook.py:parse_rules_file": "a clinic rule file",
    "slpterm/export/batch.py:_fsync_directory": "the export folder",
    "slpterm/export/batch.py:write_files_atomically": "export files",
    "slpterm/reports/pdf.py:render_pdf": "a progress report",
    "slpterm/screenshots.py:take": "a screenshot",
    "slpterm/store/folder_lock.py:_open": "the lock files beside the data file (flock, never fcntl)",
}
OWNER = "slpterm/store/datafile.py"
SQLITE_ALLOWED = {
    OWNER: "the data file",
    # Never a clinic's data: a bare commit on a scratch file, and a read-only look at the bench's own clinic.
    "slpterm/bench_frames.py": "the bench's bare-SQLite floor and its watch on committed tallies",
}


def _sources():
    for path in sorted(SLPTERM.rglob("*.py")):
        name = path.relative_to(SLPTERM.parent).as_posix()
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def test_only_the_data_file_module_imports_an_sqlite_library():
    offenders = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(module.split(".")[0] in SQLITE_LIBRARIES for module in modules) and name not in SQLITE_ALLOWED:
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == [], "SQLite is reached through slpterm.store.datafile only"


def test_no_new_plain_file_access_appears():
    found = set()
    for name, tree in _sources():
        if name == OWNER:
            continue
        scope: list[str] = []

        class Finder(ast.NodeVisitor):
            def visit_FunctionDef(self, node) -> None:  # noqa: ANN001
                scope.append(node.name)
                self.generic_visit(node)
                scope.pop()

            visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

            def visit_Call(self, node: ast.Call) -> None:
                function = node.func
                called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
                receiver = ast.unparse(function.value) if isinstance(function, ast.Attribute) else ""
                if called in FILE_OPENERS and receiver not in ("crypto", "webbrowser", "self"):
                    if not (name == "slpterm/store/crypto.py" and called == "copy"):
                        found.add(f"{name}:{'.'.join(scope)}")
                self.generic_visit(node)

        Finder().visit(tree)
    assert sorted(found - set(ALLOWED_OPENERS)) == []
    assert sorted(set(ALLOWED_OPENERS) - found) == [], "an allowed place no longer opens files: drop it"
