"""Density and coverage (Naeem et al. 2020) of generated features against real ones.

Naeem, Oh, Uh, Choi & Yoo, "Reliable Fidelity and Diversity Metrics for Generative
Models", ICML 2020 (arXiv:2002.09797), with ``k = 5`` as in the paper. Around every
real feature vector ``r_i`` lies the ball of radius ``NND_k(r_i)``, its distance to its
k-th nearest other real vector. With ``N`` real and ``M`` generated vectors:

    density  = 1 / (k M) * sum_j sum_i 1[ f_j in B(r_i, NND_k(r_i)) ]
    coverage = 1 / N * sum_i 1[ some f_j in B(r_i, NND_k(r_i)) ]

(Euclidean distances, strict ``<``, as the authors' ``prdc`` package computes them.)
Coverage lies in [0, 1]; density in [0, inf), about 1 for samples distributed like the
real data, above 1 when samples crowd into dense real regions. Unlike k-NN precision,
coverage falls when samples collapse (a blob that lands in a dense region fills few
real balls). ``prdc.compute_prdc`` holds three N x N distance matrices and an int64
partition of one (about 10 GB for Stacked MNIST's 26,000); here the same quantities are
computed in row blocks, and the tests check them against ``prdc``.
"""

from __future__ import annotations

import torch

from gan_zoo.metrics.keys import COVERAGE, DENSITY

__all__ = ["NEAREST_K", "kth_neighbour_radii", "density_coverage"]

#: Neighbours defining each real ball (Naeem et al. 2020 use 5).
NEAREST_K = 5


@torch.no_grad()
def kth_neighbour_radii(real: torch.Tensor, k: int = NEAREST_K, *, chunk: int = 1024) -> torch.Tensor:
    """Distance of each row of ``real`` ``(N, D)`` to its k-th nearest other row ``(N,)``
    (the (k+1)-th smallest distance of the row, which counts the row itself at 0)."""
    real = real.double()
    if len(real) <= k:
        raise ValueError(f"density/coverage with k = {k} need more than {k} real vectors")
    return torch.cat([torch.cdist(block, real).topk(k + 1, dim=1, largest=False).values[:, -1]
                      for block in real.split(chunk)])


@torch.no_grad()
def density_coverage(real, fake, k: int = NEAREST_K, *, chunk: int = 1024) -> dict:
    """``{DENSITY: float, COVERAGE: float}`` of ``fake`` ``(M, D)`` against ``real`` ``(N, D)``."""
    real = torch.as_tensor(real).double()
    fake = torch.as_tensor(fake).double()
    radii = kth_neighbour_radii(real, k, chunk=chunk)  # (N,)
    inside = 0
    for block in fake.split(chunk):  # (c, N): which real balls hold each sample
        inside += int((torch.cdist(block, real) < radii[None, :]).sum())
    covered = torch.cat([torch.cdist(block, fake).amin(dim=1) < r
                         for block, r in zip(real.split(chunk), radii.split(chunk))])
    return {DENSITY: inside / (k * len(fake)), COVERAGE: float(covered.double().mean())}
