"""Hostile but fair input: every bad value is one line and exit 2 before anything is
written; crafted cache files run no code; bench takes every --set form train takes."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

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
    """A results folder with a file in it, to prove nothing is written or lost."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("untouched")
    return out


BAD_SETS = [
    ("lr_g=nan", "lr_g"), ("lr_g=inf", "lr_g"), ("lr_d=-1", "lr_d"), ("lr_d=0", "lr_d"),
    ("beta1=2", "[0, 1)"), ("beta2=1", "[0, 1)"), ("beta1=-0.1", "[0, 1)"),
    ("width=0", "width"), ("width=-8", "width"), ("clip=-1", "clip"), ("clip=0", "clip"),
    ("n_critic=0", "n_critic"), ("nz=0", "nz"), ("batch_size=0", "batch_size"),
    ("reg_params=[1]", "JSON object"), ("reg_params=3", "JSON object"),
    ('reg_params={"soft-labels.real_low": "x"}', "object of numbers"),
    ('reg_params={"soft-labels.real_low": true}', "object of numbers"),
    ('reg_params={"soft-labels.real_low": NaN}', "object of numbers"),
    ('reg_params={"nosuch.x": 1}', "nosuch"),
]


@pytest.mark.parametrize("pair,needle", BAD_SETS)
def test_train_refuses_bad_values(pair, needle, folder):
    before = _snapshot(folder)
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--out", folder / "run", "--set", pair)
    assert_one_line(r, 2, needle)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("seed", ["99999999999999999999", str(2**63), "-1"])
def test_train_refuses_out_of_range_seeds(seed, folder):
    before = _snapshot(folder)
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--out", folder / "run", "--seed", seed)
    assert_one_line(r, 2, "seed")
    assert _snapshot(folder) == before


@pytest.mark.parametrize("pair,needle", BAD_SETS[:8] + [
    ("width=32,0", "width"),
    ('reg_params={"gp.weight": 1}', "gp"),  # gp is not a regularizer of these runs
])
def test_bench_refuses_bad_values_before_writing(pair, needle, folder):
    before = _snapshot(folder)
    r = invoke("bench", "--dataset", "ring8", "--budget", "smoke", "--losses", "ns", "--out", folder,
               "--set", pair)
    assert_one_line(r, 2, needle)
    assert _snapshot(folder) == before
    assert not (folder / C.BENCH_JSON).exists()


def test_clip_none_switches_clipping_off():
    from gan_zoo.regularizers import WeightClipping
    from gan_zoo.resolve import resolve
    from gan_zoo.spec import RunSpec

    default = resolve(RunSpec(dataset="ring8", loss="wgan"))
    assert default.clip == 0.01 and any(isinstance(h, WeightClipping) for h in default.hooks)
    off = resolve(RunSpec(dataset="ring8", loss="wgan").with_overrides({"clip": "none"}))
    assert off.clip is None and not any(isinstance(h, WeightClipping) for h in off.hooks)
    assert off.spec.run_id() != default.spec.run_id()
    set_ = resolve(RunSpec(dataset="ring8", loss="wgan").with_overrides({"clip": "0.05"}))
    assert set_.clip == 0.05


def test_sweeps_split_outside_json():
    from gan_zoo.bench.grid import parse_sweeps

    two = '{"soft-labels.real_low": 0.8, "soft-labels.real_high": 0.95}'
    assert parse_sweeps([f"reg_params={two}"]) == {
        "reg_params": [{"soft-labels.real_low": 0.8, "soft-labels.real_high": 0.95}]}
    swept = parse_sweeps(['reg_params={"a.x": 1, "a.y": 2},{"a.x": 3}', "nz=100,200"])
    assert swept == {"reg_params": [{"a.x": 1, "a.y": 2}, {"a.x": 3}], "nz": [100, 200]}


def test_estimate_probes_the_grids_own_run(monkeypatch):
    import gan_zoo.train as train
    from gan_zoo.bench import estimate
    from gan_zoo.spec import RunSpec

    probes = []
    clock = {"t": 0.0}
    monkeypatch.setattr(estimate.time, "perf_counter", lambda: clock["t"])

    def fake_run(spec, **kwargs):  # 2 s of set-up per run, 0.05 s per step of this run
        probes.append(spec)
        clock["t"] += 2.0 + 0.05 * spec.steps

    monkeypatch.setattr(train, "train_run", fake_run)
    spec = RunSpec(dataset="ring8", loss="wgan-gp", regularizers="instance-noise", steps=100,
                   reg_params={"instance-noise.sigma": 0.2})
    per_plain = estimate.step_seconds(spec, None, threads=1)
    assert {(p.loss, p.regularizers, json.dumps(p.reg_params)) for p in probes} == {
        ("wgan-gp", "instance-noise", json.dumps(spec.reg_params))}
    # one wgan-gp step costs relative_cost/steps plain steps
    assert per_plain == pytest.approx(0.05 / (estimate.relative_cost(spec) / spec.steps))


def test_readme_bench_form_runs(tmp_path):
    out = tmp_path / "b"
    r = invoke("bench", "--losses", "ns", "--regularizers", "soft-labels", "--dataset", "ring8",
               "--set", 'reg_params={"soft-labels.real_low": 0.8}', "--budget", "smoke",
               "--out", out, "--workers", 1, "--quiet")
    assert r.exit_code == 0, r.output
    (run,) = (out / C.RUNS_DIR).iterdir()
    assert json.loads((run / "spec.json").read_text())["reg_params"] == {"soft-labels.real_low": 0.8}
    assert json.loads((run / "result.json").read_text())["status"] == "ok"


def test_bench_exits_1_when_every_run_failed(tmp_path, monkeypatch):
    import gan_zoo.train as train
    from gan_zoo.bench import estimate

    def broken(*args, **kwargs):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(train, "train_run", broken)
    monkeypatch.setattr(estimate, "step_seconds", lambda *a, **k: 0.01)
    r = invoke("bench", "--losses", "ns,hinge", "--dataset", "ring8", "--budget", "smoke",
               "--out", tmp_path / "b", "--workers", 1, "--quiet")
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert errors == [r.stderr.strip().splitlines()[-1]]  # one line, the last one
    assert errors[0].startswith("gan-zoo: error: no run of the grid succeeded: all 2 failed")


# ---------------------------------------------------------------------------
# crafted cache files run no code


class _Touch:
    """Unpickling this creates ``marker``: what a crafted cache file could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def test_crafted_fidelity_cache_is_refused(tmp_path):
    from gan_zoo.metrics import fidelity

    marker = tmp_path / "pwned"
    cache = tmp_path / "cache"
    cache.mkdir()
    name = "gan-zoo-crafted"
    crafted = cache / f"{name}-{fidelity.LENET}-features-{fidelity.feature_layers(fidelity.LENET)['fid']}.pt"
    torch.save(_Touch(marker), crafted)
    images = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8)
    with pytest.raises(GanZooError, match=str(crafted.name)):
        fidelity.fidelity_metrics(images, images, extractor=fidelity.LENET, real_cache_name=name,
                                  cache_dir=cache, isc=False)
    assert not marker.exists()


def test_plain_cache_files_still_load(tmp_path):
    from gan_zoo.metrics import fidelity

    torch.save({"mu": np.zeros(3), "sigma": np.eye(3, dtype=np.float32)}, tmp_path / "x-stat.pt")
    torch.save(torch.ones(4, 2), tmp_path / "x-features.pt")
    fidelity.verify_cache(tmp_path, "x")
    assert fidelity.load_cached(tmp_path / "x-stat.pt")["sigma"].shape == (3, 3)


def test_crafted_train_feature_cache_is_refused(tmp_path, monkeypatch):
    from gan_zoo.metrics import cache, fidelity

    marker = tmp_path / "pwned"
    images = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    monkeypatch.setattr("gan_zoo.data.get_dataset", lambda *a, **k: type("D", (), {"x": images})())
    monkeypatch.setattr(fidelity, "extract_features", lambda *a, **k: torch.zeros(8, 4))
    args = ("mnist", None, fidelity.LENET, None, "w", None, lambda x: x, tmp_path, "cpu")
    cache.train_features(*args)  # writes the cache file
    (written,) = tmp_path.glob("*.pt")
    torch.save(_Touch(marker), written)  # replaced by a crafted one
    cache.forget_train_features()
    with pytest.raises(GanZooError, match=written.name):
        cache.train_features(*args)
    cache.forget_train_features()
    assert not marker.exists()


# ---------------------------------------------------------------------------
# data, formats, disks


def test_truncated_mnist_named(tmp_path):
    from gan_zoo.data import get_dataset

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 28, 28))
    (raw / "train-images-idx3-ubyte").write_bytes(header + bytes(1000))
    with pytest.raises(GanZooError) as err:
        get_dataset("mnist", root=tmp_path, limit=1)
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg and "truncated" in msg and "download it again" in msg
    assert "offline" not in msg


def test_decompression_bomb_one_line(tmp_path, monkeypatch):
    from PIL import Image

    images = tmp_path / "imgs"
    images.mkdir()
    Image.new("RGB", (64, 64)).save(images / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4,096 pixels: over twice the limit
    out = tmp_path / "run"
    r = invoke("train", "--dataset", f"folder:{images}", "--steps", 2, "--out", out)
    assert_one_line(r, 2, "big.png")
    assert not out.exists()


def test_late_data_error_has_no_banner(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "broken.png").write_bytes(b"not a picture")  # no warning before the line either
    out = tmp_path / "run"
    r = invoke("train", "--dataset", f"folder:{empty}", "--steps", 2, "--out", out)
    assert_one_line(r, 2, "no readable images")
    assert not out.exists()


def test_sample_unknown_format(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    r = invoke("sample", run, "--out", tmp_path / "x.xyz")
    line = assert_one_line(r, 2, "xyz")
    assert "png" in line and "jpg" in line
    assert list(tmp_path.iterdir()) == [run]


def test_full_disk_one_line(tmp_path, monkeypatch):
    import gan_zoo.train as train

    target = tmp_path / "run" / "checkpoints" / "last.pt"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(train, "train_run", full)
    r = invoke("train", "--dataset", "ring8", "--steps", 2, "--out", tmp_path / "run")
    assert r.exit_code == 2 and "Traceback" not in r.output
    last = r.stderr.strip().splitlines()[-1]  # after the banner of a started training
    assert last.startswith("gan-zoo: error: disk full") and str(target) in last


# ---------------------------------------------------------------------------
# malformed files of a finished run: one line naming the file


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "bench"
    r = invoke("bench", "--dataset", "ring8", "--budget", "smoke", "--steps", 3, "--losses", "ns",
               "--out", out, "--workers", 1, "--quiet")
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize("command,name,content", [
    ("report", "log.csv", b'step,loss_d\n\x00\xff,"unterminated\n'),
    ("report", "samples.npz", b"\x93NUMPY garbage"),
    ("report", "result.json", b"[1]"),
    ("report", "spec.json", b'{"seed": '),
    ("eval", "spec.json", b"[1, 2]"),
    ("sample", "spec.json", b'{"seed": -4}'),
    ("sample", "spec.json", b'{"seed": '),
])
def test_malformed_run_files_one_line(command, name, content, finished, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(finished, out)
    (run,) = (out / C.RUNS_DIR).iterdir()
    (run / name).write_bytes(content)
    before = _snapshot(out)
    target = out if command == "report" else run
    r = invoke(command, target, *(["--out", tmp_path / "s.png"] if command == "sample" else []))
    assert_one_line(r, 2, str(run / name))
    assert _snapshot(out) == before
