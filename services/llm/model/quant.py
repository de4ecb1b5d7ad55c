"""Weight-only INT8 (symmetric, per output channel) for the linear layers.

Activations stay in float; only weights are stored as int8 with one float scale per row, which
quarters float32 weight memory. On CPU `torch._weight_int8pack_mm` multiplies without
materialising the float weight; elsewhere we dequantize per call.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Int8Linear(nn.Module):
    def __init__(self, lin: nn.Linear) -> None:
        super().__init__()
        w = lin.weight.detach().float()
        scale = w.abs().amax(dim=1).clamp(min=1e-8) / 127.0
        self.register_buffer("qweight", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8))
        self.register_buffer("scale", scale.to(lin.weight.dtype))
        self.bias = lin.bias
        self.in_features, self.out_features = lin.in_features, lin.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        if x2.device.type == "cpu" and hasattr(torch, "_weight_int8pack_mm") and x2.shape[0] > 0:
            y = torch._weight_int8pack_mm(x2.contiguous(), self.qweight, self.scale.to(x2.dtype))
        else:
            y = F.linear(x2, self.qweight.to(x2.dtype) * self.scale.to(x2.dtype)[:, None])
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


def quantize_int8(model: nn.Module, skip: tuple[str, ...] = ("lm_head",)) -> int:
    """Replace nn.Linear modules in place (MLA's kv_b_proj stays float: its weight is read directly).
    Returns the number of layers quantized."""
    n = 0
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, nn.Linear) and not any(s in full for s in skip) and child_name != "kv_b_proj":
                setattr(module, child_name, Int8Linear(child))
                n += 1
    return n


def weight_bytes(model: nn.Module) -> int:
    seen: set[int] = set()
    total = 0
    for t in list(model.parameters()) + list(model.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total
