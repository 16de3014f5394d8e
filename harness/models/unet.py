"""The ADM UNet (Dhariwal & Nichol 2021) with guided-diffusion's state-dict layout.

The order in which blocks are appended to ``input_blocks`` / ``output_blocks`` and the
skip-channel bookkeeping follow ADM exactly: they decide every state-dict key and shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from harness.models.attention import AttentionBlock
from harness.models.layers import (
    Downsample,
    ResBlock,
    TimestepEmbedSequential,
    Upsample,
    normalization,
    timestep_embedding,
    zero_module,
)


class UNetModel(nn.Module):
    """UNet with timestep (and optional class) conditioning and attention at chosen strides.

    ``attention_resolutions`` holds downsampling rates (1, 2, 4, ...), as in ADM; the
    ``create_model`` factory converts image resolutions into rates.
    """

    def __init__(
        self,
        image_size: int,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: int,
        attention_resolutions: Sequence[int],
        dropout: float = 0.0,
        channel_mult: Sequence[float] = (1, 2, 4, 8),
        conv_resample: bool = True,
        num_classes: int | None = None,
        use_checkpoint: bool = False,
        use_fp16: bool = False,
        num_heads: int = 1,
        num_head_channels: int = -1,
        num_heads_upsample: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
    ):
        super().__init__()
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.image_size = image_size
        self.in_channels = in_channels
        self.model_channels = model_channels
        self.out_channels = out_channels
        self.num_classes = num_classes
        self.use_checkpoint = use_checkpoint
        # dtype of the torso (input/middle/output blocks); ADM's fp16 mode runs it in half.
        self.dtype = torch.float16 if use_fp16 else torch.float32

        emb_dim = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        if num_classes is not None:
            self.label_emb = nn.Embedding(num_classes, emb_dim)

        def res(ch_in: int, ch_out: int | None = None, **updown: bool) -> ResBlock:
            return ResBlock(ch_in, emb_dim, dropout, ch_out, use_scale_shift_norm, **updown)

        def attn(ch: int, heads: int) -> AttentionBlock:
            return AttentionBlock(ch, heads, num_head_channels, use_new_attention_order)

        ch = input_ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(nn.Conv2d(in_channels, ch, 3, padding=1))]
        )
        skip_chans = [ch]
        ds = 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers: list[nn.Module] = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                skip_chans.append(ch)
            if level != len(channel_mult) - 1:
                down = res(ch, ch, down=True) if resblock_updown else Downsample(ch, conv_resample)
                self.input_blocks.append(TimestepEmbedSequential(down))
                skip_chans.append(ch)
                ds *= 2

        self.middle_block = TimestepEmbedSequential(res(ch), attn(ch, num_heads), res(ch))

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skip_chans.pop(), int(model_channels * mult))]
                ch = int(model_channels * mult)
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    up = res(ch, ch, up=True) if resblock_updown else Upsample(ch, conv_resample)
                    layers.append(up)
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))

        self.out = nn.Sequential(
            normalization(ch),
            nn.SiLU(),
            zero_module(nn.Conv2d(input_ch, out_channels, 3, padding=1)),
        )

    def convert_to_fp16(self, dtype: torch.dtype = torch.float16) -> None:
        """Cast the torso's conv weights to ``dtype`` (ADM's fp16 mode; bfloat16 also works).

        Norms keep float32 parameters and compute in float32; embeddings stay float32.
        """
        self.dtype = dtype
        for blocks in (self.input_blocks, self.middle_block, self.output_blocks):
            for m in blocks.modules():
                if isinstance(m, nn.Conv1d | nn.Conv2d):
                    m.to(dtype)

    def convert_to_fp32(self) -> None:
        """Undo :meth:`convert_to_fp16`."""
        self.convert_to_fp16(torch.float32)

    def _run(self, block: TimestepEmbedSequential, h: torch.Tensor, emb: torch.Tensor):
        if self.use_checkpoint and self.training and torch.is_grad_enabled():
            return checkpoint(block, h, emb, use_reentrant=False)
        return block(h, emb)

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict the network output [N, out_channels, H, W] for inputs x at ``timesteps``."""
        if (y is not None) != (self.num_classes is not None):
            raise ValueError(
                "pass labels y if and only if the model is class-conditional "
                f"(num_classes={self.num_classes}, y given: {y is not None})"
            )
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels))
        if y is not None:
            if y.shape != (x.shape[0],):
                raise ValueError(f"labels y must have shape ({x.shape[0]},), got {tuple(y.shape)}")
            emb = emb + self.label_emb(y)
        skips = []
        h = x.type(self.dtype)
        for block in self.input_blocks:
            h = self._run(block, h, emb)
            skips.append(h)
        h = self._run(self.middle_block, h, emb)
        for block in self.output_blocks:
            h = self._run(block, torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h.type(x.dtype))
