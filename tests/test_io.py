"""Atomic writes: ordinary file modes, and what a killed writer leaves is cleaned up."""

import os
import stat

from gan_zoo.io import TMP_PREFIX, remove_stale_temporaries, write_json_atomic, write_text_atomic


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
    keep = [run / "result.json", run / ".gan-zoo.lock", tmp_path / "notes.tmp.txt",
            tmp_path / ".notes.tmp.txt", run / ".draft.k3j2h1.tmp.json"]  # not named by gan-zoo
    for p in keep:
        p.write_text("{}")
    stale = [run / f"{TMP_PREFIX}result.json.k3j2h1.json", tmp_path / f"{TMP_PREFIX}runs.csv.a8b7c6.csv"]
    for p in stale:
        p.write_bytes(b"")  # a SIGKILL mid-write leaves such empty files
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)


def test_a_full_disk_names_the_destination(tmp_path, monkeypatch):
    import errno

    import pytest

    from gan_zoo import io as gio

    def full(fd):  # what the kernel says when the device has no space left
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(gio.os, "fsync", full)
    with pytest.raises(OSError) as err:
        gio.save_torch_atomic({"x": 1}, tmp_path / "checkpoints" / "last.pt")
    assert err.value.errno == errno.ENOSPC
    assert err.value.filename == str(tmp_path / "checkpoints" / "last.pt")
    assert list((tmp_path / "checkpoints").iterdir()) == []  # no temporary left behind
