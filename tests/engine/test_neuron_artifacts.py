"""The compiled-artifact directory logic, without Neuron hardware."""

from __future__ import annotations

import os
import time
from pathlib import Path

from podium.engine.neuron_artifacts import ArtifactSlot, remove_stale


def compile_into(slot: ArtifactSlot, name: str = "model.neff") -> None:
    (slot.server_dir / name).write_text("graph")


def test_miss_compiles_into_a_sibling_then_renames(tmp_path: Path) -> None:
    final = tmp_path / "key"
    slot = ArtifactSlot.open(final)
    assert not slot.hit and slot.server_dir.parent == tmp_path
    assert slot.server_dir != final and not final.exists()
    compile_into(slot)
    assert slot.commit() == final
    assert (final / "model.neff").read_text() == "graph"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_hit_uses_the_final_directory(tmp_path: Path) -> None:
    final = tmp_path / "key"
    final.mkdir()
    (final / "model.neff").write_text("old")
    slot = ArtifactSlot.open(final)
    assert slot.hit and slot.server_dir == final
    slot.discard()  # never removes a cache hit
    assert (final / "model.neff").read_text() == "old"


def test_failure_discards_only_the_temporary(tmp_path: Path) -> None:
    slot = ArtifactSlot.open(tmp_path / "key")
    compile_into(slot)
    slot.discard()
    assert list(tmp_path.iterdir()) == []


def test_empty_final_dir_is_not_a_hit(tmp_path: Path) -> None:
    (tmp_path / "key").mkdir()
    slot = ArtifactSlot.open(tmp_path / "key")
    assert not slot.hit
    compile_into(slot)
    slot.commit()
    assert (tmp_path / "key" / "model.neff").is_file()


def test_nothing_compiled_leaves_no_entry(tmp_path: Path) -> None:
    slot = ArtifactSlot.open(tmp_path / "key")
    slot.commit()
    assert list(tmp_path.iterdir()) == []


def test_concurrent_compiles_first_commit_wins(tmp_path: Path) -> None:
    a, b = ArtifactSlot.open(tmp_path / "key"), ArtifactSlot.open(tmp_path / "key")
    assert a.server_dir != b.server_dir
    compile_into(a, "a.neff")
    compile_into(b, "b.neff")
    a.commit()
    b.commit()
    assert sorted(p.name for p in (tmp_path / "key").iterdir()) == ["a.neff"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_remove_stale_temporaries(tmp_path: Path) -> None:
    slot = ArtifactSlot.open(tmp_path / "key")
    old = time.time() - 3 * 24 * 3600
    os.utime(slot.server_dir, (old, old))
    fresh = ArtifactSlot.open(tmp_path / "other")
    assert remove_stale(tmp_path) == [slot.server_dir]
    assert fresh.server_dir.exists()
