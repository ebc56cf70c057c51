"""The speed switches of the training loop (``gan_zoo.train.Accel``) on the CPU.

The GPU path runs the same code: bf16 autocast around the network forward passes
with losses and penalties in fp32, channels-last layout, and no host
synchronisation between log steps. Here each switch is checked to be really on (or
really off), to leave losses finite and fp32 and samples shaped as before.
"""

from __future__ import annotations

import math
import os
import sys

import pytest
import torch

from gan_zoo.spec import RunSpec
from gan_zoo.train import Accel, Trainer, train_run


@pytest.fixture(scope="module")
def mnist(mnist_root):
    from gan_zoo.data import get_dataset

    return get_dataset("mnist", root=mnist_root, limit=512)


def _trainer(mnist, accel, **spec):
    spec = RunSpec(**{"dataset": "mnist", "device": "cpu", "batch_size": 8, "steps": 2, **spec})
    return Trainer(spec, mnist, accel=accel)


def _first_conv(module):
    return next(m for m in module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))


def _wide_conv(module):
    """A conv whose weight layout tells NCHW from NHWC (more than one input channel)."""
    return next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d) and m.weight.shape[1] > 1)


def _record_output_dtypes(module, sink):
    return module.register_forward_hook(lambda mod, inp, out: sink.append(out.dtype))


def test_cpu_default_is_all_off_and_gpu_default_uses_bf16_and_channels_last(monkeypatch):
    assert Accel.auto("cpu") == Accel(amp_bf16=False, channels_last=False, compile=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert Accel.auto("cuda") == Accel(amp_bf16=True, channels_last=True, compile=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert Accel.auto("cuda:1") == Accel(amp_bf16=False, channels_last=True, compile=False)


@pytest.mark.parametrize("accel", [Accel(), Accel(channels_last=True), Accel(amp_bf16=True),
                                   Accel(amp_bf16=True, channels_last=True)],
                         ids=["off", "channels_last", "bf16", "bf16+channels_last"])
def test_switches_give_finite_fp32_losses_and_the_same_shapes(mnist, accel):
    trainer = _trainer(mnist, accel)
    g_out, d_out = [], []
    hooks = [_record_output_dtypes(_first_conv(trainer.g), g_out),
             _record_output_dtypes(_first_conv(trainer.d), d_out)]
    out = trainer.step(log=True)
    for h in hooks:
        h.remove()
    low = torch.bfloat16 if accel.amp_bf16 else torch.float32
    # the networks ran in the asked precision ...
    assert set(g_out) == {low} and set(d_out) == {low}
    # ... and everything the loop computes from their outputs is fp32 and finite
    for key in ("d_loss", "g_loss", "real_logits", "fake_logits", "d_grad", "g_grad"):
        assert out[key].dtype == torch.float32, key
        assert bool(torch.isfinite(out[key]).all()), key
    assert out["real_logits"].shape == out["fake_logits"].shape == (8,)
    assert out["d_loss"].shape == out["g_loss"].shape == ()
    conv_w = _wide_conv(trainer.d).weight
    assert conv_w.is_contiguous(memory_format=torch.channels_last) == accel.channels_last
    assert conv_w.is_contiguous() != accel.channels_last
    with torch.no_grad():
        assert trainer.g(trainer._z(4)).shape == (4, 1, 28, 28)
    # parameters and optimizer state stay fp32
    assert {p.dtype for p in trainer.g.parameters()} | {p.dtype for p in trainer.d.parameters()} == {torch.float32}


def test_gradient_penalty_runs_d_in_fp32_under_bf16(mnist):
    trainer = _trainer(mnist, Accel(amp_bf16=True), loss="wgan-gp", n_critic=1)
    seen = []
    hook = _record_output_dtypes(_first_conv(trainer.d), seen)
    out = trainer.step(log=True)
    hook.remove()
    # D step: real, fake under autocast, then the penalty's x_hat in fp32; G step: fake
    assert seen == [torch.bfloat16, torch.bfloat16, torch.float32, torch.bfloat16]
    assert math.isfinite(out["d_loss"].item()) and math.isfinite(out["g_loss"].item())


def test_train_run_records_the_switches_and_stays_finite(mnist, tmp_path):
    spec = RunSpec(dataset="mnist", device="cpu", batch_size=8, steps=3, log_every=1)
    result = train_run(spec, data=mnist, progress=False, accel=Accel(amp_bf16=True, channels_last=True))
    assert result.status == "ok", result.reason
    assert result.resolved["accel"] == {"amp_bf16": True, "channels_last": True, "compile": False}
    assert train_run(spec, data=mnist, progress=False).resolved["accel"]["amp_bf16"] is False


def test_switches_off_leave_the_cpu_run_bitwise_unchanged(mnist):
    spec = RunSpec(dataset="mnist", device="cpu", batch_size=8, steps=3, log_every=1)
    a = train_run(spec, data=mnist, progress=False)
    b = train_run(spec, data=mnist, progress=False, accel=Accel())
    c = train_run(spec, data=mnist, progress=False, accel=Accel(amp_bf16=True))
    pa, pb, pc = (list(r.generator.state_dict().values()) for r in (a, b, c))
    assert all(torch.equal(x, y) for x, y in zip(pa, pb))
    assert not all(torch.equal(x, y) for x, y in zip(pa, pc))  # bf16 does change the numbers


class _SyncCounter:
    """Counts host synchronisations asked of tensors: ``.item()``, ``.tolist()`` and
    ``bool(tensor)``.

    The optimizers' step counters are left out: PyTorch keeps them on the CPU (unless
    ``capturable``), so reading them never waits for a GPU.
    """

    def __init__(self, monkeypatch):
        self.n = 0
        item, to_bool, to_list = torch.Tensor.item, torch.Tensor.__bool__, torch.Tensor.tolist

        def from_optimizer() -> bool:
            return f"torch{os.sep}optim{os.sep}" in sys._getframe(2).f_code.co_filename

        def counting_item(t):
            self.n += not from_optimizer()
            return item(t)

        def counting_bool(t):
            self.n += not from_optimizer()
            return to_bool(t)

        def counting_tolist(t):
            self.n += not from_optimizer()
            return to_list(t)

        monkeypatch.setattr(torch.Tensor, "item", counting_item)
        monkeypatch.setattr(torch.Tensor, "tolist", counting_tolist)
        monkeypatch.setattr(torch.Tensor, "__bool__", counting_bool)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_host_syncs_only_at_log_steps_off_the_cpu(mnist, monkeypatch, device):
    """Ten steps, a log row every five. On the CPU the finiteness check runs every step
    (a sync is free there); on a GPU only the two log steps may sync. The loop reads the
    device from the resolved run, so the GPU branch is exercised here on CPU tensors."""
    trainer = _trainer(mnist, Accel(), steps=10, log_every=5)
    trainer.res.device = device
    counter = _SyncCounter(monkeypatch)
    result = trainer.run()
    monkeypatch.undo()
    assert result.status == "ok" and len(trainer.log) == 2
    per_log_row = 2  # the window's 6 means in one transfer + 1 finiteness check
    expected = 2 * per_log_row + (8 if device == "cpu" else 0)
    assert counter.n == expected
