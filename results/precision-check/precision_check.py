"""Why k-NN precision and density rise as MNIST samples get worse on the lenet features.

Scores several sample sets against a seeded draw of 5,000 MNIST test images, on the
shipped classifier's 128-d ReLU features (what FID/precision use), with k = 3, 5 and 10,
and on two other feature spaces (L2-normalised features; class probabilities). Prints
feature norms and the share of samples that land inside a few very large real balls.

    GAN_ZOO_DATA=../shared/data python results/precision-check/precision_check.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_zoo.data import get_dataset
from gan_zoo.metrics import classifier as clf

torch.manual_seed(0)
N = 5000


def radii(real, k):
    return torch.cat([torch.cdist(b, real).topk(k + 1, dim=1, largest=False).values[:, -1]
                      for b in real.split(1000)])


def prec_density(real, fake, k):
    r = radii(real, k)
    inside_any, count = [], 0
    for b in fake.split(1000):
        m = torch.cdist(b, real) < r[None, :]
        inside_any.append(m.any(dim=1))
        count += int(m.sum())
    inside_any = torch.cat(inside_any)
    return float(inside_any.double().mean()), count / (k * len(fake)), r


def blobs(n, g):
    """Grey blobs: smooth low-contrast shapes, the look of an early or failed generator."""
    x = torch.rand(n, 1, 7, 7, generator=g) * 0.6 - 0.5
    x = F.interpolate(x, size=(28, 28), mode="bicubic", align_corners=False)
    return x.clamp(-1, 1)


def main():
    g = torch.Generator().manual_seed(0)
    test = get_dataset("mnist", train=False).x
    train = get_dataset("mnist", train=True).x
    ref = test[torch.randperm(len(test), generator=g)[:N]]
    real2 = train[torch.randperm(len(train), generator=g)[:N]]
    sets = {
        "real train digits": real2,
        "real + noise sd 0.3": (real2 + 0.3 * torch.randn(real2.shape, generator=g)).clamp(-1, 1),
        "real + noise sd 0.6": (real2 + 0.6 * torch.randn(real2.shape, generator=g)).clamp(-1, 1),
        "real blurred": F.avg_pool2d(real2, 5, 1, 2),
        "one digit (collapse)": real2[:1].repeat(N, 1, 1, 1),
        "grey blobs": blobs(N, g),
        "uniform noise": torch.rand(N, 1, 28, 28, generator=g) * 2 - 1,
        "black images": -torch.ones(N, 1, 28, 28),
    }
    fr, lr = clf.features_and_logits(ref)
    spaces = {
        "features": lambda f, lg: f,
        "L2-normalised features": lambda f, lg: F.normalize(f, dim=1),
        "class probabilities": lambda f, lg: lg.softmax(dim=1),
    }
    print(f"reference: {N} MNIST test images; feature norm median {fr.norm(dim=1).median():.2f}")
    r3 = radii(fr.double(), 3)
    print(f"real 3-NN radii: median {r3.median():.2f}, 99th pct {r3.quantile(0.99):.2f}, max {r3.max():.2f}")
    for name, x in sets.items():
        f, lg = clf.features_and_logits(x)
        line = [f"{name:24s} |f| {f.norm(dim=1).median():6.2f}"]
        for sname, fn in spaces.items():
            real_s, fake_s = fn(fr, lr).double(), fn(f, lg).double()
            for k in ((3, 5, 10) if sname == "features" else (3,)):
                p, d, r = prec_density(real_s, fake_s, k)
                line.append(f"{sname[:5]} k{k} P {p:.3f} D {d:.2f}")
        # nearest real neighbour of each fake: how large is its ball?
        d1 = torch.cdist(f.double()[:1000], fr.double()).argmin(dim=1)
        line.append(f"radius of nearest real ball (median) {r3[d1].median():.2f}")
        print(" | ".join(line))


if __name__ == "__main__":
    main()
