"""harness.runtime: per-process temporaries, stale-temporary clean-up, run locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.runtime import (
    LockedError,
    RunLock,
    atomic_target,
    remove_stale_temporaries,
    temporary_path,
    write_json_atomic,
)


def test_temporary_names_are_unique_and_beside_the_target(tmp_path):
    target = tmp_path / "out.json"
    a, b = temporary_path(target), temporary_path(target)
    assert a != b
    assert a.parent == b.parent == tmp_path
    assert str(os.getpid()) in a.name and a.name.startswith(".out.json.")


def test_failed_write_leaves_target_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_stale_temporaries_of_dead_processes_are_removed_and_nothing_else(tmp_path):
    target = tmp_path / "out.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".out.npz.{dead}-0123abcd.harness-tmp"
    stale.write_bytes(b"")
    alive = tmp_path / f".out.npz.{os.getppid()}-0123abcd.harness-tmp"  # our parent lives
    alive.write_bytes(b"")
    user_files = [tmp_path / "out.npz.tmp", tmp_path / ".out.npz.tmp", tmp_path / "out.npz"]
    for f in user_files:
        f.write_text("user data")
    removed = remove_stale_temporaries(target)
    assert removed == [stale]
    assert alive.exists() and all(f.read_text() == "user data" for f in user_files)


def test_folder_targets_are_renamed_into_place(tmp_path):
    target = tmp_path / "images"
    with atomic_target(target) as tmp:
        tmp.mkdir()
        (tmp / "a.png").write_bytes(b"x")
    assert (target / "a.png").read_bytes() == b"x"


def test_second_holder_is_refused_with_the_holders_identity(tmp_path):
    lock_file = tmp_path / ".lock"
    with RunLock(lock_file, "run directory X"):
        code = ("import sys; from harness.runtime import RunLock\n"
                f"RunLock({str(lock_file)!r}, 'run directory X').acquire()")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode != 0
        assert "run directory X is in use by another process" in out.stderr
        assert f"pid {os.getpid()}" in out.stderr
    RunLock(lock_file, "run directory X").acquire()  # released: free again


def test_lock_of_a_killed_process_is_released(tmp_path):
    lock_file = tmp_path / ".lock"
    code = ("import sys; from harness.runtime import RunLock\n"
            f"RunLock({str(lock_file)!r}, 'X').acquire(); print('held', flush=True); "
            "sys.stdin.read()")  # holds the lock until killed, however slow this test runs
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockedError):
            RunLock(lock_file, "X").acquire()
        proc.kill()
        proc.wait()
        with RunLock(lock_file, "X"):
            pass
    finally:
        proc.kill()
