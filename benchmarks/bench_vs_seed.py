"""gan-zoo's training step against the seed-001 notebook loop, side by side (issue 6.1).

    python benchmarks/bench_vs_seed.py [--rounds 7] [--steps 30] [--quick]

Both sides train the same networks (``dcgan28``: the seed's DCGAN, D with dropout 0.2)
at batch 64 with the same optimizers (Adam 2e-4, betas (0.5, 0.999): gan-zoo's
defaults for ``ns``), on MNIST, in this one process, in alternating rounds. A round
is ``--steps`` generator steps (each with one D step) on each side; the figure is the
median per-round ratio of images per second, gan-zoo / seed.

The seed side re-implements the "Train the DCGAN model" section of seed 001 as
written there (only its batch size and optimizer settings aligned, see above):

* ``torchvision.datasets.MNIST`` with ``ToTensor()`` + ``Normalize(0.5, 0.5)`` per
  item, ``DataLoader(batch_size, shuffle=True, drop_last=True)`` (no workers);
* D ends in ``nn.Sigmoid`` and the loss is ``nn.BCELoss``; its dropout layers are
  torch's ``nn.Dropout`` (gan-zoo's dcgan28 draws the same masks more cheaply);
* ``d_train`` builds fresh label tensors each call and backpropagates D's loss
  through G too (its ``G(z)`` is not detached), then ``.item()``s the loss;
* ``g_train`` draws new uniform noise and runs G a second time, through D's weight
  gradients (D is not frozen);
* every step appends ``D(x).mean().cpu()`` and ``D(G(z)).mean().cpu()``.

gan-zoo's side is ``Trainer.run`` as ``train_run`` drives it (in-memory tensors
sampled by index, ``G(z)`` under ``no_grad`` for D's step, a frozen D for G's step,
logits + ``softplus`` losses, one finiteness check per step, a log row every 50).
Rows below the ratio say where the seed's extra time goes, timed in the same rounds.
"""

from __future__ import annotations

import sys

import _common as C  # noqa: E402  (puts the repository on sys.path)


def seed_loop(data_root: str, batch_size: int):
    """The seed-001 training loop on gan-zoo's dcgan28 + Sigmoid; returns ``step(n)``
    (n generator steps) and ``load(n)`` (the data loading of n steps alone)."""
    import torch
    import torchvision
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision import transforms

    from gan_zoo.backbones import build_backbone

    device = "cpu"
    z_size, mode_z = 100, "uniform"  # the seed trains with uniform noise
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.5), std=(0.5)),
    ])
    mnist_dataset = torchvision.datasets.MNIST(root=data_root, train=True, transform=transform,
                                               download=False)
    torch.manual_seed(1)
    mnist_dl = DataLoader(mnist_dataset, batch_size=batch_size, shuffle=True, drop_last=True)

    torch.manual_seed(0)
    gen_model, d_logits = build_backbone("dcgan28", shape=(1, 28, 28), nz=z_size)
    for net in (gen_model, d_logits):  # the seed's dropout is torch's own nn.Dropout
        for parent in list(net.modules()):
            for name, child in parent.named_children():
                if isinstance(child, nn.Dropout) and type(child) is not nn.Dropout:
                    setattr(parent, name, nn.Dropout(child.p))
    assert sum(type(m) is nn.Dropout for m in d_logits.modules()) == 3

    class SeedDiscriminator(nn.Module):
        """dcgan28's D with the seed's Sigmoid appended; output (B, 1) probabilities."""

        def __init__(self, body):
            super().__init__()
            self.network = nn.Sequential(body, nn.Sigmoid())

        def forward(self, x):
            return self.network(x).view(-1, 1)

    disc_model = SeedDiscriminator(d_logits).to(device)
    gen_model = gen_model.to(device)
    loss_fn = nn.BCELoss()
    g_optimizer = torch.optim.Adam(gen_model.parameters(), 2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(disc_model.parameters(), 2e-4, betas=(0.5, 0.999))

    def create_noise(batch_size, z_size, mode_z):
        if mode_z == "uniform":
            return torch.rand(batch_size, z_size, 1, 1) * 2 - 1
        return torch.randn(batch_size, z_size, 1, 1)

    def d_train(x):
        disc_model.zero_grad()
        batch_size = x.size(0)
        x = x.to(device)
        d_labels_real = torch.ones(batch_size, 1, device=device)
        d_proba_real = disc_model(x)
        d_loss_real = loss_fn(d_proba_real, d_labels_real)
        input_z = create_noise(batch_size, z_size, mode_z).to(device)
        g_output = gen_model(input_z)
        d_proba_fake = disc_model(g_output)
        d_labels_fake = torch.zeros(batch_size, 1, device=device)
        d_loss_fake = loss_fn(d_proba_fake, d_labels_fake)
        d_loss = d_loss_real + d_loss_fake
        d_loss.backward()
        d_optimizer.step()
        return d_loss.data.item(), d_proba_real.detach(), d_proba_fake.detach(), input_z

    def g_train(x):
        gen_model.zero_grad()
        batch_size = x.size(0)
        input_z = create_noise(batch_size, z_size, mode_z).to(device)
        g_labels_real = torch.ones((batch_size, 1), device=device)
        g_output = gen_model(input_z)
        d_proba_fake = disc_model(g_output)
        g_loss = loss_fn(d_proba_fake, g_labels_real)
        g_loss.backward()
        g_optimizer.step()
        return g_loss.data.item()

    gen_model.train()
    disc_model.train()
    state = {"it": iter(mnist_dl)}
    d_losses, g_losses, d_vals_real, d_vals_fake = [], [], [], []

    def next_batch():
        try:
            return next(state["it"])
        except StopIteration:  # an epoch ended: the seed's `for` starts the next one
            state["it"] = iter(mnist_dl)
            return next(state["it"])

    def step(n):
        for _ in range(n):
            x, _ = next_batch()
            d_loss, d_proba_real, d_proba_fake, input_z = d_train(x)
            d_losses.append(d_loss)
            g_losses.append(g_train(x))
            d_vals_real.append(d_proba_real.mean().cpu())
            d_vals_fake.append(d_proba_fake.mean().cpu())

    def load(n):
        for _ in range(n):
            next_batch()

    return step, load


def zoo_loop(data_root: str, batch_size: int):
    """gan-zoo's loop on MNIST (``ns``, no regularizers); returns ``step(n)`` and
    ``load(n)`` (the batch sampling of n steps alone)."""
    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    data = get_dataset("mnist", root=data_root, device="cpu")
    spec = RunSpec(dataset="mnist", loss="ns", batch_size=batch_size, steps=1, device="cpu")
    trainer = Trainer(spec, data)
    gen = torch.Generator().manual_seed(0)

    def step(n):
        # the real loop, n more steps (no run folder: nothing is written)
        result = trainer.run(n)
        assert result.status == "ok", result.reason

    def load(n):
        for _ in range(n):
            data.sample(batch_size, gen)

    return step, load


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--rounds", type=int, default=7, help="measured rounds (default 7)")
    p.add_argument("--steps", type=int, default=30, help="generator steps per side per round (default 30)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--quick", action="store_true", help="3 rounds of 4 steps: a check that it runs")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 3, 4

    from gan_zoo.data import resolve_data_root

    root = str(resolve_data_root(args.data_root))
    seed_step, seed_load = seed_loop(root, args.batch_size)
    zoo_step, zoo_load = zoo_loop(root, args.batch_size)
    n = args.steps
    times = C.interleave({
        "seed": lambda: seed_step(n),
        "gan-zoo": lambda: zoo_step(n),
        "seed data": lambda: seed_load(n),
        "gan-zoo data": lambda: zoo_load(n),
    }, rounds=args.rounds)

    speedup = C.ratios(times["seed"], times["gan-zoo"])
    per_step = {k: C.median(v) / n for k, v in times.items()}
    target = 1.2
    print(f"# bench_vs_seed: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"batch {args.batch_size}, {n} generator steps per side per round, {args.rounds} rounds")
    print(f"images/s gan-zoo / seed loop (median per-round ratio): {C.spread(speedup)}")
    print(f"  target >= {target}: {C.verdict(C.median(speedup) >= target)}")
    print("where the time goes (share of the seed loop's step, medians of this run):")
    seed_t = per_step["seed"]
    print(f"  seed data loading (DataLoader, ToTensor+Normalize): {per_step['seed data'] / seed_t:6.1%}")
    print(f"  gan-zoo batch sampling:                             {per_step['gan-zoo data'] / seed_t:6.1%}")
    print(f"  gan-zoo whole step:                                 {per_step['gan-zoo'] / seed_t:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
