"""SourceRegistry (worker/sources.py) with a copier: the pass runs there when the platform has one, else
here; either way `sha256`, `take_copy` and `copied` keep their contract. The copier here is a fake that does
what static/js/copier.mjs does (tests/browser/test_copier.py runs the real one)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from tests.worker.fakes import MemoryByteSource
from worker.platform import ByteSource, CopierFailed, CopyOutcome
from worker.sources import CopyTarget, SourceRegistry

DATA = b"id,name\n" + b"".join(b"%d,person %d\n" % (i, i) for i in range(100_000))


class FakeCopyPass:
    """One pass of the fake copier: waits for `go`, then hashes the source and writes `name` unless stopped."""

    def __init__(self, directory: Path, source: ByteSource, name: str | None, *, fail: str = "") -> None:
        self.directory, self.source, self.name, self.fail = directory, source, name, fail
        self.go = asyncio.Event()
        self.stopped = False

    def stop_copying(self) -> None:
        self.stopped = True

    async def outcome(self) -> CopyOutcome:
        await self.go.wait()
        if self.fail == "start":
            raise CopierFailed("no wasm here")
        if self.fail == "read":
            raise OSError("The picked file could not be read (NotReadableError). Pick it again.")
        data = self.source.read(0, self.source.size)
        assert isinstance(data, bytes)
        copied = self.name is not None and not self.stopped
        if copied:
            (self.directory / str(self.name)).write_bytes(data)
        return CopyOutcome(hashlib.sha256(data).hexdigest(), copied)


class FakeCopier:
    """`Platform.start_copy` over FakeCopyPass; `passes` in the order started."""

    def __init__(self, directory: Path, fail: str = "") -> None:
        self.directory, self.fail = directory, fail
        self.passes: list[FakeCopyPass] = []

    def __call__(self, source: ByteSource, name: str | None) -> FakeCopyPass:
        self.passes.append(FakeCopyPass(self.directory, source, name, fail=self.fail))
        return self.passes[-1]


def target(directory: Path, adopted: list[str]) -> CopyTarget:
    async def prepare(name: str) -> None:
        pass

    async def room(size: int) -> bool:
        return True

    async def adopt(name: str) -> None:
        adopted.append(name)

    return CopyTarget(str(directory), prepare, room, adopt)


async def started(copier: FakeCopier, count: int) -> None:
    for _ in range(100):
        if len(copier.passes) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError("the copier was not started")


def copying_registry(copier: FakeCopier, tmp_path: Path) -> tuple[SourceRegistry, list[str]]:
    """A registry whose passes run in `copier`, copying ahead into `tmp_path`; and the names it adopts there."""
    adopted: list[str] = []
    registry = SourceRegistry(copier)
    registry.copy_into(target(tmp_path, adopted))
    return registry, adopted


async def test_the_copier_makes_the_pass_and_its_copy_is_adopted_and_taken(tmp_path: Path) -> None:
    copier = FakeCopier(tmp_path)
    registry, adopted = copying_registry(copier, tmp_path)
    source_id = registry.add(MemoryByteSource("a.csv", DATA))
    await started(copier, 1)
    copier.passes[0].go.set()

    assert await registry.sha256(source_id) == hashlib.sha256(DATA).hexdigest()
    path = str(tmp_path / f"ahead-{source_id}.csv")
    assert adopted == [f"ahead-{source_id}.csv"] and registry.made_by[source_id] == "copier"
    assert registry.copied[path] == (len(DATA), hashlib.sha256(DATA).hexdigest())
    assert await registry.take_copy(source_id) == path and Path(path).read_bytes() == DATA


async def test_a_second_pick_tells_the_running_copier_to_stop_copying_and_the_first_still_hashes(
        tmp_path: Path) -> None:
    copier = FakeCopier(tmp_path)
    registry, adopted = copying_registry(copier, tmp_path)
    first = registry.add(MemoryByteSource("a.csv", DATA))
    await started(copier, 1)
    second = registry.add(MemoryByteSource("b.csv", DATA[:1000]))
    await started(copier, 2)
    assert copier.passes[0].stopped and not copier.passes[1].stopped
    for running in copier.passes:
        running.go.set()

    assert await registry.sha256(first) == hashlib.sha256(DATA).hexdigest()
    assert await registry.take_copy(first) is None and adopted == [f"ahead-{second}.csv"]
    assert await registry.take_copy(second) == str(tmp_path / f"ahead-{second}.csv")


async def test_a_copy_the_copier_finished_before_it_heard_of_a_second_pick_is_removed(tmp_path: Path) -> None:
    copier = FakeCopier(tmp_path)
    registry, _ = copying_registry(copier, tmp_path)
    first = registry.add(MemoryByteSource("a.csv", DATA))
    await started(copier, 1)
    registry.add(MemoryByteSource("b.csv", DATA[:1000]))
    copier.passes[0].stopped = False  # as if the message arrived after the copy was complete
    copier.passes[0].go.set()

    assert await registry.sha256(first) == hashlib.sha256(DATA).hexdigest()
    assert await registry.take_copy(first) is None
    assert not (tmp_path / f"ahead-{first}.csv").exists()


async def test_a_copier_that_cannot_run_leaves_the_pass_to_python(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copier = FakeCopier(tmp_path, fail="start")
    registry, adopted = copying_registry(copier, tmp_path)
    source_id = registry.add(MemoryByteSource("a.csv", DATA))
    await started(copier, 1)
    copier.passes[0].go.set()

    assert await registry.sha256(source_id) == hashlib.sha256(DATA).hexdigest()
    assert registry.made_by[source_id] == "python (the copier failed: no wasm here)"
    assert "hashed and copied in Python: the copier failed: no wasm here" in capsys.readouterr().err
    assert Path(str(await registry.take_copy(source_id))).read_bytes() == DATA and adopted == []


async def test_a_read_error_in_the_copier_fails_the_pass(tmp_path: Path) -> None:
    copier = FakeCopier(tmp_path, fail="read")
    registry, _ = copying_registry(copier, tmp_path)
    source_id = registry.add(MemoryByteSource("a.csv", DATA))
    await started(copier, 1)
    copier.passes[0].go.set()

    with pytest.raises(OSError, match="could not be read"):
        await registry.sha256(source_id)
    assert registry.copied == {}


async def test_without_a_copier_the_pass_runs_here(tmp_path: Path) -> None:
    registry = SourceRegistry()
    registry.copy_into(target(tmp_path, []))
    source_id = registry.add(MemoryByteSource("a.csv", DATA))

    assert await registry.sha256(source_id) == hashlib.sha256(DATA).hexdigest()
    assert registry.made_by[source_id] == "python"
    assert Path(str(await registry.take_copy(source_id))).read_bytes() == DATA


async def test_a_platform_without_a_copier_for_a_source_leaves_the_pass_to_python_quietly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = SourceRegistry(lambda source, name: None)  # as FakePlatform.start_copy, or a non-File source
    registry.copy_into(target(tmp_path, []))
    source_id = registry.add(MemoryByteSource("a.csv", DATA))

    assert await registry.sha256(source_id) == hashlib.sha256(DATA).hexdigest()
    assert registry.made_by[source_id] == "python" and capsys.readouterr().err == ""
    assert Path(str(await registry.take_copy(source_id))).read_bytes() == DATA


async def test_a_copier_that_refuses_to_start_leaves_the_pass_to_python(tmp_path: Path) -> None:
    def refuse(source: ByteSource, name: str | None) -> FakeCopyPass:
        raise CopierFailed("the copier did not start (SecurityError)")

    registry = SourceRegistry(refuse)
    registry.copy_into(target(tmp_path, []))
    source_id = registry.add(MemoryByteSource("a.csv", DATA))

    assert await registry.sha256(source_id) == hashlib.sha256(DATA).hexdigest()
    assert registry.made_by[source_id] == "python (the copier failed: the copier did not start (SecurityError))"
    assert Path(str(await registry.take_copy(source_id))).read_bytes() == DATA
