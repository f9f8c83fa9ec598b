"""What the command shows while it runs: a tqdm bar on a terminal (rows, rows/s, rejects, ETA), plain lines
when stderr is not a terminal, nothing with --quiet or --json."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from tests.cli.support import command, env, run
from tests.cli.test_resume import FLAGS, generate


def test_a_terminal_gets_a_live_bar_with_rows_rate_rejects_and_eta(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    generate(source, 20_000, seed=4)
    master, slave = pty.openpty()
    proc = subprocess.Popen([command(), str(source), "--db", str(tmp_path / "o.sqlite"), *FLAGS[:-1]],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env())
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the command closed its end of the terminal
            break
        if not data:
            break
        shown += data
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = shown.decode("utf-8", "replace")
    assert "Importing:" in text and "%|" in text and "rows/s" in text and "rejected" in text and "ETA" in text
    assert "\r" in text  # redrawn in place


def test_without_a_terminal_progress_is_plain_lines_and_quiet_or_json_show_none(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    generate(source, 2_000, seed=4)
    plain = run(source, "--db", tmp_path / "a.sqlite", *FLAGS[:-1])
    assert plain.returncode == 0
    lines = plain.stderr.splitlines()
    assert lines[0].startswith("Hashing: 100% of ") and any(line.startswith("Importing: ") for line in lines)
    assert "\r" not in plain.stderr and "\x1b" not in plain.stderr
    assert plain.stdout.startswith("Imported 1,9")
    for flag in ("--quiet", "--json"):
        quiet = run(source, "--db", tmp_path / f"{flag[2:]}.sqlite", *FLAGS[:-1], flag)
        assert quiet.returncode == 0 and quiet.stderr == ""
