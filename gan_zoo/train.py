"""One training loop for every objective: :class:`Trainer` (steppable) and
``train_run(spec, run_dir) -> RunResult`` (a whole run in a folder).

Objectives and regularizers plug in through their hooks; the loop has no per-loss
branch: WGAN-GP's penalty and WGAN's weight clipping are implied regularizers
(:func:`gan_zoo.regularizers.implied_regularizers`). ``train_run`` writes
``spec.json`` first, ``checkpoints/last.pt`` and ``log.csv`` every
``checkpoint_every`` steps, then the pictures (:mod:`gan_zoo.pictures`) and
``result.json`` (:func:`gan_zoo.runs.write_result`) from the state the trainer
returns. Calling it again with the same spec and folder resumes from the last
checkpoint, bitwise identical on CPU.

One generator step, in order:
  1. ``n_critic`` times: sample reals, draw z, G(z) without grad; hooks may change
     D's inputs and targets; D's loss = objective + hook penalties; step D; hooks
     after the step (weight clipping).
  2. draw z, G(z) with grad through a frozen D; G's loss; step G. Objectives whose
     G loss reads real logits see the last critic batch again (``g_reals="reuse"``,
     the behaviour every shipped result was made with) or a fresh batch
     (``g_reals="fresh"``).
  3. at log steps: one host sync to log losses, D outputs, gradient norms, and to
     stop with status ``diverged`` on a non-finite loss.

Speed switches (:class:`Accel`) change how the networks run, never what the loop
computes: bf16 autocast around the network forward passes only (losses, penalties and
optimizer state stay fp32), channels-last memory layout, and ``torch.compile``. On a
GPU channels-last is on, and bf16 autocast with ``precision="bf16"``
(:mod:`gan_zoo.precision`); on the CPU all are off. Nothing inside a step waits for the
device: the finiteness check syncs every step on the CPU (where it costs nothing); on a
GPU a device-side flag records the first non-finite step exactly, read at log steps.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_zoo.accel import Accel, machine
from gan_zoo.checkpoints import resume_state, rng_bytes
from gan_zoo.data import Dataset, get_dataset
from gan_zoo.errors import GanZooError
from gan_zoo.precision import accel_for, check_precision, set_backend_flags
from gan_zoo.io import save_torch_atomic, write_json_atomic, write_text_atomic
from gan_zoo.regularizers import StepContext
from gan_zoo.resolve import Resolved, build_networks, resolve
from gan_zoo.runs import (CHECKPOINT, DIVERGED, LOG_CSV, LOG_COLUMNS, OK, PRUNED, SPEC_JSON, RunResult,
                          check_same_run, training_ended, write_result)
from gan_zoo.spec import RunSpec
from gan_zoo.trainlog import LogWindow, ScoreCurve

__all__ = ["Trainer", "StepOutcome", "Accel", "train_run", "torch_threads", "G_REALS"]

#: where the G step of an objective that reads real logits gets its reals
G_REALS = ("reuse", "fresh")


def _optimizer(params, res: Resolved, lr: float) -> torch.optim.Optimizer:
    if res.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(res.beta1, res.beta2))


def _grad_norm(module: nn.Module) -> Tensor:
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    return nn.utils.get_total_norm(grads) if grads else torch.zeros(())


@dataclass
class StepOutcome:
    """How a call of :meth:`Trainer.run` ended."""

    status: str  # ok | diverged | pruned
    reason: str = ""
    step: int | None = None  # the first step with a non-finite loss (diverged)


class Trainer:
    """The state of one run (networks, optimizers, random streams, log) and the loop.

    ``run`` is a resolved run or a spec; ``data`` the training set (loaded from
    ``data_root`` when not given); with ``run_dir`` the trainer checkpoints there and
    writes ``log.csv``. ``g_reals``: ``"reuse"`` (default) lets the G step of an
    objective that reads real logits see the last critic batch again, the behaviour
    the shipped results were made with; ``"fresh"`` draws it a new batch.
    """

    def __init__(self, run: Resolved | RunSpec, data: Dataset | None = None, *,
                 run_dir: str | Path | None = None, data_root: str | Path | None = None,
                 accel: Accel | None = None, g_reals: str = "reuse", evaluation=None):
        res = resolve(run) if isinstance(run, RunSpec) else run
        if g_reals not in G_REALS:
            raise GanZooError(f"unknown g_reals {g_reals!r}; valid: {', '.join(G_REALS)}")
        if data is None:
            data = get_dataset(res.spec.dataset, root=data_root, train=True, device=res.device,
                               seed=res.spec.seed)
        self.res, self.data, self.g_reals = res, data, g_reals
        self.run_dir = Path(run_dir) if run_dir is not None else None
        spec, dev = res.spec, res.device
        check_precision(spec.precision, dev)
        set_backend_flags(spec.precision, dev)
        self.accel = accel_for(spec.precision, dev) if accel is None else accel
        self.hooks = res.hooks  # implied regularizers first, then the named ones
        torch.manual_seed(spec.seed)  # network init, dropout and spectral-norm vectors
        self.num_classes = data.num_classes if spec.conditional else 0
        self.g, self.d = build_networks(res, data.shape, data.num_classes)
        self.net_device = torch.device(dev)  # where the networks, and so the latents, live
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
        # data indices and noise come from CPU streams (as data.py promises), so a run draws
        # the same batches and latents on any device; the regularizers' stream is the device's
        self.data_gen = torch.Generator(device="cpu").manual_seed(spec.seed * 3 + 1)
        self.noise_gen = torch.Generator(device="cpu").manual_seed(spec.seed * 3 + 2)
        self.reg_gen = torch.Generator(device=dev).manual_seed(spec.seed * 3 + 3)
        self.steps_done = 0
        self.d_steps = 0
        self.wall = 0.0
        self.log: list[dict] = []
        # in-training score points (written to the run folder's CURVE_CSV)
        self.curve = ScoreCurve(spec, data.kind, dev, self.run_dir, data_root, evaluation=evaluation)
        self.prob = res.objective.reports_probability
        #: check the losses' finiteness with a host sync every step (free on the CPU); on a
        #: GPU a device-side flag and step counter record the first bad step exactly and
        #: the host reads them at log steps only
        self.sync_every_step: bool | None = None  # None: by the run's device
        # the open logging window (checkpointed: a resumed run logs the same means)
        self.window = LogWindow(torch.sigmoid if self.prob else None)

    # -- checkpoints ----------------------------------------------------------

    def state(self) -> dict:
        st = {
            "g": self.g.state_dict(), "d": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "data_gen": self.data_gen.get_state(), "noise_gen": self.noise_gen.get_state(),
            "reg_gen": self.reg_gen.get_state(), "torch_rng": torch.get_rng_state(),
            "step": self.steps_done, "d_steps": self.d_steps, "wall": self.wall, "log": self.log,
            "log_window": self.window.state(),
            "run_id": self.res.spec.run_id(),
        }
        if _on_cuda(self.res.device):  # never initialise CUDA in a CPU run
            st["cuda_rng"] = torch.cuda.get_rng_state(torch.device(self.res.device))
        return st

    def load(self, st: dict) -> None:
        """Restore a state read by :func:`gan_zoo.checkpoints.read_checkpoint` (CPU tensors,
        wherever they were saved): network and optimizer tensors follow the parameters'
        device (Adam's step counters stay on the CPU), random states become CPU bytes."""
        self.g.load_state_dict(st["g"])
        self.d.load_state_dict(st["d"])
        self.opt_g.load_state_dict(st["opt_g"])
        self.opt_d.load_state_dict(st["opt_d"])
        self.data_gen.set_state(rng_bytes(st["data_gen"]))
        self.noise_gen.set_state(rng_bytes(st["noise_gen"]))
        self.reg_gen.set_state(rng_bytes(st["reg_gen"]))
        torch.set_rng_state(rng_bytes(st["torch_rng"]))
        cuda_rng = st.get("cuda_rng")
        if _on_cuda(self.res.device) and isinstance(cuda_rng, Tensor):
            torch.cuda.set_rng_state(rng_bytes(cuda_rng), torch.device(self.res.device))
        self.steps_done, self.d_steps, self.wall, self.log = st["step"], st["d_steps"], st["wall"], st["log"]
        self.window.load(st.get("log_window"))

    def save_checkpoint(self) -> None:
        if self.run_dir is not None:
            save_torch_atomic(self.state(), self.run_dir / CHECKPOINT)
            self.write_log()

    def write_log(self) -> None:
        """``log.csv``: the columns of LOG_COLUMNS, NaN as an empty cell."""
        if self.run_dir is None:
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(LOG_COLUMNS)
        for row in self.log:
            writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v
                             for v in (row.get(c, math.nan) for c in LOG_COLUMNS)])
        write_text_atomic(self.run_dir / LOG_CSV, buf.getvalue())

    # -- one step -------------------------------------------------------------

    def _z(self, n: int) -> Tensor:
        z = torch.randn(n, self.res.spec.nz, generator=self.noise_gen)  # the CPU stream
        return z if self.net_device.type == "cpu" else z.to(self.net_device, non_blocking=True)

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

    def _reals(self, bs: int) -> tuple[Tensor, Tensor | None]:
        xr, yr = self.data.sample(bs, self.data_gen)
        # conditional runs ask G for the labels of the real batch, so fakes follow
        # the data's class balance and each penalty pair shares one label
        return xr, (yr if self.num_classes else None)

    def step(self, *, log: bool = False) -> dict[str, Tensor]:
        """One generator step (``n_critic`` critic steps first). ``log``: also measure
        the gradient norms (D's: the mean over its updates of this step). Returns the
        step's detached figures."""
        if self.res.spec.updates == "simultaneous":
            return self._simultaneous_step(log=log)
        res, obj, hooks = self.res, self.res.objective, self.hooks
        ctx = StepContext(self.steps_done, res.spec.steps, self.reg_gen)
        bs = res.spec.batch_size * res.pack  # a packed D (pac) takes pack samples per example
        g, d = self._G, self._D
        self.d.requires_grad_(True)
        d_grad = None
        for _ in range(res.n_critic):
            xr, yr = self._reals(bs)
            yf = yr
            z = self._z(bs)
            with torch.no_grad():
                xf = g(z, yf)
            d_loss, real_logits, fake_logits = self._d_loss(xr, yr, xf, yf, ctx)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            if log:  # the mean over this step's critic updates
                norm = _grad_norm(self.d) / res.n_critic
                d_grad = norm if d_grad is None else d_grad + norm
            self.opt_d.step()
            for reg in hooks:
                reg.after_d_step(self.d)
            self.d_steps += 1

        # generator step through a frozen D (no weight gradients for D)
        self.d.requires_grad_(False)
        if obj.g_uses_real and self.g_reals == "fresh":
            xr, yr = self._reals(bs)
            yf = yr
        z = self._z(bs)
        xf = g(z, yf)
        xr_in, xf_in = xr, xf
        for reg in hooks:
            xr_in, xf_in = reg.d_inputs(xr_in, xf_in, ctx)
        fake_logits_g = d(xf_in, yf)
        # relativistic objectives compare with the current D's view of the reals
        real_logits_g = d(xr_in, yr) if obj.g_uses_real else real_logits.detach()
        g_loss = obj.g_loss(real_logits_g, fake_logits_g)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        g_grad = _grad_norm(self.g) if log else None
        self.opt_g.step()
        self.steps_done += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "real_logits": real_logits.detach(), "fake_logits": fake_logits.detach(),
                "d_grad": d_grad, "g_grad": g_grad}

    def _d_loss(self, xr: Tensor, yr: Tensor | None, xf: Tensor, yf: Tensor | None,
                ctx: StepContext) -> tuple[Tensor, Tensor, Tensor]:
        """D's loss on one batch of reals and fakes: the hooks' inputs and targets, the
        objective, then the hooks' penalties. Returns (loss, real logits, fake logits)."""
        obj, hooks = self.res.objective, self.hooks
        xr_in, xf_in = xr, xf
        for reg in hooks:
            xr_in, xf_in = reg.d_inputs(xr_in, xf_in, ctx)
        real_logits = self._D(xr_in, yr)
        fake_logits = self._D(xf_in, yf)
        real_t = fake_t = None
        if any(r.label_trick for r in hooks):
            real_t, fake_t = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
            for reg in hooks:
                real_t, fake_t = reg.targets(real_t, fake_t, ctx)
        d_loss = obj.d_loss(real_logits, fake_logits, real_t, fake_t)
        # penalties see the unperturbed samples, paired by batch position
        for reg in hooks:
            extra = reg.d_penalty(self._critic(yr), xr, xf.detach(), ctx)
            if extra is not None:
                d_loss = d_loss + extra
        return d_loss, real_logits, fake_logits

    def _simultaneous_step(self, *, log: bool) -> dict[str, Tensor]:
        """One step of simultaneous gradient descent (``updates="simultaneous"``): one
        batch of reals and one of fakes, both players' gradients taken at the same
        parameters (D's of its loss, G's of its loss, G's fakes kept in the graph), then
        both updates. ALI's and PacGAN's released code train this way; Mescheder et al.
        2017 (arXiv:1705.10461) contrast it with the alternating default. One critic
        update per step (resolve refuses another n_critic)."""
        res, obj, hooks = self.res, self.res.objective, self.hooks
        ctx = StepContext(self.steps_done, res.spec.steps, self.reg_gen)
        bs = res.spec.batch_size * res.pack
        self.d.requires_grad_(True)
        xr, yr = self._reals(bs)
        yf = yr
        xf = self._G(self._z(bs), yf)  # with G's graph: G's gradient comes from this batch
        d_loss, real_logits, fake_logits = self._d_loss(xr, yr, xf, yf, ctx)
        g_loss = obj.g_loss(real_logits, fake_logits)
        d_params = [p for p in self.d.parameters() if p.requires_grad]
        g_params = [p for p in self.g.parameters() if p.requires_grad]
        d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
        g_grads = torch.autograd.grad(g_loss, g_params)
        for p, grad in zip(d_params, d_grads):
            p.grad = grad
        for p, grad in zip(g_params, g_grads):
            p.grad = grad
        d_grad = _grad_norm(self.d) if log else None
        g_grad = _grad_norm(self.g) if log else None
        self.opt_d.step()
        self.opt_g.step()
        for reg in hooks:
            reg.after_d_step(self.d)
        self.d_steps += 1
        self.steps_done += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "real_logits": real_logits.detach(), "fake_logits": fake_logits.detach(),
                "d_grad": d_grad, "g_grad": g_grad}

    def _critic(self, labels):
        """D as a function of x alone, for the penalty (a pair shares its label)."""
        if labels is None:
            return self.d
        return lambda x: self.d(x, labels)

    # -- the loop -------------------------------------------------------------

    def run(self, steps: int | None = None, *, log_every: int | None = None,
            progress: bool | None = False, on_point=None) -> StepOutcome:
        """Train ``steps`` more generator steps (None: until the spec's ``steps``, or
        until its ``wall_budget_s`` training seconds are spent).

        Logs every ``log_every`` steps (default the spec's) and at the last step of the
        call, each row the mean over the steps since the previous row; checkpoints every
        ``checkpoint_every`` steps when there is a run folder; scores the spec's
        ``curve_points`` in-training points (their time is not training time). A
        non-finite loss stops the call with status ``diverged``. ``on_point(step, row)``
        is called with each new score point (``row``: its scores); when it returns True
        the call stops there with status ``pruned``.
        """
        spec, device = self.res.spec, self.res.device
        total = spec.steps if steps is None else self.steps_done + steps
        log_every = log_every or spec.log_every
        budget = spec.wall_budget_s
        outcome = StepOutcome(OK)
        bar = _progress(total, self.steps_done, spec, progress)
        window = self.window
        self.curve.load(self.steps_done)
        self.g.train()
        self.d.train()
        t0 = time.perf_counter()
        sync = device == "cpu" if self.sync_every_step is None else self.sync_every_step
        dev_step = first_bad = None  # device-side: the step counter and the first bad step
        try:
            while self.steps_done < total:
                try:
                    out = self.step(log=True)
                except RuntimeError as exc:  # an update too large for the weights' type
                    if "overflow" not in str(exc).lower():
                        raise
                    step = self.steps_done + 1
                    outcome = StepOutcome(DIVERGED, f"numeric overflow at step {step} "
                                          f"({' '.join(str(exc).split())[:120]})", step=step)
                    if window.sums:
                        self._append_log(window, t0)
                    break
                window.add(out)
                elapsed = self.wall + time.perf_counter() - t0
                out_of_time = budget is not None and elapsed >= budget
                end = out_of_time or self.steps_done == total
                log = self.steps_done % log_every == 0 or end
                finite = torch.isfinite(out["d_loss"] + out["g_loss"])
                bad_step = None
                if sync:
                    bad_step = None if bool(finite) else self.steps_done
                else:
                    if dev_step is None:
                        dev_step = torch.full((), self.steps_done, dtype=torch.long, device=finite.device)
                        first_bad = torch.full((), -1, dtype=torch.long, device=finite.device)
                    else:
                        dev_step += 1
                    first_bad = torch.where(~finite & (first_bad < 0), dev_step, first_bad)
                    if log:
                        k = int(first_bad.item())  # the one host sync, at a log step
                        bad_step = k if k >= 0 else None
                if bad_step is not None:
                    outcome = StepOutcome(DIVERGED, f"non-finite loss at step {bad_step} "
                                          f"(d_loss={out['d_loss'].item():.4g}, g_loss={out['g_loss'].item():.4g})",
                                          step=bad_step)
                    self._append_log(window, t0)
                    break
                if log:
                    self._append_log(window, t0)
                    if bar is not None:
                        bar.set_postfix(d=f"{self.log[-1]['d_loss']:.3f}", g=f"{self.log[-1]['g_loss']:.3f}")
                if bar is not None:
                    bar.update(1)
                if self.curve.due(self.steps_done, elapsed, end):
                    self.wall += time.perf_counter() - t0
                    self.curve.score(self.g, self.num_classes, self.steps_done, self.wall)
                    t0 = time.perf_counter()
                    row = self.curve.rows[-1] if self.curve.rows else None
                    if (on_point is not None and not end and row is not None and row["step"] == self.steps_done
                            and on_point(self.steps_done, row)):
                        outcome = StepOutcome(PRUNED, f"pruned at step {self.steps_done} of {total} "
                                              "(successive halving)", step=self.steps_done)
                        break
                if out_of_time:
                    break
                if self.steps_done % spec.checkpoint_every == 0 and self.steps_done < total:
                    self.wall += time.perf_counter() - t0
                    self.save_checkpoint()
                    t0 = time.perf_counter()
        finally:
            if bar is not None:
                bar.close()
        self.wall += time.perf_counter() - t0
        self.save_checkpoint()
        return outcome

    def result(self, outcome: StepOutcome) -> RunResult:
        """The run's result record after ``outcome``."""
        res = self.res
        return RunResult.ended(
            res.spec.run_id(), outcome.status, reason=outcome.reason, diverged_step=outcome.step,
            steps=self.steps_done, d_steps=self.d_steps, wall_s=self.wall, device=res.device,
            backbone=res.backbone, resolved={**res.record(), "accel": asdict(self.accel)},
            run_dir=self.run_dir, precision=res.spec.precision)

    def _append_log(self, window: LogWindow, t0: float) -> None:
        """One log.csv row: the means over the steps since the previous row (one host sync)."""
        row = {"step": self.steps_done, **window.means(),
               "wall_s": round(self.wall + time.perf_counter() - t0, 4)}
        self.log.append(row)


def _on_cuda(device: str) -> bool:
    return str(device).startswith("cuda")


def _progress(total: int, done: int, spec: RunSpec, progress: bool | None):
    """A tqdm bar on a terminal (``progress=None``), never when ``progress`` is False."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=f"{spec.loss} {spec.dataset}", unit="step",
                dynamic_ncols=True, leave=False)


def train_run(
    spec: RunSpec,
    run_dir: str | Path | None = None,
    *,
    data_root: str | Path | None = None,
    data: Dataset | None = None,
    progress: bool | None = None,
    artifacts: bool = True,
    accel: Accel | None = None,
    sweep: dict | None = None,
    announce=None,
    evaluation=None,
    on_point=None,
) -> RunResult:
    """Train one combination; write it to ``run_dir`` (resuming from its checkpoint).

    Returns a RunResult; a non-finite loss ends the run with status ``diverged``
    instead of raising. Bad specs raise GanZooError before any training.
    ``accel`` sets the speed switches (default: those of the spec's precision on the
    device, :func:`gan_zoo.precision.accel_for`); ``evaluation`` (a
    :class:`gan_zoo.metrics.EvalSettings`: extractor, weights, cache folder) scores the
    in-training points as the final scores are;
    ``sweep`` (the grid's ``--set`` values) is recorded in ``result.json``;
    ``announce()`` is called once the checkpoint has been read and training starts;
    ``on_point`` (see :meth:`Trainer.run`) may stop the run at a score point (``pruned``).
    """
    res = resolve(spec)
    check_precision(spec.precision, res.device)
    run_dir = Path(run_dir) if run_dir is not None else None
    trainer_state = None
    if run_dir is not None:
        check_same_run(run_dir, spec.run_id())
        done = training_ended(run_dir, spec.run_id())
        if done is not None:
            return done
    if data is None:  # before anything is written: missing data leaves no half folder
        data = get_dataset(spec.dataset, root=data_root, train=True, device=res.device, seed=spec.seed)
    if run_dir is not None:
        trainer_state = resume_state(run_dir, run_dir / CHECKPOINT, spec.run_id())

    def new_trainer() -> Trainer:
        return Trainer(res, data, run_dir=run_dir, accel=accel, data_root=data_root,
                       evaluation=evaluation)

    with named_memory_errors(spec):  # networks too large to allocate: one line, nothing written
        trainer = new_trainer()
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_dir / SPEC_JSON, spec.to_dict())
    if trainer_state is not None:
        try:
            trainer.load(trainer_state)
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
            # read as a checkpoint, yet not this run's networks or optimizers: set aside
            # like a corrupt one, and the run starts again
            from gan_zoo.checkpoints import CorruptCheckpointError, set_aside_and_say

            set_aside_and_say(run_dir / CHECKPOINT, CorruptCheckpointError(
                f"{run_dir / CHECKPOINT} cannot be resumed ({' '.join(str(exc).split())[:160]})"))
            trainer = new_trainer()
    trainer.curve.load(trainer.steps_done)  # a bad score_curve.csv: one line, before the banner
    if announce is not None:
        announce()
    # the 2-D mixtures' small MLPs gain nothing from intra-op threads and lose a lot
    # to thread hand-offs when the machine is busy: train them on one thread
    with torch_threads(1 if data.kind == "points" and res.device == "cpu" else None), \
            named_memory_errors(spec):
        outcome = trainer.run(progress=progress, on_point=on_point)
        ran_on = machine(res.device)
    result = trainer.result(outcome)
    result.sweep = dict(sweep or {})
    result.machine = ran_on
    if run_dir is not None:
        if artifacts:
            from gan_zoo.pictures import write_run_pictures

            write_run_pictures(run_dir, trainer.g, trainer.d, res, data, trainer.log)
        write_result(run_dir, result)
    result.generator, result.discriminator = trainer.g, trainer.d  # for callers in-process
    return result


#: how torch and Python say an allocation failed
_MEMORY_WORDS = ("can't allocate memory", "out of memory", "not enough memory", "cannot allocate memory")


@contextlib.contextmanager
def named_memory_errors(spec: RunSpec):
    """An allocation that fails (a batch, width or latent size too large for this machine)
    becomes one line that says so and names the sizes, not a traceback."""
    try:
        yield
    except (MemoryError, RuntimeError) as exc:
        text = " ".join(str(exc).split())
        if not isinstance(exc, MemoryError) and not any(w in text.lower() for w in _MEMORY_WORDS):
            raise
        raise GanZooError(
            f"out of memory: this run does not fit on {spec.device} (batch_size={spec.batch_size}, "
            f"width={spec.width}, nz={spec.nz}): {text[:160] or type(exc).__name__}; choose smaller "
            "values") from None


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
