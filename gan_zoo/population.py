"""Population training: K runs of one objective trained together in one process.

Studies and searches are grids of small runs that differ only in seed and a few
hyperparameters. A *population* trains K such runs as one batched network: every
parameter of G and D is stacked along a leading member axis, the MLPs run as batched
matrix products (``baddbmm``) and the DCGANs as grouped convolutions (member k is group
k), so one kernel advances all K members. Autograd runs over the stacked tensors; the
members never mix (the loss that is differentiated is the sum of the members' losses,
and no operation reads across the member axis), so each member's gradient is its own.

What the members share (:func:`pack_key`): dataset, objective, regularizers and their
parameters, backbone and its sizes, batch size, ``n_critic``, optimizer kind, steps,
logging and checkpoint cadence, device and precision. What each keeps: its seed and so
its random streams (initial weights, data order, noise, the regularizers' draws and the
dropout masks: the same numbers its single run draws, from generators of its own), its
learning rates, Adam betas, weight-clipping bound and gradient-penalty weight (per-member
tensors broadcast over the member axis), and its run folder. A member whose loss turns
non-finite is stopped and recorded ``diverged`` at its own step; the others go on.

Every member is an ordinary run folder: ``spec.json``, ``log.csv``,
``checkpoints/last.pt`` in the single-run format (a member's checkpoint can be opened by
:func:`gan_zoo.runs.load_run`, and resumed by a single run or another population),
pictures and ``result.json`` written through :mod:`gan_zoo.runs`. ``result.json``
records the population under ``resolved["population"]`` (its id, size and the member's
place), which becomes the ``population`` column of ``runs.csv``. Killed at any moment, a
population resumes every member from its own checkpoint; members found at different
steps (a kill between two members' checkpoint writes) first catch up as a smaller
population.

What "equal" means. A population computes what the single runs compute, in a different
kernel layout: batched products and grouped convolutions may sum in another order, so
member k of a population equals its single run *to float rounding* (tests/test_population.py
compares a population of one and member k of a population of four with their single runs
over the first steps with ``torch.testing.assert_close``), and rounding differences grow
over a long run as they do between two machines. Bitwise reproducibility holds *within
one population layout*: the same members on the same device give the same numbers run
after run, killed and resumed or not. On a GPU, dropout masks come from each member's own
device generator rather than from ``F.dropout``'s stream: the same distribution, other
draws (results agree to seed spread, not to rounding).

What cannot be packed (:func:`refusal` says why, and the runner trains those runs
singly): wall-clock budgets (a member's share of a shared clock is not its own
budget), bf16 autocast, regularizers that change the networks (spectral norm's
parametrizations) or hook into D's update in ways other than the gradient penalty and
weight clipping, and networks with layers outside :data:`SUPPORTED_LAYERS`.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo import backbones
from gan_zoo.accel import Accel, machine
from gan_zoo.checkpoints import resume_state, rng_bytes
from gan_zoo.data import Dataset, get_dataset
from gan_zoo.errors import GanZooError
from gan_zoo.io import save_torch_atomic, write_json_atomic
from gan_zoo.precision import check_precision, set_backend_flags
from gan_zoo.regularizers import GradientPenalty, Regularizer, StepContext, WeightClipping
from gan_zoo.resolve import Resolved, build_networks, resolve
from gan_zoo.runs import (CHECKPOINT, DIVERGED, OK, SPEC_JSON, RunResult, check_same_run,
                          training_ended, write_result)
from gan_zoo.spec import RunSpec
from gan_zoo.train import G_REALS, StepOutcome, Trainer, torch_threads
from gan_zoo.trainlog import LogWindow, ScoreCurve

__all__ = ["Population", "train_population", "refusal", "pack_key", "check_packable",
           "population_id", "PackRefused", "SUPPORTED_LAYERS", "MEMBER_FIELDS", "POPULATION"]

#: ``result.json["resolved"]`` key recording the population a run trained in
POPULATION = "population"
#: spec fields each member keeps for itself; every other field is shared
MEMBER_FIELDS = ("seed", "lr_g", "lr_d", "beta1", "beta2", "clip")
#: per-member regularizer parameters (``reg_params`` keys); the others are shared
MEMBER_REG_PARAMS = ("gp.weight",)
#: layer types a packed network may hold (exact types: a subclass may compute otherwise)
SUPPORTED_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm1d, nn.BatchNorm2d,
                    nn.GroupNorm, nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity,
                    backbones.Dropout, backbones.AlwaysDropout)
#: precisions a population trains in (bf16 autocast is not packed)
PACK_PRECISIONS = ("fp32", "tf32")
#: above this many bytes of per-member training sets (generated datasets are drawn per
#: seed), a population is refused
MAX_MEMBER_DATA_BYTES = 2 * 1024**3

ADAM_EPS = 1e-8  # torch.optim.Adam's default, as the single run builds its optimizers
RMSPROP_ALPHA, RMSPROP_EPS = 0.99, 1e-8  # torch.optim.RMSprop's defaults


class PackRefused(GanZooError):
    """These runs cannot train as one population (the message says why)."""


# -- what can be packed --------------------------------------------------------------


def _overrides(reg: Regularizer, hook: str) -> bool:
    return getattr(type(reg), hook) is not getattr(Regularizer, hook)


def refusal(run: Resolved | RunSpec) -> str | None:
    """Why this run cannot train in a population (None: it can)."""
    res = resolve(run) if isinstance(run, RunSpec) else run
    spec = res.spec
    if spec.wall_budget_s is not None:
        return "a wall-clock budget (--match wall) is a run's own clock; a population shares one"
    if getattr(spec, "updates", None) not in (None, "alternating"):
        return f"updates={spec.updates} is not packed (populations take alternating updates)"
    if spec.precision not in PACK_PRECISIONS:
        return f"precision {spec.precision} (bf16 autocast) is not packed; packed precisions: {', '.join(PACK_PRECISIONS)}"
    for reg in res.hooks:
        if _overrides(reg, "wrap_networks"):
            return f"regularizer {reg.name} changes the networks' layers"
        if _overrides(reg, "d_penalty") and not isinstance(reg, GradientPenalty):
            return f"regularizer {reg.name} adds a penalty other than the gradient penalty"
        if _overrides(reg, "after_d_step") and not isinstance(reg, WeightClipping):
            return f"regularizer {reg.name} changes D after its updates other than by weight clipping"
    from gan_zoo.data import dataset_info

    info = dataset_info(spec.dataset)
    with torch.random.fork_rng(devices=[]):
        try:
            g, d = build_networks(_on_cpu(res), info.shape, info.num_classes)
        except GanZooError as exc:
            return str(exc)
    for net in (g, d):
        why = _layers_refusal(net)
        if why:
            return why
    return None


def _on_cpu(res: Resolved) -> Resolved:
    """The same settings with the networks built on the CPU (a layer check only)."""
    import dataclasses

    return dataclasses.replace(res, device="cpu")


def _layers_refusal(net: nn.Module) -> str | None:
    if type(net) not in (backbones.Generator, backbones.Discriminator) or type(net.body) is not nn.Sequential:
        return f"network {type(net).__name__} is not a backbone's plain G/D pair"
    for layer in net.body:
        kind = type(layer)
        if kind not in SUPPORTED_LAYERS:
            return f"layer {kind.__name__} is not packed (packed layers: {', '.join(t.__name__ for t in SUPPORTED_LAYERS)})"
        if kind in (nn.Conv2d, nn.ConvTranspose2d) and (layer.groups != 1 or layer.padding_mode != "zeros"):
            return f"{kind.__name__} with groups or padding mode {layer.padding_mode} is not packed"
        if kind in (nn.BatchNorm1d, nn.BatchNorm2d) and not (layer.affine and layer.track_running_stats
                                                              and layer.momentum is not None):
            return "batch norm without affine weights, running statistics or a momentum is not packed"
        if kind is nn.GroupNorm and (not layer.affine or not net.conv):
            return "group norm outside a convolutional network is not packed"
        if kind is nn.BatchNorm2d and not net.conv or kind is nn.BatchNorm1d and net.conv:
            return f"{kind.__name__} in this network is not packed"
    return None


def pack_key(run: Resolved | RunSpec) -> str:
    """Runs with the same key can train as one population (when :func:`refusal` is None)."""
    res = resolve(run) if isinstance(run, RunSpec) else run
    spec = res.spec.to_dict()
    shared = {k: v for k, v in spec.items() if k not in MEMBER_FIELDS and k != "reg_params"}
    shared["reg_params"] = {k: v for k, v in sorted(res.spec.reg_params.items()) if k not in MEMBER_REG_PARAMS}
    shared["resolved"] = {"optimizer": res.optimizer, "n_critic": res.n_critic, "clip_on": bool(res.clip),
                          "backbone": res.backbone, "d_norm": res.d_norm, "width": res.width,
                          "d_dropout": res.d_dropout, "g_dropout": res.g_dropout, "device": res.device}
    import json

    return json.dumps(shared, sort_keys=True, default=str)


def check_packable(runs: Sequence[Resolved]) -> None:
    """Raise :class:`PackRefused` unless these runs can train as one population."""
    if not runs:
        raise PackRefused("a population needs at least one run")
    ids = [r.spec.run_id() for r in runs]
    if len(set(ids)) != len(ids):
        raise PackRefused("a population cannot hold the same run twice")
    for res in runs:
        why = refusal(res)
        if why:
            raise PackRefused(f"{res.spec.run_id()} cannot be packed: {why}")
    key = pack_key(runs[0])
    for res in runs[1:]:
        if pack_key(res) != key:
            raise PackRefused(f"{res.spec.run_id()} and {runs[0].spec.run_id()} differ beyond "
                              f"{', '.join(MEMBER_FIELDS)} and {', '.join(MEMBER_REG_PARAMS)}; "
                              "they cannot share a population")


def population_id(run_ids: Sequence[str]) -> str:
    """A population's name: a hash of its members' run ids."""
    return "pop-" + hashlib.sha256("\n".join(sorted(run_ids)).encode()).hexdigest()[:10]


# -- stacked networks ----------------------------------------------------------------


def _member_view(t: Tensor, like: Tensor) -> Tensor:
    """A per-member vector ``(K,)`` shaped to broadcast over ``like`` ``(K, ...)``."""
    return t.view((t.shape[0],) + (1,) * (like.dim() - 1))


class StackedNet:
    """K copies of one backbone network (G or D) with stacked parameters and buffers.

    Activations of convolutional bodies live as ``(B, K*C, H, W)`` (member k owns channel
    block k, so a grouped convolution with ``groups=K`` is K separate convolutions, batch
    norm's per-channel statistics are per member, and group norm with ``K * groups``
    groups normalises each member alone); MLP activations live as ``(K, B, F)``.
    Inputs and outputs have the member axis first: G ``(K, B, nz) -> (K, B, *shape)``,
    D ``(K, B, *shape) -> (K, B)``.
    """

    def __init__(self, modules: Sequence[nn.Module]):
        t = modules[0]
        self.template = t
        self.is_g = isinstance(t, backbones.Generator)
        self.conv, self.num_classes, self.shape = t.conv, t.num_classes, tuple(t.shape)
        self.pack = int(getattr(t, "pack", 1))  # a packing D (pac) judges groups of samples
        self.layers = list(t.body)
        self.params: dict[str, Tensor] = {
            n: torch.stack([dict(m.named_parameters())[n].detach() for m in modules]).clone().requires_grad_(True)
            for n, _ in t.named_parameters()}
        self.buffers: dict[str, Tensor] = {
            n: torch.stack([dict(m.named_buffers())[n].detach() for m in modules]).clone()
            for n, _ in t.named_buffers()}
        self.keys = list(t.state_dict().keys())

    @property
    def k(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def param_list(self) -> list[Tensor]:
        return list(self.params.values())

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def select(self, idx: Tensor) -> None:
        """Keep the members at positions ``idx`` (a diverged member leaves the stack)."""
        self.params = {n: p.detach()[idx].clone().requires_grad_(True) for n, p in self.params.items()}
        self.buffers = {n: b[idx].clone() for n, b in self.buffers.items()}

    def member_state(self, k: int) -> OrderedDict:
        """Member k's ``state_dict`` (the single-run module's keys, cloned tensors)."""
        out = OrderedDict()
        for key in self.keys:
            src = self.params.get(key)
            src = self.buffers[key] if src is None else src
            out[key] = src[k].detach().clone()
        return out

    def grad_norms(self) -> Tensor:
        """Each member's total gradient 2-norm, as ``nn.utils.get_total_norm`` takes it."""
        norms = [torch.linalg.vector_norm(p.grad.detach().reshape(p.shape[0], -1), 2, dim=1)
                 for p in self.params.values() if p.grad is not None]
        if not norms:
            return torch.zeros(self.k)
        return torch.linalg.vector_norm(torch.stack(norms, dim=1), 2, dim=1)

    def __call__(self, x: Tensor, labels: Tensor | None, drop_gens: Sequence[torch.Generator],
                 *, frozen: bool = False) -> Tensor:
        P = {n: p.detach() for n, p in self.params.items()} if frozen else self.params
        K = self.k
        if self.is_g:
            z = x
            if self.num_classes:
                z = torch.cat([z, F.one_hot(labels.long(), self.num_classes).float()], dim=2)
            B = z.shape[1]
            h = z.transpose(0, 1).reshape(B, K * z.shape[2], 1, 1) if self.conv else z
            h = self._body(h, P, K, drop_gens)
            if self.conv:
                return h.reshape(B, K, *self.shape).transpose(0, 1)
            return h.reshape(K, B, *self.shape)
        B = x.shape[1]
        if not self.conv:
            x = x.reshape(K, B, -1)
        if self.num_classes:
            onehot = F.one_hot(labels.long(), self.num_classes).to(x.dtype)
            if self.conv:
                onehot = onehot[..., None, None].expand(-1, -1, -1, *x.shape[-2:])
            x = torch.cat([x, onehot], dim=2)
        if self.pack > 1:  # each member's consecutive samples side by side, as Discriminator
            B //= self.pack
            x = x.reshape(K, B, self.pack * x.shape[2], *x.shape[3:])
        h = x.transpose(0, 1).reshape(B, K * x.shape[2], *x.shape[3:]) if self.conv else x
        h = self._body(h, P, K, drop_gens)
        return h.reshape(B, K).t() if self.conv else h.reshape(K, B)

    def _body(self, h: Tensor, P: dict, K: int, drop_gens) -> Tensor:
        for i, layer in enumerate(self.layers):
            pre = f"body.{i}."
            kind = type(layer)
            if kind is nn.Linear:
                w, b = P[pre + "weight"], P.get(pre + "bias")
                h = torch.bmm(h, w.transpose(1, 2)) if b is None else torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            elif kind is nn.Conv2d:
                w, b = P[pre + "weight"], P.get(pre + "bias")
                h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), None if b is None else b.reshape(-1),
                             layer.stride, layer.padding, layer.dilation, K)
            elif kind is nn.ConvTranspose2d:
                w, b = P[pre + "weight"], P.get(pre + "bias")
                h = F.conv_transpose2d(h, w.reshape(-1, *w.shape[2:]), None if b is None else b.reshape(-1),
                                       layer.stride, layer.padding, layer.output_padding, K, layer.dilation)
            elif kind in (nn.BatchNorm1d, nn.BatchNorm2d):
                rm, rv = self.buffers[pre + "running_mean"], self.buffers[pre + "running_var"]
                args = (rm.view(-1), rv.view(-1), P[pre + "weight"].reshape(-1), P[pre + "bias"].reshape(-1))
                if kind is nn.BatchNorm2d:
                    h = F.batch_norm(h, *args, True, layer.momentum, layer.eps)
                else:  # (K, B, F) -> (B, K*F): one channel per member feature
                    B, Fdim = h.shape[1], h.shape[2]
                    flat = h.transpose(0, 1).reshape(B, K * Fdim)
                    h = F.batch_norm(flat, *args, True, layer.momentum, layer.eps).reshape(B, K, Fdim).transpose(0, 1)
                self.buffers[pre + "num_batches_tracked"].add_(1)
            elif kind is nn.GroupNorm:
                h = F.group_norm(h, K * layer.num_groups, P[pre + "weight"].reshape(-1),
                                 P[pre + "bias"].reshape(-1), layer.eps)
            elif kind is nn.LeakyReLU:
                h = F.leaky_relu(h, layer.negative_slope)
            elif kind is nn.ReLU:
                h = F.relu(h)
            elif kind is nn.Tanh:
                h = torch.tanh(h)
            elif kind is nn.Sigmoid:
                h = torch.sigmoid(h)
            elif kind in (backbones.Dropout, backbones.AlwaysDropout):
                h = self._dropout(h, layer.p, K, drop_gens)
            elif kind is nn.Identity:
                pass
            else:  # refusal() keeps such networks out
                raise PackRefused(f"layer {kind.__name__} is not packed")
        return h

    def _dropout(self, h: Tensor, p: float, K: int, gens) -> Tensor:
        """Each member's mask drawn from its own stream exactly as
        :func:`gan_zoo.backbones._dropout` draws it (a float32 uniform against ``p``)."""
        if p == 0.0:
            return h
        if self.conv:  # (B, K*C, H, W): member k's (B, C, H, W) block
            shape = (h.shape[0], h.shape[1] // K, *h.shape[2:])
            u = torch.cat([torch.rand(shape, generator=g, device=g.device) for g in gens], dim=1)
        else:
            shape = tuple(h.shape[1:])
            u = torch.stack([torch.rand(shape, generator=g, device=g.device) for g in gens])
        keep = u.to(h.device).ge_(p).mul_(1.0 / (1.0 - p))
        return h * keep.to(h.dtype)


# -- per-member optimizers --------------------------------------------------------------


class StackedOptimizer:
    """Adam or RMSprop over stacked parameters with one learning rate (and Adam betas)
    per member.

    Not ``torch.optim``: it takes one learning rate and one betas pair per parameter
    group, and a group holds whole tensors, while one stacked tensor holds the parameters
    of K members with learning rates of their own. The arithmetic follows torch.optim's
    single-tensor implementations (the CPU default) op for op, with the scalars turned
    into per-member tensors; bias corrections are taken in float64 on the device (no
    host round trip) and cast to float32 as torch casts its Python scalars.
    """

    def __init__(self, kind: str, shapes: list[torch.Size], device, lrs: list[float],
                 betas: list[tuple[float, float]] | None, states: list[dict], steps: list[int]):
        self.kind = kind
        dev = torch.device(device)
        self.lr = torch.tensor(lrs, dtype=torch.float64, device=dev)
        if kind == "adam":
            b = torch.tensor(betas, dtype=torch.float64, device=dev)
            self.b1, self.b2 = b[:, 0].contiguous(), b[:, 1].contiguous()
        self.steps = torch.tensor(steps, dtype=torch.float64, device=dev)
        names = ("exp_avg", "exp_avg_sq") if kind == "adam" else ("square_avg",)
        self.buf: dict[str, list[Tensor]] = {}
        for name in names:
            self.buf[name] = [torch.stack([st[i][name].to(dev) if i in st else torch.zeros(shape, device=dev)
                                           for st in states]) for i, shape in enumerate(shapes)]

    def select(self, idx: Tensor) -> None:
        self.lr, self.steps = self.lr[idx], self.steps[idx]
        if self.kind == "adam":
            self.b1, self.b2 = self.b1[idx], self.b2[idx]
        self.buf = {n: [t[idx].clone() for t in ts] for n, ts in self.buf.items()}

    def member_state(self, k: int, template: torch.optim.Optimizer) -> dict:
        """Member k's optimizer ``state_dict`` in torch.optim's format (``template``: an
        optimizer over member k's own module, for the param groups)."""
        sd = template.state_dict()
        step = float(self.steps[k].item())
        sd["state"] = {} if step == 0 else {
            i: {"step": torch.tensor(step), **{n: ts[i][k].detach().clone() for n, ts in self.buf.items()}}
            for i in range(len(next(iter(self.buf.values()))))}
        return sd

    @torch.no_grad()
    def step(self, params: list[Tensor]) -> None:
        self.steps += 1
        f32 = params[0].dtype if params else torch.float32
        if self.kind == "rmsprop":
            neg_lr = (-self.lr).to(f32)
            one_minus_alpha = 1 - RMSPROP_ALPHA
            for p, sq in zip(params, self.buf["square_avg"]):
                g = p.grad
                if g is None:
                    continue
                sq.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=one_minus_alpha)
                avg = sq.sqrt().add_(RMSPROP_EPS)
                p.add_(_member_view(neg_lr, p) * g / avg)
            return
        omb1, b2, omb2 = (1 - self.b1).to(f32), self.b2.to(f32), (1 - self.b2).to(f32)
        neg_step = (-(self.lr / (1 - self.b1 ** self.steps))).to(f32)
        bc2_sqrt = torch.sqrt(1 - self.b2 ** self.steps).to(f32)
        for p, m, v in zip(params, self.buf["exp_avg"], self.buf["exp_avg_sq"]):
            g = p.grad
            if g is None:
                continue
            m.lerp_(g, _member_view(omb1, p))
            v.mul_(_member_view(b2, p)).add_(_member_view(omb2, p) * g * g)
            denom = (v.sqrt() / _member_view(bc2_sqrt, p)).add_(ADAM_EPS)
            p.add_(_member_view(neg_step, p) * m / denom)


# -- the log window of K members ----------------------------------------------------------


class StackedWindow(LogWindow):
    """:class:`gan_zoo.trainlog.LogWindow` for K members: sums are ``(K,)`` tensors (the
    batch mean is taken per member)."""

    @staticmethod
    def _batch_mean(t: Tensor) -> Tensor:
        return t.mean(dim=1)

    def load(self, states: list[dict | None]) -> None:
        """Stack the members' checkpointed windows (all at the same step)."""
        self.sums, self.counts = {}, {}
        first = (states[0] or {}) if states else {}
        for key, count in (first.get("counts") or {}).items():
            if all((s or {}).get("counts", {}).get(key) == count for s in states):
                self.sums[key] = torch.stack([torch.as_tensor(s["sums"][key]).float().reshape(()) for s in states])
                self.counts[key] = count

    def member_state(self, k: int) -> dict:
        return {"sums": {key: v[k].clone() for key, v in self.sums.items()}, "counts": dict(self.counts)}

    def means(self) -> list[dict[str, float]]:
        """Each member's window means (NaN where never measured), one host sync; the
        window stays open (call :meth:`reset`)."""
        keys = [k for k in self.KEYS if k in self.sums]
        n = next(iter(self.sums.values())).shape[0] if self.sums else 0
        cols = torch.stack([self.sums[k] / self.counts[k] for k in keys]).t().tolist() if keys else [[]] * n
        out = []
        for values in cols:
            row = {k: math.nan for k in self.KEYS}
            row.update(dict(zip(keys, values)))
            out.append(row)
        return out

    def reset(self) -> None:
        self.sums, self.counts = {}, {}

    def select(self, idx: Tensor) -> None:
        self.sums = {k: v[idx] for k, v in self.sums.items()}


# -- the population -------------------------------------------------------------------


@dataclass
class Member:
    """One run of a population: its settings, streams, counters, log and folder."""

    res: Resolved
    data: Dataset
    run_dir: Path | None
    hooks: list[Regularizer]
    g: nn.Module  # the member's own modules: its checkpoint format, pictures, curve points
    d: nn.Module
    opt_g: torch.optim.Optimizer  # format templates for the optimizer state dicts
    opt_d: torch.optim.Optimizer
    data_gen: torch.Generator
    noise_gen: torch.Generator
    reg_gen: torch.Generator
    drop_gen: torch.Generator  # the single run's global stream (dropout masks)
    torch_rng: Tensor  # the global CPU state a single run would checkpoint
    curve: ScoreCurve
    index: int  # place in the population as it was built
    steps_done: int = 0
    d_steps: int = 0
    wall: float = 0.0
    log: list = field(default_factory=list)
    outcome: StepOutcome | None = None


class Population:
    """K compatible runs (:func:`check_packable`) as one batched trainer.

    ``runs``: resolved runs or specs; ``data``: one dataset for all, one per member, or
    None (loaded: once when the dataset ignores the seed, else per seed); ``run_dirs``:
    one folder per member (or None: no files); ``states``: checkpoint dicts to continue
    from (None entries start fresh). ``on_end(member)`` is called when a member's
    training ends (diverged, or at the end), after its checkpoint is written.
    """

    def __init__(self, runs: Sequence[Resolved | RunSpec], data: Dataset | Sequence[Dataset] | None = None, *,
                 run_dirs: Sequence[str | Path | None] | None = None, data_root: str | Path | None = None,
                 states: Sequence[dict | None] | None = None, population: str | None = None,
                 g_reals: str = "reuse", on_end: Callable[["Member"], None] | None = None,
                 evaluation=None):
        resolved = [resolve(r) if isinstance(r, RunSpec) else r for r in runs]
        check_packable(resolved)
        if g_reals not in G_REALS:
            raise GanZooError(f"unknown g_reals {g_reals!r}; valid: {', '.join(G_REALS)}")
        K = len(resolved)
        res0 = resolved[0]
        spec0, dev = res0.spec, res0.device
        check_precision(spec0.precision, dev)
        set_backend_flags(spec0.precision, dev)
        datasets = _member_datasets(resolved, data, data_root)
        run_dirs = list(run_dirs) if run_dirs is not None else [None] * K
        states = list(states) if states is not None else [None] * K
        if len(run_dirs) != K or len(states) != K:
            raise GanZooError("a population needs one run folder and one state (or None) per member")
        self.res0, self.device, self.g_reals, self.on_end = res0, dev, g_reals, on_end
        self.objective = res0.objective
        self.population = population or population_id([r.spec.run_id() for r in resolved])
        self.accel = Accel()  # no autocast, no channels-last, no compile: the stacked layout
        self.num_classes = datasets[0].num_classes if spec0.conditional else 0
        self.members: list[Member] = []
        for i, (res, data_i, run_dir, st) in enumerate(zip(resolved, datasets, run_dirs, states)):
            self.members.append(self._member(i, res, data_i, run_dir, st, data_root, evaluation))
        steps = {m.steps_done for m in self.members}
        if len(steps) != 1:
            raise GanZooError(f"population members must start at one step, got {sorted(steps)} "
                              "(train_population lets the ones behind catch up first)")
        self.active: list[Member] = list(self.members)
        self.G = StackedNet([m.g for m in self.members])
        self.D = StackedNet([m.d for m in self.members])
        self.opt_g = self._stacked_opt(self.G, "g")
        self.opt_d = self._stacked_opt(self.D, "d")
        self.gp_weight = self._hook_param(GradientPenalty, "weight")
        self.clip = self._hook_param(WeightClipping, "clip")
        hooks0 = self.members[0].hooks
        self.label_trick = any(r.label_trick for r in hooks0)
        self.input_hooks = any(_overrides(r, "d_inputs") for r in hooks0)
        self.shared_data = all(m.data is self.members[0].data for m in self.members)
        self.window = StackedWindow(torch.sigmoid if self.objective.reports_probability else None)
        self.window.load([st.get("log_window") if st else None for st in states])
        self.sync_every_step: bool | None = None  # None: by the device (as Trainer)
        self._vmap_ok: dict[str, bool] = {}

    # -- building ----------------------------------------------------------------

    def _member(self, i: int, res: Resolved, data: Dataset, run_dir, st: dict | None, data_root,
                evaluation=None) -> Member:
        """Member i built as its single run builds itself (same draws, same order)."""
        spec, dev = res.spec, res.device
        torch.manual_seed(spec.seed)  # network init, as Trainer
        g, d = build_networks(res, data.shape, data.num_classes)
        torch_rng = torch.get_rng_state()
        if dev == "cpu":
            drop_gen = torch.Generator(device="cpu")
            drop_gen.set_state(torch_rng)
        else:  # masks from the member's own device stream (not F.dropout's): see the docstring
            drop_gen = torch.Generator(device=dev).manual_seed(spec.seed)
        opt_g = _template_optimizer(g.parameters(), res, res.lr_g)
        opt_d = _template_optimizer(d.parameters(), res, res.lr_d)
        m = Member(res=res, data=data, run_dir=Path(run_dir) if run_dir is not None else None, hooks=res.hooks,
                   g=g, d=d, opt_g=opt_g, opt_d=opt_d,
                   data_gen=torch.Generator(device="cpu").manual_seed(spec.seed * 3 + 1),
                   noise_gen=torch.Generator(device="cpu").manual_seed(spec.seed * 3 + 2),
                   reg_gen=torch.Generator(device=dev).manual_seed(spec.seed * 3 + 3),
                   drop_gen=drop_gen, torch_rng=torch_rng,
                   curve=ScoreCurve(spec, data.kind, dev, Path(run_dir) if run_dir is not None else None, data_root,
                                    evaluation=evaluation),
                   index=i)
        if st is not None:
            if st.get("run_id") != spec.run_id():
                raise GanZooError(f"a checkpoint of {st.get('run_id')} cannot resume {spec.run_id()}")
            g.load_state_dict(st["g"])
            d.load_state_dict(st["d"])
            opt_g.load_state_dict(st["opt_g"])
            opt_d.load_state_dict(st["opt_d"])
            m.data_gen.set_state(rng_bytes(st["data_gen"]))
            m.noise_gen.set_state(rng_bytes(st["noise_gen"]))
            m.reg_gen.set_state(rng_bytes(st["reg_gen"]))
            if dev == "cpu":
                m.drop_gen.set_state(rng_bytes(st["torch_rng"]))
            elif isinstance(st.get("cuda_rng"), Tensor):
                m.drop_gen.set_state(rng_bytes(st["cuda_rng"]))
            m.steps_done, m.d_steps, m.wall, m.log = st["step"], st["d_steps"], st["wall"], list(st["log"])
        return m

    def _stacked_opt(self, net: StackedNet, which: str) -> StackedOptimizer:
        res0 = self.res0
        kind = "rmsprop" if res0.optimizer == "rmsprop" else "adam"
        lrs = [m.res.lr_g if which == "g" else m.res.lr_d for m in self.members]
        betas = [(m.res.beta1, m.res.beta2) for m in self.members] if kind == "adam" else None
        states, steps = [], []
        for m in self.members:
            opt = m.opt_g if which == "g" else m.opt_d
            module = m.g if which == "g" else m.d
            params = list(module.parameters())
            st = {i: opt.state[p] for i, p in enumerate(params) if p in opt.state and opt.state[p]}
            states.append(st)
            steps.append(int(float(st[0]["step"])) if 0 in st else 0)
        shapes = [p.shape[1:] for p in net.param_list()]
        return StackedOptimizer(kind, shapes, self.device, lrs, betas, states, steps)

    def _hook_param(self, cls, name: str) -> Tensor | None:
        values = []
        for m in self.members:
            hook = next((h for h in m.hooks if isinstance(h, cls)), None)
            if hook is None:
                return None
            values.append(float(hook.p[name]))
        return torch.tensor(values, dtype=torch.get_default_dtype(), device=self.device)

    # -- one step ------------------------------------------------------------------

    def _reals(self, bs: int) -> tuple[Tensor, Tensor | None]:
        """Each member's batch from its own data stream, gathered in one indexing."""
        idx = torch.stack([torch.randint(0, len(m.data), (bs,), generator=m.data_gen, device=m.data_gen.device)
                           for m in self.active])
        if self.shared_data:
            data = self.active[0].data
            idx = _to_device(idx, data.x.device)
            x = data.x[idx]
            y = None if data.y is None else data.y[idx]
        else:
            idx = _to_device(idx, self.active[0].data.x.device)
            x = torch.stack([m.data.x[i] for m, i in zip(self.active, idx)])
            y = None if self.active[0].data.y is None else torch.stack(
                [m.data.y[i] for m, i in zip(self.active, idx)])
        return x, (y if self.num_classes else None)

    def _z(self, bs: int) -> Tensor:
        nz = self.res0.spec.nz
        z = torch.stack([torch.randn(bs, nz, generator=m.noise_gen) for m in self.active])
        return _to_device(z, self.device)

    def _drop_gens(self) -> list[torch.Generator]:
        return [m.drop_gen for m in self.active]

    def _inputs(self, xr: Tensor, xf: Tensor, ctxs) -> tuple[Tensor, Tensor]:
        """The regularizers' ``d_inputs`` hooks, member by member (each draws from its own
        stream, as in its single run)."""
        if not self.input_hooks:
            return xr, xf
        outs_r, outs_f = [], []
        for k, m in enumerate(self.active):
            r, f = xr[k], xf[k]
            for reg in m.hooks:
                r, f = reg.d_inputs(r, f, ctxs[k])
            outs_r.append(r)
            outs_f.append(f)
        return torch.stack(outs_r), torch.stack(outs_f)

    def _per_member(self, name: str, fn, *args) -> Tensor:
        """``fn`` (an objective's loss of one member's tensors) for every member: one
        ``vmap`` call, or a loop where the function does not vmap."""
        if self._vmap_ok.get(name, True):
            try:
                out = torch.func.vmap(fn, in_dims=tuple(None if a is None else 0 for a in args))(*args)
                self._vmap_ok[name] = True
                return out
            except Exception:  # e.g. data-dependent control flow in a plug-in objective
                if name in self._vmap_ok:
                    raise
                self._vmap_ok[name] = False
        return torch.stack([fn(*(None if a is None else a[k] for a in args)) for k in range(len(self.active))])

    def _gradient_penalty(self, yr, xr: Tensor, xf: Tensor, ctxs) -> Tensor:
        """:func:`gan_zoo.losses.gradient_penalty` for every member: its own eps draw and
        weight; one double backward through the stacked critic."""
        K, B = xr.shape[:2]
        bshape = (B,) + (1,) * (xr.dim() - 2)
        eps = torch.stack([torch.rand(bshape, generator=c.generator, device=c.generator.device) for c in ctxs])
        eps = eps.to(device=xr.device, dtype=xr.dtype)
        x_hat = (eps * xr.detach() + (1.0 - eps) * xf.detach()).requires_grad_(True)
        scores = self.D(x_hat, yr, self._drop_gens())
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        norms = grad.reshape(K, scores.shape[1], -1).norm(2, dim=2)  # one per critic output
        return self.gp_weight * ((norms - 1.0) ** 2).mean(dim=1)

    def step(self, *, log: bool = False) -> dict[str, Tensor]:
        """One generator step of every active member (``n_critic`` critic steps first),
        as :meth:`gan_zoo.train.Trainer.step`; the figures are ``(K,)`` / ``(K, B)``."""
        res, obj = self.res0, self.objective
        act = self.active
        ctxs = [StepContext(m.steps_done, m.res.spec.steps, m.reg_gen) for m in act]
        bs = res.spec.batch_size * getattr(res, "pack", 1)  # a packed D takes pack samples per example
        drops = self._drop_gens()
        d_grad = None
        for _ in range(res.n_critic):
            xr, yr = self._reals(bs)
            yf = yr
            z = self._z(bs)
            with torch.no_grad():
                xf = self.G(z, yf, drops)
            xr_in, xf_in = self._inputs(xr, xf, ctxs)
            real_logits = self.D(xr_in, yr, drops)
            fake_logits = self.D(xf_in, yf, drops)
            real_t = fake_t = None
            if self.label_trick:
                rts, fts = [], []
                for k, m in enumerate(act):
                    rt, ft = torch.ones_like(real_logits[k]), torch.zeros_like(fake_logits[k])
                    for reg in m.hooks:
                        rt, ft = reg.targets(rt, ft, ctxs[k])
                    rts.append(rt)
                    fts.append(ft)
                real_t, fake_t = torch.stack(rts), torch.stack(fts)
            d_loss = self._per_member("d_loss", obj.d_loss, real_logits, fake_logits, real_t, fake_t)
            if self.gp_weight is not None:
                d_loss = d_loss + self._gradient_penalty(yr, xr, xf, ctxs)
            self.D.zero_grad()
            d_loss.sum().backward()
            if log:
                norm = self.D.grad_norms() / res.n_critic
                d_grad = norm if d_grad is None else d_grad + norm
            self.opt_d.step(self.D.param_list())
            if self.clip is not None:
                with torch.no_grad():
                    for p in self.D.param_list():
                        c = _member_view(self.clip, p)
                        torch.clamp_(p, min=-c, max=c)
            for m in act:
                m.d_steps += 1

        if obj.g_uses_real and self.g_reals == "fresh":
            xr, yr = self._reals(bs)
            yf = yr
        z = self._z(bs)
        xf = self.G(z, yf, drops)
        xr_in, xf_in = self._inputs(xr, xf, ctxs)
        fake_logits_g = self.D(xf_in, yf, drops, frozen=True)
        real_logits_g = self.D(xr_in, yr, drops, frozen=True) if obj.g_uses_real else real_logits.detach()
        g_loss = self._per_member("g_loss", obj.g_loss, real_logits_g, fake_logits_g)
        self.G.zero_grad()
        g_loss.sum().backward()
        self.D.zero_grad()  # the G step leaves D's weights without gradients, as the single run
        g_grad = self.G.grad_norms() if log else None
        self.opt_g.step(self.G.param_list())
        for m in act:
            m.steps_done += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "real_logits": real_logits.detach(), "fake_logits": fake_logits.detach(),
                "d_grad": d_grad, "g_grad": g_grad}

    # -- members' states -------------------------------------------------------------

    def member_state(self, member: Member) -> dict:
        """A member's checkpoint, in the single run's format (:meth:`Trainer.state`)."""
        k = self.active.index(member)
        st = {
            "g": self.G.member_state(k), "d": self.D.member_state(k),
            "opt_g": self.opt_g.member_state(k, member.opt_g), "opt_d": self.opt_d.member_state(k, member.opt_d),
            "data_gen": member.data_gen.get_state(), "noise_gen": member.noise_gen.get_state(),
            "reg_gen": member.reg_gen.get_state(),
            "torch_rng": member.drop_gen.get_state() if self.device == "cpu" else member.torch_rng,
            "step": member.steps_done, "d_steps": member.d_steps, "wall": member.wall, "log": list(member.log),
            "log_window": self.window.member_state(k), "run_id": member.res.spec.run_id(),
            POPULATION: self.population,
        }
        if self.device != "cpu":
            st["cuda_rng"] = member.drop_gen.get_state()
        return st

    def sync_modules(self, member: Member) -> None:
        """Copy the member's stacked weights into its own modules (pictures, scores)."""
        k = self.active.index(member)
        member.g.load_state_dict(self.G.member_state(k))
        member.d.load_state_dict(self.D.member_state(k))

    def save_checkpoint(self, member: Member) -> None:
        if member.run_dir is not None:
            save_torch_atomic(self.member_state(member), member.run_dir / CHECKPOINT)
            _write_log(member)

    def _drop(self, gone: list[Member]) -> None:
        keep = [k for k, m in enumerate(self.active) if m not in gone]
        idx = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.G.select(idx)
        self.D.select(idx)
        self.opt_g.select(idx)
        self.opt_d.select(idx)
        self.window.select(idx)
        for name in ("gp_weight", "clip"):
            t = getattr(self, name)
            if t is not None:
                setattr(self, name, t[idx])
        self.active = [self.active[k] for k in keep]

    # -- the loop ------------------------------------------------------------------

    def run(self, until: int | None = None, *, log_every: int | None = None) -> list[Member]:
        """Train every active member to step ``until`` (default the shared ``steps``),
        as :meth:`Trainer.run` trains one; a member with a non-finite loss ends
        ``diverged`` at its own step while the others go on. Returns the members whose
        training ended (each also passed to ``on_end``)."""
        spec = self.res0.spec
        total = spec.steps if until is None else min(until, spec.steps)
        log_every = log_every or spec.log_every
        sync = self.device == "cpu" if self.sync_every_step is None else self.sync_every_step
        ended: list[Member] = []
        for m in self.active:
            m.curve.load(m.steps_done)
        t0 = time.perf_counter()
        dev_step = first_bad = None  # device-side, per member: the step counter and first bad step
        while self.active and self.active[0].steps_done < total:
            out = self.step(log=True)
            self.window.add(out)
            steps_done = self.active[0].steps_done
            end = steps_done == total
            log = steps_done % log_every == 0 or end
            finite = torch.isfinite(out["d_loss"] + out["g_loss"])
            bad: dict[int, int] = {}  # position in the stack -> first non-finite step
            if sync:
                if not bool(finite.all()):
                    bad = {k: steps_done for k, ok in enumerate(finite.tolist()) if not ok}
            else:
                if dev_step is None:
                    dev_step = torch.full(finite.shape, steps_done, dtype=torch.long, device=finite.device)
                    first_bad = torch.full_like(dev_step, -1)
                else:
                    dev_step += 1
                first_bad = torch.where(~finite & (first_bad < 0), dev_step, first_bad)
                if log:  # the one host sync, at a log step
                    bad = {k: s for k, s in enumerate(first_bad.tolist()) if s >= 0}
            if bad or log:
                now = time.perf_counter() - t0
                rows = self.window.means()
                for k, m in enumerate(self.active):
                    if log or k in bad:
                        m.log.append({"step": m.steps_done, **rows[k], "wall_s": round(m.wall + now, 4)})
                if log:
                    self.window.reset()
            if bad:
                self._add_wall(time.perf_counter() - t0)
                losses = torch.stack([out["d_loss"], out["g_loss"]], dim=1).tolist()
                gone = []
                for k, step in bad.items():
                    m = self.active[k]
                    m.outcome = StepOutcome(DIVERGED, f"non-finite loss at step {step} "
                                            f"(d_loss={losses[k][0]:.4g}, g_loss={losses[k][1]:.4g})", step=step)
                    gone.append(m)
                for m in gone:
                    self._finish(m, blank_window=True)
                if first_bad is not None:
                    keep = torch.tensor([k for k in range(len(self.active)) if k not in bad],
                                        dtype=torch.long, device=first_bad.device)
                    dev_step, first_bad = dev_step[keep], first_bad[keep]
                self._drop(gone)
                ended += gone
                t0 = time.perf_counter()
                if not self.active:
                    break
            if any(m.curve.due(steps_done, 0.0, end) for m in self.active):
                self._add_wall(time.perf_counter() - t0)
                for m in self.active:
                    if m.curve.due(steps_done, 0.0, end):
                        self.sync_modules(m)
                        m.curve.score(m.g, self.num_classes, steps_done, m.wall)
                t0 = time.perf_counter()
            if steps_done % spec.checkpoint_every == 0 and steps_done < total:
                self._add_wall(time.perf_counter() - t0)
                for m in self.active:
                    self.save_checkpoint(m)
                t0 = time.perf_counter()
        self._add_wall(time.perf_counter() - t0)
        finished = bool(self.active) and self.active[0].steps_done >= spec.steps
        for m in list(self.active):
            if finished:
                m.outcome = StepOutcome(OK)
                self._finish(m, blank_window=False)
            else:
                self.save_checkpoint(m)
        if finished:
            ended += self.active
        return ended

    def _add_wall(self, seconds: float) -> None:
        for m in self.active:
            m.wall += seconds

    def _finish(self, m: Member, *, blank_window: bool) -> None:
        """A member whose training ended: its checkpoint (a diverged one's with an empty
        log window, as the single run's after its last row), its modules, ``on_end``."""
        saved = self.window.sums, self.window.counts
        if blank_window:
            self.window.sums, self.window.counts = {}, {}
        try:
            self.save_checkpoint(m)
        finally:
            self.window.sums, self.window.counts = saved
        self.sync_modules(m)
        if self.on_end is not None:
            self.on_end(m)

    def result(self, m: Member) -> RunResult:
        """A member's result record (:meth:`Trainer.result`, plus its population)."""
        res = m.res
        outcome = m.outcome or StepOutcome(OK)
        resolved = {**res.record(), "accel": asdict(self.accel),
                    POPULATION: {"id": self.population, "size": len(self.members), "member": m.index}}
        return RunResult.ended(
            res.spec.run_id(), outcome.status, reason=outcome.reason, diverged_step=outcome.step,
            steps=m.steps_done, d_steps=m.d_steps, wall_s=m.wall, device=res.device,
            backbone=res.backbone, resolved=resolved, run_dir=m.run_dir, precision=res.spec.precision)


def _template_optimizer(params, res: Resolved, lr: float) -> torch.optim.Optimizer:
    """The optimizer a single run builds (gan_zoo.train), here only as the format of a
    member's checkpointed optimizer state (loading it, writing it back)."""
    if res.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=(res.beta1, res.beta2))


def _to_device(t: Tensor, device) -> Tensor:
    """A CPU-drawn tensor (batch indices, latents: the single run's CPU streams) on the
    networks' device without the host waiting: staged in pinned memory (the caching host
    allocator reuses a block only once its copy is done), then copied asynchronously. On
    the CPU, the tensor itself."""
    device = torch.device(device)
    if device.type == "cpu":
        return t
    return t.pin_memory().to(device, non_blocking=True)


def _write_log(m: Member) -> None:
    """The member's log.csv through the single run's writer (same columns, same cells)."""
    shim = Trainer.__new__(Trainer)
    shim.run_dir, shim.log = m.run_dir, m.log
    Trainer.write_log(shim)


def _member_datasets(resolved: Sequence[Resolved], data, data_root) -> list[Dataset]:
    """One dataset per member: the given one(s), or loaded once when the dataset does not
    depend on the seed (files), else once per seed (generated mixtures, Stacked MNIST)."""
    K = len(resolved)
    if isinstance(data, Dataset):
        return [data] * K
    if data is not None:
        data = list(data)
        if len(data) != K:
            raise GanZooError("a population needs one dataset, or one per member")
        return data
    spec0, dev = resolved[0].spec, resolved[0].device
    cache: dict[int, Dataset] = {}

    def load(seed: int) -> Dataset:
        if seed not in cache:
            cache[seed] = get_dataset(spec0.dataset, root=data_root, train=True, device=dev, seed=seed)
        return cache[seed]

    seeds = [r.spec.seed for r in resolved]
    first = load(seeds[0])
    other = next((s for s in seeds if s != seeds[0]), None)
    if other is None:
        return [first] * K
    second = load(other)
    if first.x.shape == second.x.shape and torch.equal(first.x, second.x):
        return [first] * K  # the dataset ignores the seed: one copy serves every member
    per_member = first.x.element_size() * first.x.numel() * len(set(seeds))
    if per_member > MAX_MEMBER_DATA_BYTES:
        raise PackRefused(f"{spec0.dataset} is drawn per seed; {len(set(seeds))} copies would take "
                          f"{per_member / 1024**3:.1f} GiB (limit {MAX_MEMBER_DATA_BYTES / 1024**3:.0f} GiB)")
    return [load(s) for s in seeds]


# -- a population in run folders ----------------------------------------------------------


def train_population(specs: Sequence[RunSpec], run_dirs: Sequence[str | Path] | None = None, *,
                     data_root: str | Path | None = None, artifacts: bool = True,
                     sweeps: Sequence[dict] | None = None, population: str | None = None,
                     progress: bool | None = None, evaluation=None) -> list[RunResult]:
    """Train K compatible runs as one population, each in its folder (resuming each from
    its checkpoint); returns one RunResult per spec, in order, as ``train_run`` would.

    Members whose training already ended keep their stored result; members found at
    different steps catch up as smaller populations first. Incompatible specs raise
    :class:`PackRefused` before anything is written.
    """
    resolved = [resolve(s) for s in specs]
    check_packable(resolved)
    K = len(resolved)
    run_dirs = [Path(d) for d in run_dirs] if run_dirs is not None else [None] * K
    sweeps = list(sweeps) if sweeps is not None else [{} for _ in range(K)]
    results: list[RunResult | None] = [None] * K
    todo = []
    for k, (res, run_dir) in enumerate(zip(resolved, run_dirs)):
        if run_dir is not None:
            check_same_run(run_dir, res.spec.run_id())
            done = training_ended(run_dir, res.spec.run_id())
            if done is not None:
                results[k] = done
                continue
        todo.append(k)
    if not todo:
        return results
    datasets = _member_datasets([resolved[k] for k in todo], None, data_root)
    states: dict[int, dict | None] = {}
    for k in todo:
        run_dir = run_dirs[k]
        if run_dir is None:
            states[k] = None
            continue
        states[k] = resume_state(run_dir, run_dir / CHECKPOINT, resolved[k].spec.run_id())
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_dir / SPEC_JSON, specs[k].to_dict())
    pop_id = population or next((st.get(POPULATION) for st in states.values() if st and st.get(POPULATION)),
                                None) or population_id([resolved[k].spec.run_id() for k in todo])
    data_of = dict(zip(todo, datasets))
    points = datasets[0].kind == "points"

    def finish(pop: Population, group: list[int], m: Member) -> None:
        k = group[m.index]
        result = pop.result(m)
        result.sweep = dict(sweeps[k])
        result.machine = machine(m.res.device)
        if m.run_dir is not None:
            if artifacts:
                from gan_zoo.pictures import write_run_pictures

                write_run_pictures(m.run_dir, m.g, m.d, m.res, m.data, m.log)
            write_result(m.run_dir, result)
        result.generator, result.discriminator = m.g, m.d  # for callers in-process
        results[k] = result

    # the 2-D mixtures' MLPs train on one thread, as their single runs (train_run)
    with torch_threads(1 if points and resolved[0].device == "cpu" else None):
        live = list(todo)
        while live:
            steps = {k: (states[k] or {}).get("step", 0) for k in live}
            low = min(steps.values())
            ahead = sorted({s for s in steps.values() if s > low})
            group = [k for k in live if steps[k] == low]  # the ones behind catch up first
            holder: list[Population] = []
            pop = Population([resolved[k] for k in group], [data_of[k] for k in group],
                             run_dirs=[run_dirs[k] for k in group], data_root=data_root,
                             states=[states[k] for k in group], population=pop_id,
                             on_end=lambda m, g=group: finish(holder[0], g, m), evaluation=evaluation)
            holder.append(pop)
            pop.run(until=ahead[0] if ahead else None)
            for m in pop.members:
                k = group[m.index]
                if m.outcome is not None:  # its training ended (ok or diverged)
                    live.remove(k)
                else:  # caught up: carries its state into the next, larger population
                    states[k] = pop.member_state(m)
    return results


def say(message: str) -> None:
    print(f"gan-zoo: {message}", file=sys.stderr)
