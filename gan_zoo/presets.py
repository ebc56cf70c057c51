"""Paper configurations as named presets: plain data, applied to run specs.

A preset is a set of spec values (network, latent size, optimizer, batch, steps) and the
datasets it was published on. ``gan-zoo train --preset NAME`` and ``gan-zoo bench
--preset NAME`` start every run spec from these values; ``--set`` and ``--steps`` still
override them, and each run records the preset's name (``spec.json`` and the resolved
settings in ``result.json``). Nothing in the training loop knows about presets.

``pacgan``: the 2-D experiments of PacGAN (Lin et al. 2018, "PacGAN: The power of two
samples in generative adversarial networks", NeurIPS, arXiv:1712.04086; Table 1 and
Appendix), with every value read from the released code, ``fjxmlzn/PacGAN``,
``synthetic_data_experiments/2DRing_GAN&PacGAN/`` and ``2DGrid_GAN&PacGAN/``:

=====================  ==========================================  =====================
value                  here                                        where it comes from
=====================  ==========================================  =====================
G                      2-400-400-400-400-2, batch norm + ReLU,     ``pacgan_task.py``
                       no bias in hidden layers (``mlp-pacgan``)   (``decoder``)
D                      (2m)-200-200-200-1, maxout with 5 pieces    ``pacgan_task.py``,
                                                                   ``disc_maxout_pieces``
init                   N(0, 0.02) weights, zero biases             ``weights_init_std``
latent                 2-d standard normal                         ``num_zdim``,
                                                                   ``z_mode_std``
objective              ns (D: BCE; G: -log sigma(C(G(z))))         ``bricks.py``
                                                                   ``compute_losses``
optimizer              Adam, lr 1e-4, beta1 0.8 (both players)     ``learning_rate``,
                                                                   ``beta1``
updates                simultaneous: both players' gradients from  ``ali_algorithm``
                       one batch at the same parameters, then      (ALI's code, which
                       both steps (``updates``)                    theirs builds on)
batch                  100 (packs, under ``pac``)                  ``batch_size``
steps                  400,000 (400 epochs of 100,000 examples)    ``num_epoch``,
                                                                   ``num_sample``
ring                   8 modes on the unit circle, std 0.01        2DRing ``config.py``
                       (dataset ``ring8-pacgan``)
grid                   25 modes on {-4,-2,0,2,4}^2, std 0.05       2DGrid ``config.py``
                       (dataset ``grid25``)
scoring                2,500 samples; high quality within 3 std    ``MetricLogger`` in
                       of the nearest mode; a mode covered by one  ``extensions.py``,
                       high-quality sample; reverse KL of the      ``num_log_figure_
                       mode histogram against uniform              sample``
=====================  ==========================================  =====================

PacGAN-m is this preset with the ``pac`` regularizer at ``pac.m = m``: D's batch stays
100 packs, so each step draws ``100 m`` real and ``100 m`` generated samples, as their
code does. Known differences from their code: their G is called once per pack member
(batch-norm statistics over 100 samples each), ours once over all ``100 m``; their
datasets draw each pack member's index with replacement from a fixed set of 100,000
points, ours draw every sample with replacement from a fixed set of 100,000 points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from gan_zoo.errors import GanZooError

__all__ = ["Preset", "PRESETS", "get_preset", "list_presets"]


@dataclass(frozen=True)
class Preset:
    """A paper's configuration: spec values, the datasets it applies to, its source."""

    name: str
    values: Mapping[str, Any]
    datasets: tuple[str, ...]
    source: str
    summary: str
    #: how long the paper trained, for estimates and reports
    notes: tuple[str, ...] = field(default_factory=tuple)

    def check_dataset(self, dataset: str) -> None:
        if dataset not in self.datasets:
            raise GanZooError(f"preset {self.name} is defined for dataset(s) "
                              f"{', '.join(self.datasets)}, not {dataset!r}")


PRESETS: dict[str, Preset] = {
    "pacgan": Preset(
        name="pacgan",
        values=MappingProxyType({
            "backbone": "mlp-pacgan", "nz": 2, "batch_size": 100, "steps": 400_000,
            "optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.8, "beta2": 0.999,
            # both players' gradients from one batch, then both steps (ALI's algorithm)
            "updates": "simultaneous",
            # a 400,000-step run logs every 1,000 steps and checkpoints every 5,000
            "log_every": 1_000, "checkpoint_every": 5_000,
        }),
        datasets=("ring8-pacgan", "grid25"),
        source="Lin et al. 2018, arXiv:1712.04086, Table 1; released code fjxmlzn/PacGAN "
               "(synthetic_data_experiments)",
        summary="PacGAN's 2-D setup: G 2-400x4-2 with batch norm, maxout D 200x3, 2-d latent, "
                "Adam 1e-4 beta1 0.8, simultaneous updates, batch 100, 400,000 steps",
    ),
}


def list_presets() -> list[str]:
    return sorted(PRESETS)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise GanZooError(f"unknown preset {name!r}; valid: {', '.join(list_presets())}")
    return PRESETS[name]
