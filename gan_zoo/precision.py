"""Numeric precision of a run (``fp32``, ``tf32``, ``bf16``): its default per device, the
speed switches and backend flags it sets.

``fp32``: every operation in fp32, TF32 off for matrix products and cuDNN
convolutions. ``tf32``: fp32 storage, optimizer and losses; matrix products and
convolutions on a GPU's tensor cores with TF32 inputs (10-bit mantissa). ``bf16``: bf16
autocast around G's and D's forward passes (:class:`gan_zoo.accel.Accel`), TF32 off
for what stays fp32. The CPU default is ``fp32``, which keeps every CPU result and run
id as before; the GPU default is ``tf32`` (see README, "Speed"). A precision other than
``fp32`` enters the run id, so a CPU run and a GPU run of one spec do not replace
each other.
"""

from __future__ import annotations

from gan_zoo.accel import Accel
from gan_zoo.errors import GanZooError
from gan_zoo.settings import PRECISIONS

__all__ = ["PRECISIONS", "CPU_DEFAULT", "GPU_DEFAULT", "default_precision", "check_precision",
           "accel_for", "set_backend_flags"]

#: The CPU default: results and run ids as they always were.
CPU_DEFAULT = "fp32"
#: The GPU default: the small DCGANs here are bound by kernel launches, where bf16's
#: faster arithmetic buys little while it rounds activations to an 8-bit mantissa; TF32
#: speeds up the convolutions and matrix products that do cost, with fp32 storage.
#: ``benchmarks/bench_gpu.py`` measures fp32, tf32 and bf16 side by side on a GPU.
GPU_DEFAULT = "tf32"


def default_precision(device: str) -> str:
    return GPU_DEFAULT if str(device).startswith("cuda") else CPU_DEFAULT


def check_precision(precision: str, device: str) -> None:
    """Refuse an unknown precision, or TF32 where there are no tensor cores (the CPU)."""
    if precision not in PRECISIONS:
        raise GanZooError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision == "tf32" and not str(device).startswith("cuda"):
        raise GanZooError("precision tf32 needs a CUDA GPU; on the CPU use fp32 (default) or bf16")


def accel_for(precision: str, device: str) -> Accel:
    """The speed switches of ``precision`` on ``device``: bf16 autocast for ``bf16`` only;
    channels-last on a GPU."""
    return Accel(amp_bf16=precision == "bf16", channels_last=str(device).startswith("cuda"))


def set_backend_flags(precision: str, device: str) -> None:
    """Set TF32 for matrix products and cuDNN explicitly (never left to a library's default)
    on a GPU; nothing to set on the CPU."""
    if not str(device).startswith("cuda"):
        return
    import torch

    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
