"""SEANet convolution stacks of Mimi, with explicit streaming state for the decoder.

Module and parameter names follow the original (kyutai / HF checkpoint) layout: `layers.{i}.conv`,
`layers.{i}.block.{1,3}.conv`, so a checkpoint loads with `load_state_dict` and no renaming.

Streaming state (decoder only) is a list of tensors, one per stateful conv, owned by the caller:
- a causal Conv1d keeps its last `padding_total` input samples (what whole-sequence decoding pads
  on the left is, chunk after chunk, the previous chunk's tail);
- a ConvTranspose1d keeps the `kernel - stride` output samples that overlap the next chunk's
  output (overlap-add), without bias, since the bias is added once per output sample.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.codecs.mimi_config import MimiConfig

ConvState = list[Tensor | None]


class CausalConv1d(nn.Module):
    """Conv1d padded like transformers' MimiConv1d (causal or centred, constant or replicate)."""

    def __init__(self, cfg: MimiConfig, c_in: int, c_out: int, kernel: int, stride: int = 1,
                 dilation: int = 1, bias: bool = True, pad_mode: str | None = None):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, stride, dilation=dilation, bias=bias)
        self.causal = cfg.use_causal_conv
        self.pad_mode = pad_mode or cfg.pad_mode
        self.stride = stride
        self.kernel_eff = (kernel - 1) * dilation + 1
        self.padding_total = self.kernel_eff - stride

    def _extra_right_padding(self, length: int) -> int:
        # pad the end so that the last window is complete (ceil), as the reference does
        n_frames = math.ceil((length - self.kernel_eff + self.padding_total) / self.stride + 1) - 1
        return n_frames * self.stride + self.kernel_eff - self.padding_total - length

    def _pad(self, x: Tensor, left: int, right: int) -> Tensor:
        if self.pad_mode == "constant":
            return F.pad(x, (left, right), mode="constant", value=0.0)
        return F.pad(x, (left, right), mode="replicate")

    def forward(self, x: Tensor) -> Tensor:
        # x: [B, C_in, T] -> [B, C_out, ceil(T / stride)]
        extra = self._extra_right_padding(x.shape[-1])
        if self.causal:
            x = self._pad(x, self.padding_total, extra)
        else:
            right = self.padding_total // 2
            x = self._pad(x, self.padding_total - right, right + extra)
        return self.conv(x)

    def stream(self, x: Tensor, tail: Tensor | None) -> tuple[Tensor, Tensor]:
        """One chunk of a causal stride-1 conv. x: [B, C_in, n] -> ([B, C_out, n], new tail)."""
        if self.stride != 1 or not self.causal:
            raise NotImplementedError("only causal stride-1 convolutions stream")
        if tail is None:  # first chunk: the same left padding as whole-sequence decoding
            pad_value = x[..., :1] if self.pad_mode == "replicate" else torch.zeros_like(x[..., :1])
            tail = pad_value.expand(-1, -1, self.padding_total)
        x = torch.cat([tail, x], dim=-1)
        new_tail = x[..., x.shape[-1] - self.padding_total:].clone()  # clone: don't pin the whole chunk
        return self.conv(x), new_tail


class CausalConvTranspose1d(nn.Module):
    """ConvTranspose1d trimmed like transformers' MimiConvTranspose1d (all trimming on the right)."""

    def __init__(self, cfg: MimiConfig, c_in: int, c_out: int, kernel: int, stride: int,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        self.conv = nn.ConvTranspose1d(c_in, c_out, kernel, stride, groups=groups, bias=bias)
        self.stride = stride
        self.overlap = kernel - stride
        if cfg.use_causal_conv:
            self.trim_right = math.ceil(self.overlap * cfg.trim_right_ratio)
        else:
            self.trim_right = self.overlap // 2
        self.trim_left = self.overlap - self.trim_right

    def forward(self, x: Tensor) -> Tensor:
        # x: [B, C_in, n] -> [B, C_out, n * stride] (when all trimming is on the right)
        y = self.conv(x)
        return y[..., self.trim_left: y.shape[-1] - self.trim_right]

    def _overlap_add(self, x: Tensor) -> Tensor:
        """Transposed conv without bias, untrimmed: [B, C_in, n] -> [B, C_out, (n - 1) * stride + k].

        As one matmul + fold rather than conv_transpose1d: on CPU the latter is ~15x slower on the
        few-step inputs of streaming (a 1024->512 k=16 layer: 240 ms vs 15 ms for 2 steps).
        Long inputs keep conv_transpose1d, which is as fast there and needs no [n, C_out*k] buffer."""
        if self.conv.groups != 1 or x.shape[-1] > 64:  # the grouped upsampler is cheap either way
            return F.conv_transpose1d(x, self.conv.weight, None, self.stride, groups=self.conv.groups)
        b, c_in, n = x.shape
        c_out, k = self.conv.weight.shape[1], self.conv.weight.shape[2]
        cols = torch.matmul(x.transpose(1, 2), self.conv.weight.reshape(c_in, c_out * k))  # [B, n, C_out*k]
        length = (n - 1) * self.stride + k
        y = F.fold(cols.transpose(1, 2), output_size=(1, length), kernel_size=(1, k), stride=(1, self.stride))
        return y.view(b, c_out, length)

    def stream(self, x: Tensor, tail: Tensor | None) -> tuple[Tensor, Tensor]:
        """One chunk: x [B, C_in, n] -> ([B, C_out, n * stride], overlap tail [B, C_out, k - s])."""
        if self.trim_left:
            raise NotImplementedError("streaming needs trim_right_ratio == 1.0 (as in kyutai/mimi)")
        y = self._overlap_add(x)  # [B, C_out, n * stride + overlap]
        if tail is not None:
            y = torch.cat([y[..., : self.overlap] + tail, y[..., self.overlap:]], dim=-1)
        n_out = x.shape[-1] * self.stride
        out, new_tail = y[..., :n_out], y[..., n_out:].clone()  # clone: don't pin the whole chunk
        if self.conv.bias is not None:
            out = out + self.conv.bias[:, None]
        return out, new_tail


class ResnetBlock(nn.Module):
    """SEANet residual unit: x + conv1x1(elu(conv_k(elu(x)))). `block.{0,2}` are the ELUs."""

    def __init__(self, cfg: MimiConfig, dim: int, dilation: int):
        super().__init__()
        hidden = dim // cfg.compress
        self.block = nn.ModuleList([
            nn.ELU(), CausalConv1d(cfg, dim, hidden, cfg.residual_kernel_size, dilation=dilation),
            nn.ELU(), CausalConv1d(cfg, hidden, dim, 1),
        ])
        self.shortcut = CausalConv1d(cfg, dim, dim, 1) if cfg.use_conv_shortcut else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.block[1](F.elu(x))
        h = self.block[3](F.elu(h))
        return (self.shortcut(x) if self.shortcut is not None else x) + h

    def convs(self) -> list[CausalConv1d]:
        return [self.block[1], self.block[3]] + ([self.shortcut] if self.shortcut is not None else [])

    def stream(self, x: Tensor, state: ConvState, i: int) -> tuple[Tensor, int]:
        """Streams through the block using state[i:]; returns the output and the next state index."""
        h, state[i] = self.block[1].stream(F.elu(x), state[i])
        h, state[i + 1] = self.block[3].stream(F.elu(h), state[i + 1])
        i += 2
        if self.shortcut is not None:
            x, state[i] = self.shortcut.stream(x, state[i])
            i += 1
        return x + h, i


class SeanetEncoder(nn.Module):
    """Audio [B, C, T] -> latents [B, hidden, T / hop_length] (25 Hz for kyutai/mimi)."""

    def __init__(self, cfg: MimiConfig):
        super().__init__()
        layers: list[nn.Module] = [CausalConv1d(cfg, cfg.audio_channels, cfg.num_filters, cfg.kernel_size)]
        scale = 1
        for ratio in reversed(cfg.upsampling_ratios):
            dim = scale * cfg.num_filters
            layers += [ResnetBlock(cfg, dim, cfg.dilation_growth_rate ** j) for j in range(cfg.num_residual_layers)]
            layers += [nn.ELU(), CausalConv1d(cfg, dim, dim * 2, kernel=ratio * 2, stride=ratio)]
            scale *= 2
        layers += [nn.ELU(), CausalConv1d(cfg, scale * cfg.num_filters, cfg.hidden_size, cfg.last_kernel_size)]
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class SeanetDecoder(nn.Module):
    """Latents [B, hidden, n] -> audio [B, C, n * hop_length], whole or chunk by chunk."""

    def __init__(self, cfg: MimiConfig):
        super().__init__()
        scale = 2 ** len(cfg.upsampling_ratios)
        layers: list[nn.Module] = [CausalConv1d(cfg, cfg.hidden_size, scale * cfg.num_filters, cfg.kernel_size)]
        for ratio in cfg.upsampling_ratios:
            dim = scale * cfg.num_filters
            layers += [nn.ELU(), CausalConvTranspose1d(cfg, dim, dim // 2, kernel=ratio * 2, stride=ratio)]
            layers += [ResnetBlock(cfg, dim // 2, cfg.dilation_growth_rate ** j)
                       for j in range(cfg.num_residual_layers)]
            scale //= 2
        layers += [nn.ELU(), CausalConv1d(cfg, cfg.num_filters, cfg.audio_channels, cfg.last_kernel_size)]
        self.layers = nn.ModuleList(layers)
        self.streamable = cfg.use_causal_conv and cfg.trim_right_ratio == 1.0

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def n_states(self) -> int:
        n = 0
        for layer in self.layers:
            if isinstance(layer, ResnetBlock):
                n += len(layer.convs())
            elif isinstance(layer, (CausalConv1d, CausalConvTranspose1d)):
                n += 1
        return n

    def stream(self, x: Tensor, state: ConvState) -> Tensor:
        """x: [B, hidden, n] -> [B, C, n * hop_length]; updates `state` in place."""
        if not self.streamable:
            raise NotImplementedError("streaming decode needs a causal Mimi with trim_right_ratio == 1.0")
        i = 0
        for layer in self.layers:
            if isinstance(layer, ResnetBlock):
                x, i = layer.stream(x, state, i)
            elif isinstance(layer, (CausalConv1d, CausalConvTranspose1d)):
                x, state[i] = layer.stream(x, state[i])
                i += 1
            else:
                x = layer(x)
        return x
