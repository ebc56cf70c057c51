"""Run grid items as Ray tasks, on a running cluster or a local Ray instance.

Each run asks Ray for ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs; a fraction of
a GPU packs several small DCGAN runs on one device. Workers write their run folders
themselves (a cluster needs ``--out`` on storage every node sees); the driver only
collects the results and then rebuilds the tables. Ray is the optional extra
``gan-zoo[ray]``.
"""

from __future__ import annotations

from gan_zoo.errors import GanZooError


def _import_ray():
    try:
        import ray
    except ImportError:
        raise GanZooError("--executor ray needs Ray: pip install 'gan-zoo[ray]'") from None
    return ray


def run_on_ray(run_item, pending, args, *, address=None, gpus_per_run=0.0, cpus_per_run=1,
               on_done=None) -> list[dict]:
    """Call ``run_item(*a)`` for each ``a`` of ``args`` as a Ray task (the runner passes its
    own ``run_item``, so this module does not import the runner back)."""
    ray = _import_ray()

    started_here = False
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {"include_dashboard": False}
        try:
            ray.init(log_to_driver=False, configure_logging=False, **kwargs)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            where = address or "a local instance"
            raise GanZooError(f"could not start or reach Ray at {where}: {' '.join(str(exc).split())}") from None
        started_here = True
    try:
        task = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(run_item)
        refs = {task.remote(*a): item for item, a in zip(pending, args)}
        results = []
        remaining = list(refs)
        while remaining:
            done, remaining = ray.wait(remaining, num_returns=1)
            for ref in done:
                res = ray.get(ref)
                results.append(res)
                if on_done:
                    on_done(refs[ref], res)
        return results
    finally:
        if started_here:
            ray.shutdown()
