"""PyTorch reference models for Tessera's correctness fixtures and speed benchmark.

GPT follows the GPT-2 architecture with the Hugging Face tensor names and (in, out) weight
layout (see shared/reference/formats.md); MLP and CNN use the nn.Linear / nn.Conv2d layout.
All models are f32 and have no dropout.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERNORM_EPS = 1e-5
INIT_STD = 0.02


@dataclass
class GPTConfig:
    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    vocab_size: int


GPT_PRESETS = {
    "gpt-mini": dict(n_layer=4, n_head=4, n_embd=128, block_size=256),
    "gpt2-124m": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50257),
    "gpt2-350m": dict(n_layer=24, n_head=16, n_embd=1024, block_size=1024, vocab_size=50257),
}


def gpt_config(preset, vocab_size=None):
    """The config of a named preset; gpt-mini takes its vocabulary size from the caller."""
    if preset not in GPT_PRESETS:
        raise ValueError(f"gpt_config: unknown preset '{preset}', valid: {sorted(GPT_PRESETS)}")
    fields = dict(GPT_PRESETS[preset])
    if vocab_size is not None:
        fields["vocab_size"] = vocab_size
    if "vocab_size" not in fields:
        raise ValueError(f"gpt_config: preset '{preset}' needs vocab_size from the caller")
    return GPTConfig(**fields)


class InOutLinear(nn.Module):
    """y = x @ weight + bias with weight stored (in, out), as in the GPT-2 checkpoints."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))  # (in, out)
        self.bias = nn.Parameter(torch.zeros(n_out))  # (out)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], self.weight.shape[1])


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = InOutLinear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = InOutLinear(cfg.n_embd, cfg.n_embd)

    def forward(self, x):  # x: (B, T, C)
        B, T, C = x.shape
        head_dim = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # each (B, T, C)
        q = q.view(B, T, self.n_head, head_dim).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, self.n_head, head_dim).transpose(1, 2)  # (B, H, T, D)
        v = v.view(B, T, self.n_head, head_dim).transpose(1, 2)  # (B, H, T, D)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))  # (B, H, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        probs = F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # (B, H, T, T)
        y = (probs @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.c_proj(y)


class GPTMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = InOutLinear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = InOutLinear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):  # x: (B, T, C)
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=LAYERNORM_EPS)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=LAYERNORM_EPS)
        self.mlp = GPTMLP(cfg)

    def forward(self, x):  # x: (B, T, C)
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """GPT-2; state_dict names are wte.weight, wpe.weight, h.{i}.ln_1.weight, ..., ln_f.bias."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)  # (V, C)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)  # (block_size, C)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=LAYERNORM_EPS)
        self.reset_parameters()

    def reset_parameters(self):
        """N(0, 0.02) weights and embeddings, N(0, 0.02/sqrt(2 n_layer)) for c_proj weights,
        zero biases, LayerNorm weight 1 and bias 0."""
        proj_std = INIT_STD / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, proj_std)
            elif ".ln_" in name or name.startswith("ln_f"):
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, 0.0, INIT_STD)

    def forward(self, tokens):  # tokens: (B, T) int64 -> logits (B, T, V)
        T = tokens.shape[1]
        if T > self.cfg.block_size:
            raise ValueError(f"GPT.forward: sequence length {T} exceeds block_size "
                             f"{self.cfg.block_size}")
        positions = torch.arange(T, device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)  # (B, T, C)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return x @ self.wte.weight.t()  # (B, T, V), tied output projection, no bias


class MLP(nn.Module):
    """784 -> 512 -> ReLU -> 256 -> ReLU -> 10, input (N, 784)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):  # x: (N, 784) -> (N, 10)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    """conv3x3(1->16) ReLU pool2, conv3x3(16->32) ReLU pool2, flatten NCHW, fc(1568->10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=1, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):  # x: (N, 1, 28, 28) -> (N, 10)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)  # (N, 16, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)  # (N, 32, 7, 7)
        return self.fc(x.flatten(1))  # (N, 1568) -> (N, 10)


def mean_cross_entropy(logits, targets):
    """Mean cross-entropy over all positions; logits (..., K), targets (...) int64."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def make_adamw(model):
    """The optimiser used by the fixtures and the benchmark: AdamW on all parameters."""
    return torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                             weight_decay=0.01)


ADAMW_SETTINGS = dict(lr="1e-3", beta1="0.9", beta2="0.999", eps="1e-8", weight_decay="0.01")
