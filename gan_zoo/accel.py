"""Speed switches of the training step (bf16 autocast, channels-last, torch.compile):
how the networks execute, never what the loop computes."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

__all__ = ["Accel", "machine"]


@dataclass(frozen=True)
class Accel:
    """How the networks execute; none of these switches enters the run id.

    ``amp_bf16``: bf16 autocast around G's and D's forward passes; their outputs are
    cast back to fp32 before any loss, and the gradient penalty runs D in fp32 (its
    double backward is where low precision hurts). ``channels_last``: NHWC layout for
    the networks and D's image inputs. ``compile``: ``torch.compile`` the forward
    passes (not the penalty's, which needs a double backward).
    """

    amp_bf16: bool = False
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def auto(cls, device: str) -> "Accel":
        """The default for ``device``: bf16 (where supported) and channels-last on a
        GPU; everything off on the CPU, where channels-last gains little at the budgets'
        batch sizes and bf16 would change the numbers a study reports."""
        if str(device).startswith("cuda"):
            return cls(amp_bf16=torch.cuda.is_bf16_supported(), channels_last=True)
        return cls()

    def autocast(self, device: str):
        if not self.amp_bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


def machine(device: str) -> str:
    """What ran the kernels, for reading wall times side by side: torch's version, the
    GPU's name or the CPU's vector instruction set torch dispatched to (AVX2 and AVX-512
    kernels differ in speed, not in what a loss computes), and the intra-op threads."""
    if str(device).startswith("cuda") and torch.cuda.is_available():
        kernels = torch.cuda.get_device_name(torch.device(device))
    else:
        kernels = f"cpu {torch.backends.cpu.get_cpu_capability()}"
    threads = torch.get_num_threads()
    return f"torch {torch.__version__}, {kernels}, {threads} thread{'s' if threads != 1 else ''}"
