"""GPT-2-style decoder (nanoGPT shape): learned positions, pre-LayerNorm blocks, GELU MLP, tied embeddings.

Attention is written out (q k^T, causal mask, softmax) so that its probabilities are a real output of
the exported graph. forward() returns (logits [B,T,V], hidden_states [L+1,B,T,D], attentions [L,B,H,T,T]):
hidden_states[0] is the embedding output (tokens + positions), hidden_states[l] the residual stream after
block l, before the final LayerNorm.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    context: int = 256
    layers: int = 4
    heads: int = 4
    width: int = 192


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.qkv = nn.Linear(c.width, 3 * c.width)
        self.proj = nn.Linear(c.width, c.width)
        self.register_buffer('mask', torch.tril(torch.ones(c.context, c.context, dtype=torch.bool)).view(1, 1, c.context, c.context),
                             persistent=False)

    def forward(self, x):
        B, T, D = x.shape
        H = self.heads
        q, k, v = self.qkv(x).split(D, dim=2)
        q = q.view(B, T, H, D // H).transpose(1, 2)
        k = k.view(B, T, H, D // H).transpose(1, 2)
        v = v.view(B, T, H, D // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(~self.mask[:, :, :T, :T], float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(y), att


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.width)
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c.width)
        self.fc = nn.Linear(c.width, 4 * c.width)
        self.out = nn.Linear(4 * c.width, c.width)

    def forward(self, x):
        a, att = self.attn(self.ln1(x))
        x = x + a
        x = x + self.out(F.gelu(self.fc(self.ln2(x))))
        return x, att


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.tok = nn.Embedding(c.vocab_size, c.width)
        self.pos = nn.Embedding(c.context, c.width)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.layers)])
        self.ln_f = nn.LayerNorm(c.width)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith('proj.weight') or name.endswith('out.weight'):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def head(self, h):
        """Final LayerNorm and the tied unembedding: residual stream -> logits."""
        return self.ln_f(h) @ self.tok.weight.t()

    def forward(self, input_ids, with_internals=True):
        B, T = input_ids.shape
        pos = torch.arange(T, device=input_ids.device)
        x = self.tok(input_ids) + self.pos(pos)
        hidden, atts = [x], []
        for b in self.blocks:
            x, att = b(x)
            hidden.append(x)
            atts.append(att)
        logits = self.head(x)
        if not with_internals:
            return logits
        return logits, torch.stack(hidden), torch.stack(atts)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


class Head(nn.Module):
    """head.onnx: hidden [N, D] -> logits [N, V]."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, hidden):
        return self.gpt.head(hidden)
