"""Check an objective against the contract every objective of the zoo passes.

    from gan_zoo.testing import check_objective
    check_objective(MyLoss())          # raises ObjectiveCheckError listing every problem
    problems = check_objective(MyLoss(), strict=False)   # or just get the list

The checks, each reported in plain words when it fails:

1. ``d_loss`` and ``g_loss`` return finite 0-dim tensors;
2. gradients reach the inputs the formula depends on (D's loss: both logits; G's: fakes);
3. stability: logits of magnitude 50 give finite values and gradients;
4. real and fake are not interchangeable: swapping them changes D's loss;
5. direction, near the decision boundary (logits midway between the targets): D's loss
   falls as real logits rise and as fake logits fall; G's loss falls as fake logits rise;
6. targets: an objective with targets gives the same value for explicit default targets
   (real 1, fake 0); one without targets refuses them with NotApplicableError.
"""

from __future__ import annotations

import torch

from gan_zoo.errors import NotApplicableError
from gan_zoo.losses import Objective

__all__ = ["check_objective", "ObjectiveCheckError"]

#: deliberately lopsided logits: real and fake differ in sign, spread and order
LOPSIDED_REAL = (-5.0, 1.4, 12.5, 2.7)
LOPSIDED_FAKE = (10.0, 4.4, -5.5, 3.6)


class ObjectiveCheckError(AssertionError):
    """An objective broke the contract; the message lists every problem found."""


def _value(name, fn, real, fake, problems):
    try:
        out = fn(real, fake)
    except Exception as exc:  # report, keep checking the rest
        problems.append(f"{name}(real, fake) raised {type(exc).__name__}: {exc}")
        return None
    if not isinstance(out, torch.Tensor):
        problems.append(f"{name} returned {type(out).__name__}, not a tensor")
        return None
    if out.dim() != 0:
        problems.append(f"{name} returned shape {tuple(out.shape)}, not a 0-dim tensor")
        return None
    return out


def check_objective(obj: Objective, *, strict: bool = True, batch: int = 16, seed: int = 0) -> list[str]:
    """Run the zoo's contract and property checks on ``obj``; see the module docstring."""
    name = getattr(obj, "name", "") or type(obj).__name__
    problems: list[str] = []
    gen = torch.Generator().manual_seed(seed)
    d_fn, g_fn = obj.d_loss, obj.g_loss

    # 1-2. finite scalars, gradients reach the inputs
    real = torch.randn(batch, generator=gen, dtype=torch.float64).requires_grad_(True)
    fake = torch.randn(batch, generator=gen, dtype=torch.float64).requires_grad_(True)
    for label, fn, needs in (("d_loss", d_fn, ("real", "fake")), ("g_loss", g_fn, ("fake",))):
        out = _value(label, fn, real, fake, problems)
        if out is None:
            continue
        if not torch.isfinite(out):
            problems.append(f"{label} is not finite on ordinary logits (got {out.item()})")
            continue
        if not out.requires_grad:
            problems.append(f"{label} does not depend on the logits (no gradient graph)")
            continue
        grads = torch.autograd.grad(out, (real, fake), allow_unused=True)
        for which, g in zip(("real", "fake"), grads):
            if which in needs and (g is None or not torch.any(g != 0)):
                problems.append(f"{label}: no gradient reaches the {which} logits")

    # 3. stability at large logits
    big_r = torch.tensor([50.0, -50.0, 30.0, -30.0], dtype=torch.float32).requires_grad_(True)
    big_f = torch.tensor([-50.0, 50.0, -30.0, 30.0], dtype=torch.float32).requires_grad_(True)
    for label, fn in (("d_loss", d_fn), ("g_loss", g_fn)):
        out = _value(label, fn, big_r, big_f, problems)
        if out is None:
            continue
        if not torch.isfinite(out):
            problems.append(f"{label} overflows at logits of magnitude 50 (got {out.item()}); "
                            "use softplus / logsigmoid / *_with_logits")
            continue
        grads = torch.autograd.grad(out, (big_r, big_f), allow_unused=True)
        if any(g is not None and not torch.all(torch.isfinite(g)) for g in grads):
            problems.append(f"{label} has non-finite gradients at logits of magnitude 50")

    # 4. real and fake must not be interchangeable
    lr = torch.tensor(LOPSIDED_REAL, dtype=torch.float64)
    lf = torch.tensor(LOPSIDED_FAKE, dtype=torch.float64)
    a = _value("d_loss", d_fn, lr, lf, problems)
    b = _value("d_loss", d_fn, lf, lr, problems)
    if a is not None and b is not None and torch.isclose(a, b, rtol=1e-9, atol=1e-12):
        problems.append("d_loss is unchanged when real and fake logits are swapped")

    # 5. direction near the decision boundary
    jitter = 0.1 * torch.randn(batch, generator=gen, dtype=torch.float64)
    r0 = obj.boundary + jitter
    f0 = obj.boundary - jitter.flip(0)
    step = 0.05
    cases = (
        ("D's loss should fall as the real logits rise", d_fn, (r0, f0), (r0 + step, f0)),
        ("D's loss should fall as the fake logits fall", d_fn, (r0, f0), (r0, f0 - step)),
        ("G's loss should fall as the fake logits rise", g_fn, (r0, f0), (r0, f0 + step)),
    )
    with torch.no_grad():
        for claim, fn, before, after in cases:
            v0 = _value("loss", fn, *before, problems)
            v1 = _value("loss", fn, *after, problems)
            if v0 is not None and v1 is not None and not v1 < v0:
                problems.append(f"{claim} near the decision boundary (logits ~ {obj.boundary:g}), "
                                f"but it went from {v0.item():.6g} to {v1.item():.6g}: "
                                "are real and fake swapped, or a sign flipped?")

    # 6. targets
    if obj.has_targets:
        try:
            plain = d_fn(lr, lf)
            explicit = d_fn(lr, lf, real_target=1.0, fake_target=0.0)
            if not torch.isclose(plain, explicit, rtol=1e-9, atol=1e-12):
                problems.append("d_loss with explicit targets real=1, fake=0 differs from the default")
        except TypeError as exc:
            problems.append(f"has_targets is set but d_loss does not accept real_target/fake_target ({exc})")
    else:
        try:
            d_fn(lr, lf, real_target=0.9)
            problems.append("has no targets but accepted real_target silently (raise NotApplicableError)")
        except NotApplicableError:
            pass
        except TypeError:
            problems.append("d_loss does not accept the real_target/fake_target keywords")

    problems = list(dict.fromkeys(problems))  # each problem once
    if strict and problems:
        raise ObjectiveCheckError(f"objective {name!r} failed {len(problems)} check(s):\n- "
                                  + "\n- ".join(problems))
    return problems
