"""A commit that was reported is on disk, even when the process is killed right after."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time

from slpterm.store import open_store

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from slpterm.store import open_store

    store = open_store(Path(sys.argv[1]))
    round_name = sys.argv[2]
    index = 0
    while True:
        patient = store.patients.create(first_name=f"{round_name}-{index}", last_name="Killtest")
        print(patient.id, flush=True)
        index += 1
    """
)


def test_every_reported_commit_survives_sigkill(tmp_path):
    data_dir = tmp_path / "data"
    open_store(data_dir).close()
    rng = random.Random(7)
    reported: list[str] = []
    for round_number in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data_dir), f"round{round_number}"],
            stdout=subprocess.PIPE, text=True,
        )
        # Wait until the writer is committing, then kill it at a random moment.
        first = child.stdout.readline().strip()
        assert first, "the writer process did not start"
        reported.append(first)
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        remaining, _ = child.communicate()
        reported.extend(line for line in remaining.splitlines() if line.strip())
        assert child.returncode == -signal.SIGKILL

    store = open_store(data_dir)
    stored = {row.patient_id for row in store.caseload.rows()}
    store.close()
    assert len(reported) > 8
    missing = [patient_id for patient_id in reported if patient_id not in stored]
    assert missing == []
