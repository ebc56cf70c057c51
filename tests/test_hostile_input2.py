"""Hostile input and faults, round two: no file read runs code, only gan-zoo's own files
are written or removed, run folders stay under their parent, every file read back is
checked, every setting is checked where it is given, huge numbers and full disks are
one line."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st

from gan_zoo.bench import columns as C
from gan_zoo.cli import cli
from gan_zoo.errors import GanZooError


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_line(r, code: int = 2, needle: str = "") -> str:
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error:"), r.stderr
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def folder(tmp_path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("untouched")
    return out


class _Touch:
    """Unpickling this creates ``marker``: what a crafted file could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


# ---------------------------------------------------------------------------
# 1(b) Inception weights are checked as plain tensors before torch-fidelity reads them


def test_crafted_inception_weights_given_are_refused(tmp_path):
    from gan_zoo.metrics import fidelity

    marker = tmp_path / "pwned"
    crafted = tmp_path / "weights.pth"
    torch.save({"conv.weight": _Touch(marker)}, crafted)
    with pytest.raises(GanZooError, match="weights.pth"):
        fidelity.resolve_inception_weights(crafted)
    assert not marker.exists()


def test_crafted_inception_weights_in_hub_cache_are_refused(tmp_path, monkeypatch):
    from gan_zoo.metrics import fidelity

    marker = tmp_path / "pwned"
    hub = tmp_path / "hub"
    (hub / "checkpoints").mkdir(parents=True)
    crafted = hub / "checkpoints" / fidelity.INCEPTION_FILE
    torch.save(_Touch(marker), crafted)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    with pytest.raises(GanZooError, match=fidelity.INCEPTION_FILE):
        fidelity.resolve_inception_weights(None)
    assert not marker.exists()


def test_plain_inception_weights_pass(tmp_path):
    from gan_zoo.metrics import fidelity

    plain = tmp_path / "plain.pth"
    torch.save({"conv.weight": torch.zeros(2, 2)}, plain)
    assert fidelity.resolve_inception_weights(plain) == plain.resolve()
    torch.save([1, 2], plain)  # plain data, but not a state dict of tensors
    with pytest.raises(GanZooError, match="plain.pth"):
        fidelity.resolve_inception_weights(plain)


def test_bench_refuses_crafted_inception_weights_before_writing(tmp_path, folder):
    marker = tmp_path / "pwned"
    crafted = tmp_path / "weights.pth"
    torch.save(_Touch(marker), crafted)
    before = _snapshot(folder)
    r = invoke("bench", "--dataset", "mnist", "--budget", "smoke", "--losses", "ns",
               "--feature-extractor", "inception-v3-compat", "--inception-weights", crafted,
               "--out", folder)
    assert_one_line(r, 2, str(crafted.name))
    assert not marker.exists()
    assert _snapshot(folder) == before


# ---------------------------------------------------------------------------
# 2 only gan-zoo's own temporaries are removed, and only where gan-zoo writes


def test_atomic_writer_names_its_temporaries_recognisably(tmp_path, monkeypatch):
    from gan_zoo import io as zio

    seen = []

    def fail(src, dst):
        seen.append(Path(src).name)
        raise OSError(errno.EIO, "boom")

    monkeypatch.setattr(zio.os, "replace", fail)
    with pytest.raises(OSError):
        zio.write_text_atomic(tmp_path / "a.json", "{}")
    assert seen and seen[0].startswith(zio.TMP_PREFIX) and seen[0].endswith(".json")
    assert list(tmp_path.iterdir()) == []  # and nothing left behind


def test_stale_temporary_cleanup_spares_user_files(tmp_path):
    from gan_zoo import io as zio

    out = tmp_path / "out"
    (out / "runs" / "r1" / "checkpoints").mkdir(parents=True)
    (out / "notes").mkdir()
    user = [out / ".notes.tmp.txt", out / ".x.tmp", out / "runs" / "r1" / ".draft.tmp.md",
            out / "notes" / f"{zio.TMP_PREFIX}mine.txt"]  # not a folder gan-zoo writes
    for p in user:
        p.write_text("mine")
    ours = [out / f"{zio.TMP_PREFIX}bench.json.abc123.json",
            out / "runs" / "r1" / f"{zio.TMP_PREFIX}result.json.x1.json",
            out / "runs" / "r1" / "checkpoints" / f"{zio.TMP_PREFIX}last.pt.x2.pt"]
    for p in ours:
        p.write_text("stale")
    removed = zio.remove_stale_temporaries(out)
    assert sorted(removed) == sorted(ours)
    assert all(p.read_text() == "mine" for p in user)


def test_train_keeps_a_users_dotfiles(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".notes.tmp.txt").write_text("mine")
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--out", out)
    assert r.exit_code == 0, r.output
    assert (out / ".notes.tmp.txt").read_text() == "mine"


# ---------------------------------------------------------------------------
# 3 a run folder stays under its parent


@pytest.mark.parametrize("path", ["../../x", "/abs/path/imgs", "a/b", "..", "x\\..\\y", "./.."])
def test_folder_dataset_run_id_is_one_safe_name(path):
    from gan_zoo.spec import RunSpec

    run_id = RunSpec(dataset=f"folder:{path}", steps=2).run_id()
    assert "/" not in run_id and "\\" not in run_id and ".." not in run_id
    assert (Path("runs") / run_id).parent == Path("runs")
    assert run_id.startswith("folder-")


@hsettings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_no_run_id_holds_a_path_separator_or_dotdot(path):
    from gan_zoo.spec import RunSpec

    run_id = RunSpec(dataset=f"folder:{path}", steps=2).run_id()
    assert "/" not in run_id and "\\" not in run_id and ".." not in run_id
    assert os.sep not in run_id and "\x00" not in run_id


def test_folder_run_ids_differ_by_path():
    from gan_zoo.spec import RunSpec

    a = RunSpec(dataset="folder:a/x", steps=2).run_id()
    b = RunSpec(dataset="folder:b/x", steps=2).run_id()
    assert a != b


def test_empty_folder_dataset_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("train", "--dataset", "folder:", "--steps", 2)
    assert_one_line(r, 2, "folder:")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# 5 every file read back is checked; a bad one is one line naming it


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished2") / "bench"
    r = invoke("bench", "--dataset", "ring8", "--budget", "smoke", "--steps", 3, "--losses", "ns",
               "--out", out, "--workers", 1, "--quiet")
    assert r.exit_code == 0, r.output
    (run,) = (out / C.RUNS_DIR).iterdir()
    (run / "score_curve.csv").write_text("step,wall_s,modes\n3,0.1,2\n")
    return out


def _json_with(path: Path, **changes) -> bytes:
    data = json.loads(path.read_text())
    data.update(changes)
    return json.dumps(data).encode()


NOT_UTF8 = b'{"seed": "\xff\xfe"}'
BAD_FILES = [
    ("report", "spec.json", lambda p: NOT_UTF8),
    ("report", "result.json", lambda p: NOT_UTF8),
    ("report", "result.json", lambda p: _json_with(p, d_steps="abc")),
    ("report", "result.json", lambda p: _json_with(p, steps=[1])),
    ("report", "result.json", lambda p: _json_with(p, resolved="abc")),
    ("report", "metrics.json", lambda p: NOT_UTF8),
    ("report", "metrics.json", lambda p: _json_with(p, modes="abc")),
    ("report", "log.csv", lambda p: b"step,d_loss\n\xff\xfe,1\n"),
    ("report", "score_curve.csv", lambda p: b"step,modes\n\xff\xfe,1\n"),
    ("report", "score_curve.csv", lambda p: b'step,modes\n1,"unterminated\n'),
    ("report", "../../bench.json", lambda p: NOT_UTF8),
    ("report", "../../bench.json", lambda p: _json_with(p, baseline=5)),
    ("eval", "spec.json", lambda p: NOT_UTF8),
    ("eval", "result.json", lambda p: NOT_UTF8),
    ("sample", "spec.json", lambda p: _json_with(p, steps="abc")),
    ("sample", "result.json", lambda p: b"[1]"),
]


@pytest.mark.parametrize("command,name,content", BAD_FILES)
def test_bad_run_files_one_line_naming_them(command, name, content, finished, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    (run,) = (out / C.RUNS_DIR).iterdir()
    path = (run / name).resolve()
    path.write_bytes(content(path))
    before = _snapshot(out)
    target = out if command == "report" else run
    r = invoke(command, target, *(["--out", tmp_path / "s.png"] if command == "sample" else []))
    line = assert_one_line(r, 2)
    assert path.name in line and (str(path) in line or str(run / name) in line), line
    assert _snapshot(out) == before


def test_train_resume_with_a_bad_score_curve_one_line(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--dataset", "ring8", "--steps", 4, "--set", "checkpoint_every=2",
            "--set", "curve_points=2", "--out", out]
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    (out / "result.json").unlink()  # unfinished: the next train resumes
    (out / "score_curve.csv").write_bytes(b"step,modes\nabc,\xff\n")
    r = invoke(*args)
    assert_one_line(r, 2, str(out / "score_curve.csv"))


# ---------------------------------------------------------------------------
# 6 every setting checked where it is given, none silently ignored


@pytest.mark.parametrize("args,needle", [
    (["--set", "steps=0"], "--steps"),
    (["--set", "steps=500"], "--steps"),
    (["--wall-seconds", "inf", "--match", "wall"], "--wall-seconds"),
    (["--wall-seconds", "nan", "--match", "wall"], "--wall-seconds"),
    (["--eval-samples", "1"], "--eval-samples"),
    (["--feature-extractor", "lenet"], "--feature-extractor"),
    (["--regularizers", "noisy-labels", "--set", 'reg_params={"noisy-labels.p": 5}'], "noisy-labels.p"),
    (["--regularizers", "gp", "--set", 'reg_params={"gp.weight": -10}'], "gp.weight"),
    (["--regularizers", "instance-noise", "--set", 'reg_params={"instance-noise.sigma": -1}'],
     "instance-noise.sigma"),
    (["--regularizers", "g-dropout", "--set", 'reg_params={"g-dropout.p": 5}'],
     "g-dropout.p"),
    (["--set", "curve_points=3"], "--curve-points"),
])
def test_bench_settings_checked_before_anything_is_written(args, needle, folder):
    before = _snapshot(folder)
    r = invoke("bench", "--dataset", "ring8", "--budget", "smoke", "--steps", 2, "--losses", "ns",
               "--workers", 1, "--quiet", "--out", folder, *args)
    assert_one_line(r, 2, needle)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("pair,needle", [
    ('reg_params={"noisy-labels.p": 5}', "noisy-labels.p"),
    ('reg_params={"noisy-labels.p": -0.1}', "noisy-labels.p"),
    ('reg_params={"instance-noise.sigma": -1}', "instance-noise.sigma"),
])
def test_train_refuses_out_of_range_regularizer_parameters(pair, needle, folder):
    regs = pair.split('"')[1].split(".")[0]
    before = _snapshot(folder)
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--regularizers", regs, "--set", pair,
               "--out", folder / "run")
    assert_one_line(r, 2, needle)
    assert _snapshot(folder) == before


def test_train_refuses_a_negative_gradient_penalty(folder):
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--regularizers", "gp", "--loss", "wgan",
               "--set", 'reg_params={"gp.weight": -10}', "--out", folder / "run")
    assert_one_line(r, 2, "gp.weight")


def test_feature_extractor_that_cannot_apply_is_refused(tmp_path, folder):
    from PIL import Image

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8), (i * 100, 0, 0)).save(imgs / f"{i}.png")
    before = _snapshot(folder)
    r = invoke("bench", "--dataset", f"folder:{imgs}", "--budget", "smoke", "--steps", 1,
               "--losses", "ns", "--workers", 1, "--feature-extractor", "lenet", "--out", folder)
    assert_one_line(r, 2, "lenet")
    assert _snapshot(folder) == before


def test_eval_refuses_a_feature_extractor_for_points(finished, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    (run,) = (out / C.RUNS_DIR).iterdir()
    before = _snapshot(out)
    r = invoke("eval", run, "--feature-extractor", "lenet")
    assert_one_line(r, 2, "--feature-extractor")
    assert _snapshot(out) == before


def test_eval_needs_as_many_samples_as_bench(finished, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    (run,) = (out / C.RUNS_DIR).iterdir()
    r = invoke("eval", run, "--n", 1)
    assert_one_line(r, 2, "--n")


# ---------------------------------------------------------------------------
# 7 huge numbers and unreachable services end in one line


@pytest.mark.parametrize("pair", ["width=1000000000000", "nz=1000000000000000", "batch_size=1000000000000"])
def test_too_large_to_allocate_is_a_memory_error_line(pair, tmp_path):
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--set", pair, "--out", tmp_path / "run")
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("gan-zoo: error:") and "memory" in last and pair.split("=")[0] in last, last


@pytest.mark.parametrize("loss", ["ns", "wgan"])  # wgan: RMSprop, whose update overflows float32
def test_overflowing_learning_rate_diverges(loss, tmp_path):
    r = invoke("train", "--dataset", "ring8", "--loss", loss, "--steps", 3, "--set", "lr_g=1e308",
               "--set", "lr_d=1e308", "--out", tmp_path / "run")
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "diverged"


@pytest.fixture(scope="module")
def ring8_run(finished) -> Path:
    (run,) = (finished / C.RUNS_DIR).iterdir()
    return run


@pytest.mark.parametrize("seed", [str(2**64), "-1", "99999999999999999999999"])
def test_sample_seed_beyond_64_bits_one_line(seed, ring8_run, tmp_path):
    r = invoke("sample", ring8_run, "--seed", seed, "--out", tmp_path / "s.png")
    assert_one_line(r, 2, "--seed")
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_n_beyond_what_can_be_generated_refused_first(command, ring8_run, tmp_path, monkeypatch):
    from gan_zoo import runs

    def started(*a, **k):
        raise AssertionError("generation started")

    monkeypatch.setattr(runs.Run, "sample", started)
    extra = ["--out", tmp_path / "s.png"] if command == "sample" else []
    r = invoke(command, ring8_run, "--n", 10**13, *extra)
    assert_one_line(r, 2, "--n")


def test_ray_address_that_does_not_answer_one_line(folder, monkeypatch):
    pytest.importorskip("ray")
    import ray

    def reached(*a, **k):
        raise AssertionError("ray.init reached")

    monkeypatch.setattr(ray, "init", reached)
    before = _snapshot(folder)
    r = invoke("bench", "--dataset", "ring8", "--budget", "smoke", "--steps", 2, "--losses", "ns",
               "--executor", "ray", "--ray-address", "127.0.0.1:1", "--out", folder)
    assert_one_line(r, 2, "127.0.0.1:1")
    assert _snapshot(folder) == before


# ---------------------------------------------------------------------------
# 8 messages say what is true


def test_full_disk_on_the_lock_file_names_it(tmp_path, monkeypatch):
    import gan_zoo.lock as lock

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lock.os, "pwrite", full)
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--out", tmp_path / "run")
    line = assert_one_line(r, 2, "disk full")
    assert lock.LOCK_FILE in line


def test_full_disk_at_the_temporary_names_the_destination(tmp_path, monkeypatch):
    from gan_zoo import io as zio

    def full(*a, dir=None, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(dir) / ".tmpXYZ"))

    monkeypatch.setattr(zio.tempfile, "mkstemp", full)
    with pytest.raises(OSError) as err:
        zio.write_text_atomic(tmp_path / "result.json", "{}")
    assert err.value.filename == str(tmp_path / "result.json")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# 4 no process outlives its grid


def _session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != b"Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_no_worker_outlives_a_killed_driver(how, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "grid"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    driver = subprocess.Popen(
        [sys.executable, "-m", "gan_zoo.cli", "bench", "--dataset", "ring8", "--budget", "smoke",
         "--steps", "1000000", "--losses", "ns,hinge", "--workers", "2", "--quiet", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("runs/*/spec.json")):  # the workers are training
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "the grid never started"
            time.sleep(0.2)
        assert len(_session_members(driver.pid)) >= 4  # driver, fork server, two workers
        driver.send_signal(getattr(signal, how))
        _, err = driver.communicate(timeout=60)
        deadline = time.monotonic() + 10
        while _session_members(driver.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session_members(driver.pid) == [], "a process of the grid outlived its driver"
        if how == "SIGTERM":  # ends like Ctrl-C: one line, how far it got, exit 130
            lines = [ln for ln in err.splitlines() if ln.startswith("gan-zoo:")]
            assert driver.returncode == 130 and "Traceback" not in err, err
            assert len(lines) == 1 and "interrupted" in lines[0] and "resume" in lines[0], err
    finally:
        for pid in _session_members(driver.pid):
            with __import__("contextlib").suppress(ProcessLookupError):
                os.kill(pid, 9)
        if driver.poll() is None:
            driver.kill()
            driver.wait()


# ---------------------------------------------------------------------------
# 1(a) the in-training FID's cached real statistics run no code either


def test_crafted_curve_cache_is_refused(tmp_path, mnist_root):
    from gan_zoo.metrics.curve import CurveScorer
    from gan_zoo.metrics.settings import EvalSettings

    settings = EvalSettings(cache_dir=str(tmp_path / "cache"))
    CurveScorer("mnist", 20, data_root=mnist_root, evaluation=settings)  # writes the cache file
    (written,) = (tmp_path / "cache").glob("gan-zoo-curve-*.pt")
    marker = tmp_path / "pwned"
    torch.save(_Touch(marker), written)  # replaced by a crafted one
    with pytest.raises(GanZooError, match=written.name):
        CurveScorer("mnist", 20, data_root=mnist_root, evaluation=settings)
    assert not marker.exists()
