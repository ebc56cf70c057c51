"""One training loop for every objective: ``train_run(spec) -> RunResult``.

Objectives and regularizers plug in through their hooks; the loop has no per-loss
branch. A run lives in one folder (see :mod:`gan_zoo.runs`): ``spec.json`` first,
``checkpoints/last.pt`` every ``checkpoint_every`` steps, then ``log.csv``,
``result.json`` and the pictures at the end. Calling ``train_run`` again with the
same spec and folder resumes from the last checkpoint, bitwise identical on CPU.

One generator step, in order:
  1. ``n_critic`` times: sample reals, draw z, G(z) without grad; regularizers may
     change D's inputs and targets; D's loss = objective + penalties; step D; clip.
  2. draw z, G(z) with grad through a frozen D; G's loss; step G.
  3. every ``log_every`` steps: one host sync to log losses, D outputs, gradient
     norms, and to stop with status ``diverged`` on a non-finite loss.

Speed switches (:class:`Accel`) change how the networks run, never what the loop
computes: bf16 autocast around the network forward passes only (losses, penalties and
optimizer state stay fp32), channels-last memory layout, and ``torch.compile``. On a
GPU the first two are on by default; on the CPU all are off. Nothing inside a step
waits for the device except the finiteness check, which runs every step on the CPU
(where it costs nothing) and only at log steps on a GPU.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo import __version__
from gan_zoo.backbones import backbone_defaults, build_backbone
from gan_zoo.data import Dataset, dataset_info, get_dataset
from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, save_torch_atomic, write_csv_atomic, write_json_atomic
from gan_zoo.losses import Objective, get_loss, gradient_penalty
from gan_zoo.regularizers import Regularizer, StepContext, parse_regularizers
from gan_zoo.spec import RunSpec

__all__ = ["RunResult", "Resolved", "Accel", "resolve", "train_run", "resolve_device", "LOG_COLUMNS"]

LOG_COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm", "wall_s"]
CHECKPOINT = Path("checkpoints") / "last.pt"


@dataclass
class RunResult:
    """What a run ended with; written to ``result.json``."""

    run_id: str
    status: str  # ok | diverged | failed | skipped
    reason: str = ""
    steps: int = 0  # generator steps done
    g_steps: int = 0
    d_steps: int = 0
    wall_s: float = 0.0  # pure training time, summed over resumptions
    device: str = "cpu"
    diverged_step: int | None = None
    backbone: str = ""
    resolved: dict = field(default_factory=dict)
    gan_zoo_version: str = __version__
    run_dir: str = ""


@dataclass(frozen=True)
class Accel:
    """How the networks execute; none of these switches enters the run id.

    ``amp_bf16``: bf16 autocast around G's and D's forward passes; their outputs are
    cast back to fp32 before any loss, and the gradient penalty runs D in fp32 (its
    double backward is where low precision hurts). ``channels_last``: NHWC layout for
    the networks and D's image inputs. ``compile``: ``torch.compile`` the forward
    passes (not the penalty's, which needs a double backward).
    """

    amp_bf16: bool = False
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def auto(cls, device: str) -> "Accel":
        """The default for ``device``: bf16 (where supported) and channels-last on a
        GPU; everything off on the CPU, where channels-last gains little at the budgets'
        batch sizes and bf16 would change the numbers a study reports."""
        if str(device).startswith("cuda"):
            return cls(amp_bf16=torch.cuda.is_bf16_supported(), channels_last=True)
        return cls()

    def autocast(self, device: str):
        if not self.amp_bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


@dataclass
class Resolved:
    """The effective settings of a run: spec values, else objective and backbone defaults."""

    spec: RunSpec
    objective: Objective
    regularizers: list[Regularizer]
    backbone: str
    optimizer: str
    lr_g: float
    lr_d: float
    beta1: float | None
    beta2: float | None
    n_critic: int
    clip: float | None
    d_norm: str
    width: int
    g_dropout: float
    penalty_weight: float
    device: str

    def record(self) -> dict[str, Any]:
        """The JSON-able effective values recorded with the run."""
        return {
            "backbone": self.backbone, "optimizer": self.optimizer, "lr_g": self.lr_g,
            "lr_d": self.lr_d, "beta1": self.beta1, "beta2": self.beta2,
            "n_critic": self.n_critic, "clip": self.clip, "d_norm": self.d_norm,
            "width": self.width, "g_dropout": self.g_dropout, "nz": self.spec.nz,
            "batch_size": self.spec.batch_size, "penalty_weight": self.penalty_weight,
            "regularizers": {r.name: dict(r.p) for r in self.regularizers},
            "device": self.device,
        }


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is present, else ``cpu``."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GanZooError(f"device {device!r} asked for but no CUDA GPU is available; use --device cpu or auto")
    if device != "cpu" and not device.startswith("cuda"):
        raise GanZooError(f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N")
    return device


def resolve(spec: RunSpec) -> Resolved:
    """Check a spec and fill in every default. Raises GanZooError / NotApplicableError."""
    for name in ("steps", "batch_size", "nz", "log_every", "checkpoint_every"):
        value = getattr(spec, name)
        if not isinstance(value, int) or value < 1:
            raise GanZooError(f"{name} must be a positive integer, got {value!r}")
    if spec.n_critic is not None and (not isinstance(spec.n_critic, int) or spec.n_critic < 1):
        raise GanZooError(f"n_critic must be a positive integer, got {spec.n_critic!r}")
    objective = get_loss(spec.loss)
    info = dataset_info(spec.dataset)
    regs = parse_regularizers(spec.regularizers, spec.reg_params)
    for reg in regs:
        reg.check(objective)
    if spec.conditional and info.num_classes == 0:
        raise GanZooError(f"dataset {spec.dataset!r} has no labels; a conditional run needs a labelled dataset")

    d = objective.defaults
    optimizer = spec.optimizer or d["optimizer"]
    if optimizer not in ("adam", "rmsprop"):
        raise GanZooError(f"unknown optimizer {optimizer!r}; valid: adam, rmsprop")
    backbone = spec.backbone or info.default_backbone

    # per-sample input gradients are wrong under batch norm (the penalty of one sample
    # would depend on the others), so those runs get layer norm unless told otherwise
    input_grads = objective.penalty_weight > 0 or any(r.input_gradients for r in regs)
    d_norm = spec.d_norm or ("layer" if input_grads else "batch")
    if input_grads and d_norm == "batch":
        raise GanZooError("d_norm=batch cannot be used with a gradient penalty; valid here: layer, none")

    build_kwargs = {"g_dropout": 0.0}
    for reg in regs:
        reg.configure_backbone(build_kwargs)
    width = spec.width or backbone_defaults(backbone)["width"]
    return Resolved(
        spec=spec, objective=objective, regularizers=regs, backbone=backbone,
        optimizer=optimizer,
        lr_g=spec.lr_g if spec.lr_g is not None else d["lr_g"],
        lr_d=spec.lr_d if spec.lr_d is not None else d["lr_d"],
        beta1=spec.beta1 if spec.beta1 is not None else d["beta1"],
        beta2=spec.beta2 if spec.beta2 is not None else d["beta2"],
        n_critic=spec.n_critic or d["n_critic"],
        clip=spec.clip if spec.clip is not None else d["clip"],
        d_norm=d_norm, width=width, g_dropout=build_kwargs["g_dropout"],
        penalty_weight=objective.penalty_weight, device=resolve_device(spec.device),
    )


def build_networks(res: Resolved, shape: tuple, num_classes: int) -> tuple[nn.Module, nn.Module]:
    """G and D for a resolved run, with the regularizers' network changes applied."""
    g, d = build_backbone(
        res.backbone, shape=shape, nz=res.spec.nz, width=res.width, d_norm=res.d_norm,
        num_classes=num_classes if res.spec.conditional else 0, g_dropout=res.g_dropout,
    )
    for reg in res.regularizers:
        reg.wrap_networks(g, d)
    return g.to(res.device), d.to(res.device)


def _optimizer(params, res: Resolved, lr: float) -> torch.optim.Optimizer:
    if res.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(res.beta1, res.beta2))


def _grad_norm(module: nn.Module) -> Tensor:
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return torch.cat(grads).norm() if grads else torch.zeros(())


class _Trainer:
    """The state of one run and the loop over it."""

    def __init__(self, res: Resolved, data: Dataset, run_dir: Path | None, progress: bool | None,
                 accel: Accel | None = None):
        self.res, self.data, self.run_dir, self.progress = res, data, run_dir, progress
        spec, dev = res.spec, res.device
        self.accel = Accel.auto(dev) if accel is None else accel
        torch.manual_seed(spec.seed)  # network init, dropout and spectral-norm vectors
        self.num_classes = data.num_classes if spec.conditional else 0
        self.g, self.d = build_networks(res, data.shape, data.num_classes)
        if self.accel.channels_last:
            self.g.to(memory_format=torch.channels_last)
            self.d.to(memory_format=torch.channels_last)
        # the forward callables; self.g / self.d stay the plain modules (state dicts,
        # the penalty's double backward, sampling)
        self._g_fwd = torch.compile(self.g) if self.accel.compile else self.g
        self._d_fwd = torch.compile(self.d) if self.accel.compile else self.d
        self.opt_g = _optimizer(self.g.parameters(), res, res.lr_g)
        self.opt_d = _optimizer(self.d.parameters(), res, res.lr_d)
        # separate streams, so adding a regularizer does not shift the data or the noise
        self.data_gen = torch.Generator(device=dev).manual_seed(spec.seed * 3 + 1)
        self.noise_gen = torch.Generator(device=dev).manual_seed(spec.seed * 3 + 2)
        self.reg_gen = torch.Generator(device=dev).manual_seed(spec.seed * 3 + 3)
        self.step = 0
        self.d_steps = 0
        self.wall = 0.0
        self.log: list[dict] = []
        self.prob = res.objective.reports_probability

    # -- checkpoints ----------------------------------------------------------

    def state(self) -> dict:
        st = {
            "g": self.g.state_dict(), "d": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "data_gen": self.data_gen.get_state(), "noise_gen": self.noise_gen.get_state(),
            "reg_gen": self.reg_gen.get_state(), "torch_rng": torch.get_rng_state(),
            "step": self.step, "d_steps": self.d_steps, "wall": self.wall, "log": self.log,
            "run_id": self.res.spec.run_id(),
        }
        if torch.cuda.is_available():
            st["cuda_rng"] = torch.cuda.get_rng_state_all()
        return st

    def load(self, st: dict) -> None:
        self.g.load_state_dict(st["g"])
        self.d.load_state_dict(st["d"])
        self.opt_g.load_state_dict(st["opt_g"])
        self.opt_d.load_state_dict(st["opt_d"])
        self.data_gen.set_state(st["data_gen"])
        self.noise_gen.set_state(st["noise_gen"])
        self.reg_gen.set_state(st["reg_gen"])
        torch.set_rng_state(st["torch_rng"])
        if "cuda_rng" in st and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(st["cuda_rng"])
        self.step, self.d_steps, self.wall, self.log = st["step"], st["d_steps"], st["wall"], st["log"]

    def save_checkpoint(self) -> None:
        if self.run_dir is not None:
            save_torch_atomic(self.state(), self.run_dir / CHECKPOINT)
            self.write_log()

    def write_log(self) -> None:
        import pandas as pd

        if self.run_dir is not None:
            write_csv_atomic(self.run_dir / "log.csv", pd.DataFrame(self.log, columns=LOG_COLUMNS))

    # -- one step -------------------------------------------------------------

    def _z(self, n: int) -> Tensor:
        g = self.noise_gen
        return torch.randn(n, self.res.spec.nz, generator=g, device=g.device)

    def _G(self, z: Tensor, y: Tensor | None) -> Tensor:
        with self.accel.autocast(self.res.device):
            x = self._g_fwd(z, y)
        return x.float()  # D's inputs, regularizers and penalties see fp32 samples

    def _D(self, x: Tensor, y: Tensor | None) -> Tensor:
        if self.accel.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.accel.autocast(self.res.device):
            logits = self._d_fwd(x, y)
        return logits.float()  # losses in fp32

    def train_step(self, ctx: StepContext) -> dict[str, Tensor]:
        res, obj, regs = self.res, self.res.objective, self.res.regularizers
        bs = res.spec.batch_size
        g, d = self._G, self._D
        self.d.requires_grad_(True)
        for _ in range(res.n_critic):
            xr, yr = self.data.sample(bs, self.data_gen)
            # conditional runs ask G for the labels of the real batch, so fakes follow
            # the data's class balance and each penalty pair shares one label
            yr = yr if self.num_classes else None
            yf = yr
            z = self._z(bs)
            with torch.no_grad():
                xf = g(z, yf)
            xr_in, xf_in = xr, xf
            for reg in regs:
                xr_in, xf_in = reg.d_inputs(xr_in, xf_in, ctx)
            real_logits = d(xr_in, yr)
            fake_logits = d(xf_in, yf)
            real_t = fake_t = None
            if any(r.label_trick for r in regs):
                real_t, fake_t = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
                for reg in regs:
                    real_t, fake_t = reg.targets(real_t, fake_t, ctx)
            d_loss = obj.d_loss(real_logits, fake_logits, real_t, fake_t)
            # gradient penalties see the unperturbed samples, paired by batch position
            if obj.penalty_weight:
                d_loss = d_loss + gradient_penalty(self._critic(yr), xr, xf, obj.penalty_weight,
                                                   generator=ctx.generator)
            for reg in regs:
                extra = reg.d_penalty(self._critic(yr), xr, xf, ctx)
                if extra is not None:
                    d_loss = d_loss + extra
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            d_grad = _grad_norm(self.d) if self._logging else None
            self.opt_d.step()
            if res.clip:
                with torch.no_grad():
                    for p in self.d.parameters():
                        p.clamp_(-res.clip, res.clip)
            self.d_steps += 1

        # generator step through a frozen D (no weight gradients for D)
        self.d.requires_grad_(False)
        z = self._z(bs)
        xf = g(z, yf)
        xr_in, xf_in = xr, xf
        for reg in regs:
            xr_in, xf_in = reg.d_inputs(xr_in, xf_in, ctx)
        fake_logits_g = d(xf_in, yf)
        # relativistic objectives compare with the current D's view of the reals
        real_logits_g = d(xr_in, yr) if obj.g_uses_real else real_logits.detach()
        g_loss = obj.g_loss(real_logits_g, fake_logits_g)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        g_grad = _grad_norm(self.g) if self._logging else None
        self.opt_g.step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "real_logits": real_logits.detach(), "fake_logits": fake_logits.detach(),
                "d_grad": d_grad, "g_grad": g_grad}

    def _critic(self, labels):
        """D as a function of x alone, for the penalty (a pair shares its label)."""
        if labels is None:
            return self.d
        return lambda x: self.d(x, labels)

    # -- the loop -------------------------------------------------------------

    def run(self) -> RunResult:
        res, spec = self.res, self.res.spec
        total = spec.steps
        status, reason, diverged_step = "ok", "", None
        bar = _progress(total, self.step, spec, self.progress)
        self.g.train()
        self.d.train()
        t0 = time.perf_counter()
        try:
            while self.step < total:
                ctx = StepContext(self.step, total, self.reg_gen)
                self._logging = (self.step + 1) % spec.log_every == 0 or self.step + 1 == total
                out = self.train_step(ctx)
                self.step += 1
                check_now = self._logging or res.device == "cpu"  # a host sync costs nothing on CPU
                if check_now and not bool(torch.isfinite(out["d_loss"] + out["g_loss"])):
                    status, diverged_step = "diverged", self.step
                    reason = (f"non-finite loss at step {self.step} "
                              f"(d_loss={out['d_loss'].item():.4g}, g_loss={out['g_loss'].item():.4g})")
                    self._append_log(out, t0)
                    break
                if self._logging:
                    self._append_log(out, t0)
                    if bar is not None:
                        bar.set_postfix(d=f"{self.log[-1]['d_loss']:.3f}", g=f"{self.log[-1]['g_loss']:.3f}")
                if bar is not None:
                    bar.update(1)
                if self.step % spec.checkpoint_every == 0 and self.step < total:
                    self.wall += time.perf_counter() - t0
                    self.save_checkpoint()
                    t0 = time.perf_counter()
        finally:
            if bar is not None:
                bar.close()
        self.wall += time.perf_counter() - t0
        self.save_checkpoint()
        return RunResult(
            run_id=spec.run_id(), status=status, reason=reason, steps=self.step,
            g_steps=self.step, d_steps=self.d_steps, wall_s=round(self.wall, 3),
            device=res.device, diverged_step=diverged_step, backbone=res.backbone,
            resolved={**res.record(), "accel": asdict(self.accel)}, run_dir=str(self.run_dir or ""),
        )

    def _append_log(self, out: dict, t0: float) -> None:
        squash = torch.sigmoid if self.prob else (lambda t: t)
        row = {
            "step": self.step,
            "d_loss": out["d_loss"].item(), "g_loss": out["g_loss"].item(),
            "d_real": squash(out["real_logits"].float()).mean().item(),
            "d_fake": squash(out["fake_logits"].float()).mean().item(),
            "g_grad_norm": out["g_grad"].item() if out["g_grad"] is not None else math.nan,
            "d_grad_norm": out["d_grad"].item() if out["d_grad"] is not None else math.nan,
            "wall_s": round(self.wall + time.perf_counter() - t0, 4),
        }
        self.log.append(row)


def _progress(total: int, done: int, spec: RunSpec, progress: bool | None):
    """A tqdm bar on a terminal (``progress=None``), never when ``progress`` is False."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=f"{spec.loss} {spec.dataset}", unit="step",
                dynamic_ncols=True, leave=False)


def _load_data(res: Resolved, data_root) -> Dataset:
    return get_dataset(res.spec.dataset, root=data_root, train=True, device=res.device, seed=res.spec.seed)


def train_run(
    spec: RunSpec,
    run_dir: str | Path | None = None,
    *,
    data_root: str | Path | None = None,
    data: Dataset | None = None,
    progress: bool | None = None,
    artifacts: bool = True,
    accel: Accel | None = None,
) -> RunResult:
    """Train one combination; write it to ``run_dir`` (resuming from its checkpoint).

    Returns a RunResult; a non-finite loss ends the run with status ``diverged``
    instead of raising. Bad specs raise GanZooError before any training.
    ``accel`` sets the speed switches (default :meth:`Accel.auto` for the device).
    """
    res = resolve(spec)
    run_dir = Path(run_dir) if run_dir is not None else None
    trainer_state = None
    if run_dir is not None:
        done = _finished(run_dir, spec)
        if done is not None:
            return done
    if data is None:  # before anything is written: missing data leaves no half folder
        data = _load_data(res, data_root)
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        ckpt = run_dir / CHECKPOINT
        if ckpt.is_file():
            trainer_state = torch.load(ckpt, map_location=res.device, weights_only=False)
            if trainer_state.get("run_id") != spec.run_id():
                raise GanZooError(f"{run_dir} holds a different run ({trainer_state.get('run_id')}); "
                                  "choose another --out or remove that folder")
        write_json_atomic(run_dir / "spec.json", spec.to_dict())
    trainer = _Trainer(res, data, run_dir, progress, accel)
    if trainer_state is not None:
        trainer.load(trainer_state)
    # the 2-D mixtures' small MLPs gain nothing from intra-op threads and lose a lot
    # to thread hand-offs when the machine is busy: train them on one thread
    with torch_threads(1 if data.kind == "points" and res.device == "cpu" else None):
        result = trainer.run()
    if run_dir is not None:
        if artifacts:
            from gan_zoo.runs import write_run_pictures

            write_run_pictures(run_dir, trainer.g, trainer.d, res, data, trainer.log)
        write_json_atomic(run_dir / "result.json", asdict(result))
    result.generator, result.discriminator = trainer.g, trainer.d  # for callers in-process
    return result


def _finished(run_dir: Path, spec: RunSpec) -> RunResult | None:
    """The stored result of this very spec in ``run_dir``, if the run ended."""
    path = run_dir / "result.json"
    if not path.is_file() or not (run_dir / "spec.json").is_file():
        return None
    stored = RunSpec.from_dict(read_json(run_dir / "spec.json"))
    if stored.run_id() != spec.run_id():
        raise GanZooError(f"{run_dir} holds a different run ({stored.run_id()}); "
                          "choose another --out or remove that folder")
    data = read_json(path)
    if data.get("status") not in ("ok", "diverged"):
        return None
    return RunResult(**{k: v for k, v in data.items() if k in RunResult.__dataclass_fields__})


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run a block with ``n`` intra-op threads (None: leave as is)."""
    if not n:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
