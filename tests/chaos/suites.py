"""The CPython parts of the chaos suite, run as pytest subprocesses and counted from their reports:
the garbage-in property tests with more examples (fuzz cases), and the runaway-work tests (hangs stopped).
The test files stay the one definition of each check; this module only runs and counts them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUZZ_TESTS = ["tests/importer/test_garbage.py", "tests/durable/test_transitions.py"]
RUNAWAY_TESTS = ["tests/importer/test_patterns.py", "tests/importer/test_batch_budget.py"]
RUNAWAY_GLOB = "tests/**/test_runaway*.py"  # further runaway tests, if any, count too
PASSING = re.compile(r"- (\d+) passing examples?")
# A runaway test case whose name says a pathological input was refused or stopped (not, say, that an
# ordinary pattern is accepted): these are the "hangs stopped".
STOPPED = re.compile(r"catastroph|refus|stop|budget|too_long|cancel|hang|runaway|bounded|slow|timeout")


@dataclass
class SuiteResult:
    """Test cases passed and failed (a hypothesis test counts its passing examples), and failure names."""

    passed: int = 0
    failed: int = 0
    stopped: int = 0  # passed cases named as a pathological input refused or stopped
    failures: list[str] = field(default_factory=list)


def run_pytest(files: list[str], env: dict[str, str]) -> tuple[ET.Element, str]:
    """Run pytest on `files`; returns its JUnit XML report and its output."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
             f"--junitxml={report}"], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
            check=False)
        if not report.exists():
            raise RuntimeError(f"pytest did not run {files}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return ET.parse(report).getroot(), done.stdout


def count(files: list[str], env: dict[str, str], *, examples: bool) -> SuiteResult:
    """Passed and failed cases of `files`; with `examples`, a passing hypothesis test counts its examples."""
    root, output = run_pytest(files, env)
    result = SuiteResult()
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            result.failed += 1
            result.failures.append(name)
        elif case.find("skipped") is None:
            result.passed += 1
            result.stopped += bool(STOPPED.search(str(case.get("name")).split("[")[0]))
    if examples:  # the statistics name each property test once with its passing examples
        result.passed += sum(int(n) - 1 for n in PASSING.findall(output))
    return result


def fuzz(examples: int) -> SuiteResult:
    """The garbage-in property test with `examples` examples, and the durable state machine (real SIGKILLs)."""
    return count(FUZZ_TESTS, {"GARBAGE_EXAMPLES": str(examples)}, examples=True)


def runaway() -> SuiteResult:
    """The runaway-work tests: each passing case is a pathological input refused or stopped in bounded time."""
    extra = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(RUNAWAY_GLOB))
    return count(RUNAWAY_TESTS + extra, {}, examples=False)
