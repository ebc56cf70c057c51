"""What a run records while it trains besides checkpoints: log.csv rows as means over
the logging window (:class:`LogWindow`) and in-training score points
(:class:`ScoreCurve`, the run folder's ``score_curve.csv``)."""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_zoo.errors import GanZooError
from gan_zoo.io import write_text_atomic
from gan_zoo.runs import CURVE_CSV

__all__ = ["LogWindow", "ScoreCurve", "CURVE_SEED_OFFSET", "POINTS_CURVE_SAMPLES"]

#: seed offset of the fixed latents the in-training points are drawn from
CURVE_SEED_OFFSET = 7919
#: 2-D mixtures score their in-training points on the protocol's 2,500 samples (cheap)
POINTS_CURVE_SAMPLES = 2500


class LogWindow:
    """Sums of a logging window's figures, kept on the device (no host sync per step)."""

    KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm")

    def __init__(self, squash=None):
        self.squash = squash or (lambda t: t)
        self.sums: dict[str, Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, out: dict) -> None:
        """Add one step's figures (the dict :meth:`gan_zoo.train.Trainer.step` returns)."""
        figures = {"d_loss": out["d_loss"], "g_loss": out["g_loss"],
                   "d_real": self._batch_mean(self.squash(out["real_logits"].float())),
                   "d_fake": self._batch_mean(self.squash(out["fake_logits"].float())),
                   "g_grad_norm": out["g_grad"], "d_grad_norm": out["d_grad"]}
        for key, value in figures.items():
            if value is None:
                continue
            value = value.detach().float()
            self.sums[key] = value if key not in self.sums else self.sums[key] + value
            self.counts[key] = self.counts.get(key, 0) + 1

    @staticmethod
    def _batch_mean(t: Tensor) -> Tensor:
        return t.mean()

    def state(self) -> dict:
        return {"sums": dict(self.sums), "counts": dict(self.counts)}

    def load(self, state: dict | None) -> None:
        """Reopen a checkpointed window (None: an older checkpoint, a fresh window)."""
        self.sums = dict((state or {}).get("sums", {}))
        self.counts = dict((state or {}).get("counts", {}))

    def means(self) -> dict[str, float]:
        """The window's means (NaN for a figure never measured), with one host sync;
        starts a new window."""
        keys = [k for k in self.KEYS if k in self.sums]
        values = torch.stack([self.sums[k] / self.counts[k] for k in keys]).tolist() if keys else []
        out = {k: math.nan for k in self.KEYS}
        out.update(dict(zip(keys, values)))
        self.sums, self.counts = {}, {}
        return out


class ScoreCurve:
    """A run's in-training score points: ``spec.curve_points`` of them (0: none), at
    generator steps round(k * steps / K), k = 1..K, or with a wall budget every K-th of
    it and where training stops. Each scores ``spec.curve_samples`` samples of G
    (:class:`gan_zoo.metrics.curve.CurveScorer`: FID, or modes for 2-D mixtures) with the
    grid's ``evaluation`` settings (extractor, Inception weights, cache folder; None: the
    dataset's defaults), so a run's curve and its final scores read the same features."""

    def __init__(self, spec, kind: str, device: str, run_dir: Path | None, data_root=None,
                 evaluation=None):
        self.spec, self.kind, self.device = spec, kind, device
        self.run_dir, self.data_root, self.evaluation = run_dir, data_root, evaluation
        self.rows: list[dict] = []
        self._scorer = None  # built at the first point; False when it cannot be
        self._steps = {round(k * spec.steps / spec.curve_points) for k in range(1, spec.curve_points + 1)} \
            if spec.curve_points else set()

    def due(self, steps_done: int, elapsed: float, end: bool) -> bool:
        """Whether the generator step just done (``steps_done``) is a point."""
        spec = self.spec
        if not spec.curve_points or self._scorer is False:
            return False
        if self.rows and self.rows[-1]["step"] >= steps_done:
            return False  # already scored (a resumed run)
        if spec.wall_budget_s is not None:
            return end or elapsed >= (len(self.rows) + 1) * spec.wall_budget_s / spec.curve_points
        return steps_done in self._steps

    def score(self, g: nn.Module, num_classes: int, steps_done: int, wall: float) -> None:
        """Score G now (eval mode, fixed latents, on random streams of its own, so the
        training draws the same numbers with points on or off) and write the file."""
        spec, dev = self.spec, self.device
        devices = [torch.device(dev).index or 0] if dev.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            scorer = self._get_scorer()  # building the extractor draws from the global stream
            if scorer is None:
                return
            gen = torch.Generator(device=dev).manual_seed(CURVE_SEED_OFFSET + spec.seed)
            z = torch.randn(scorer.n, spec.nz, generator=gen, device=dev)
            y = torch.arange(scorer.n, device=dev) % num_classes if num_classes else None
            g.eval()
            try:
                x = torch.cat([g(zb, None if y is None else y[i * 500:(i + 1) * 500]).float()
                               for i, zb in enumerate(z.split(500))])
            finally:
                g.train()
        self.rows.append({"step": steps_done, "wall_s": round(wall, 4), **scorer.score(x)})
        self.write()

    def _get_scorer(self):
        if self._scorer is None:
            from gan_zoo.metrics.curve import CurveScorer

            n = self.spec.curve_samples
            if self.kind == "points":
                n = max(n, POINTS_CURVE_SAMPLES)
            try:
                self._scorer = CurveScorer(self.spec.dataset, n, data_root=self.data_root,
                                           device=self.device, evaluation=self.evaluation)
            except GanZooError as exc:  # e.g. no Inception weights: train on, without points
                print(f"gan-zoo: no in-training scores for {self.spec.run_id()}: {exc}", file=sys.stderr)
                self._scorer = False
        return self._scorer or None

    def write(self) -> None:
        if self.run_dir is None or not self.rows:
            return
        cols = list(dict.fromkeys(k for row in self.rows for k in row))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for row in self.rows:
            writer.writerow(["" if row.get(c) is None or (isinstance(row[c], float) and math.isnan(row[c]))
                             else row[c] for c in cols])
        write_text_atomic(self.run_dir / CURVE_CSV, buf.getvalue())

    def load(self, steps_done: int) -> None:
        """A resumed run keeps the points scored up to its checkpoint."""
        path = None if self.run_dir is None else self.run_dir / CURVE_CSV
        if self.rows or path is None or not path.is_file():
            return
        rows = []
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if None in row or None in row.values():  # more or fewer cells than columns
                        raise ValueError("a row does not match the header")
                    parsed = {k: int(v) if k == "step" else (float(v) if v != "" else None)
                              for k, v in row.items()}
                    if parsed["step"] <= steps_done:
                        rows.append(parsed)
        except (UnicodeDecodeError, ValueError, KeyError, csv.Error) as exc:
            raise GanZooError(f"{path}: not a readable CSV of score points ({type(exc).__name__}); "
                              "remove it and the run scores its points again") from None
        self.rows.extend(rows)
