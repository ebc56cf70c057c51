"""Time ``gan_zoo.metrics.evaluate`` on MNIST: N generated vs N real images (default 10k).

    python benchmarks/bench_eval.py [--data-root DIR] [--n 10000] [--repeats 2]

The "generated" set stands in for a generator's output: N MNIST training images
(held apart from the N test images that serve as the real set). Rows:

* cold:  empty cache folder, so the real test features and the 60,000 training
         features of MiFID are computed (once per cache folder in normal use);
* warm:  the same call again, as every later evaluation of a run is (the target
         is < 30 s for 10k vs 10k on a 2-core CPU);
* warm, no MiFID: ``train_features=False``.

``--profile`` prints where the warm call spends its time.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time

import _common as C  # noqa: E402  (puts the repository on sys.path)


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--n", type=int, default=10_000, help="samples per side (default 10000)")
    p.add_argument("--repeats", type=int, default=2, help="warm calls to time (default 2)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--profile", action="store_true", help="profile one warm call")
    p.add_argument("--quick", action="store_true", help="1,000 samples per side, one warm call")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.repeats = 1000, 1

    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.metrics import evaluate, keys

    if args.threads:
        torch.set_num_threads(args.threads)
    gen = get_dataset("mnist", root=args.data_root, train=True, limit=args.n).x
    get_dataset("mnist", root=args.data_root, train=False)  # file reading is not timed

    def run(train_features=True):
        t0 = time.perf_counter()
        r = evaluate(gen, dataset="mnist", n=args.n, data_root=args.data_root,
                     cache_dir=cache, train_features=train_features)
        return time.perf_counter() - t0, r

    rows = []
    with tempfile.TemporaryDirectory(prefix="gan-zoo-bench-") as cache:
        t, r = run()
        rows.append(("cold (real + train features computed)", t))
        for _ in range(args.repeats):
            rows.append(("warm", run()[0]))
        for _ in range(args.repeats):
            rows.append(("warm, no MiFID", run(train_features=False)[0]))
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run()
            prof.disable()
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
            print(s.getvalue())

    print(f"evaluate(): {args.n} generated vs {args.n} real MNIST images, "
          f"{torch.get_num_threads()} torch threads")
    for name, t in rows:
        print(f"  {name:<40s} {t:7.1f} s")
    print(f"  FID {r[keys.FID]:.3f}  IS {r[keys.IS_MEAN]:.3f}  KID {r[keys.KID_MEAN]:.3f}  "
          f"P {r[keys.PRECISION]:.3f}  R {r[keys.RECALL]:.3f}  MiFID {r[keys.MIFID]:.3g}")
    print("  (the stand-in 'generated' images are training images, so MiFID rightly flags "
          "them as memorized)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
