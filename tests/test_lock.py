"""One writer per folder: a live holder refuses a second writer; a dead one does not block."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gan_zoo.lock import LOCK_FILE, FolderBusyError, folder_lock, holder

HOLD = textwrap.dedent("""
    import sys, time
    from gan_zoo.lock import folder_lock
    with folder_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(60)
""")


def _hold(folder):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_refused_with_holder_named_then_free_after_sigkill(tmp_path):
    proc = _hold(tmp_path)
    try:
        before = (tmp_path / LOCK_FILE).read_bytes()
        with pytest.raises(FolderBusyError) as err:
            with folder_lock(tmp_path):
                pytest.fail("the block ran while another process held the lock")
        msg = str(err.value)
        assert f"pid {proc.pid}" in msg and "\n" not in msg
        assert (tmp_path / LOCK_FILE).read_bytes() == before  # the refusal wrote nothing
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the dead holder's lock file is still there, but it no longer blocks
    assert holder(tmp_path)["pid"] == proc.pid
    with folder_lock(tmp_path):
        assert holder(tmp_path)["pid"] == os.getpid()


def test_lock_is_released_after_the_block(tmp_path):
    with folder_lock(tmp_path / "new"):
        assert (tmp_path / "new" / LOCK_FILE).is_file()
    with folder_lock(tmp_path / "new"):  # taken again: nothing left held
        pass


def test_two_holders_in_one_process_conflict(tmp_path):
    with folder_lock(tmp_path):
        with pytest.raises(FolderBusyError):
            with folder_lock(tmp_path):
                pass
