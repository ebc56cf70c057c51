"""Atomic writes: ordinary file modes, and what a killed writer leaves is cleaned up."""

import os
import stat

from gan_zoo.io import remove_stale_temporaries, write_json_atomic, write_text_atomic


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writes_get_the_mode_of_an_ordinary_file(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives under the current umask
    atomic = write_json_atomic(tmp_path / "result.json", {"a": 1})
    assert _mode(atomic) == _mode(plain)
    old = os.umask(0o077)
    try:
        assert _mode(write_text_atomic(tmp_path / "private.txt", "y")) == 0o600
    finally:
        os.umask(old)


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    keep = [run / "result.json", run / ".gan-zoo.lock", tmp_path / "notes.tmp.txt"]
    for p in keep:
        p.write_text("{}")
    stale = [run / ".result.json.k3j2h1.tmp.json", tmp_path / ".runs.csv.a8b7c6.tmp.csv"]
    for p in stale:
        p.write_bytes(b"")  # a SIGKILL mid-write leaves such empty files
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)
