"""Spatial self-attention block of the ADM UNet, computed with scaled_dot_product_attention.

The 1x1 ``qkv`` projection yields 3*C channels. How they split into heads and into q/k/v
decides which weights mean what in a checkpoint, so both of ADM's orders are kept:
- legacy (default, what released checkpoints use): channels are [head][q|k|v][ch],
  i.e. split into heads first, then each head's block into q, k, v;
- new order (``use_new_attention_order``): channels are [q|k|v][head][ch].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from harness.models.layers import normalization, zero_module


def heads_for(channels: int, num_heads: int, num_head_channels: int) -> int:
    """Number of heads: ``num_heads``, or ``channels // num_head_channels`` when that is set."""
    if num_head_channels == -1:
        if channels % num_heads:
            raise ValueError(f"channels {channels} not divisible by num_heads {num_heads}")
        return num_heads
    if channels % num_head_channels:
        raise ValueError(
            f"channels {channels} not divisible by num_head_channels {num_head_channels}"
        )
    return channels // num_head_channels


def qkv_attention(qkv: torch.Tensor, num_heads: int, new_order: bool) -> torch.Tensor:
    """Multi-head attention over the last axis of ``qkv`` [B, 3*C, T]; returns [B, C, T]."""
    b, width, length = qkv.shape
    ch = width // (3 * num_heads)
    # One copy into token-major [B, T, 3C] so that q, k, v end with a unit-stride channel
    # axis, which the fused (flash / memory-efficient) SDPA kernels require.
    tokens = qkv.transpose(1, 2).contiguous()
    if new_order:
        q, k, v = tokens.reshape(b, length, 3, num_heads, ch).unbind(2)
    else:
        q, k, v = tokens.reshape(b, length, num_heads, 3, ch).unbind(3)
    # SDPA wants [B, heads, T, ch]; its default scale 1/sqrt(ch) equals ADM's.
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    return out.transpose(-1, -2).reshape(b, num_heads * ch, length)


class AttentionBlock(nn.Module):
    """Residual self-attention over all spatial positions: x + proj_out(attn(qkv(norm(x))))."""

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        num_head_channels: int = -1,
        use_new_attention_order: bool = False,
    ):
        super().__init__()
        self.channels = channels
        self.num_heads = heads_for(channels, num_heads, num_head_channels)
        self.new_order = use_new_attention_order
        self.norm = normalization(channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        h = qkv_attention(self.qkv(self.norm(x)), self.num_heads, self.new_order)
        return (x + self.proj_out(h)).reshape(b, c, *spatial)
