"""Loads a GPT-2 checkpoint in the Hugging Face layout into the PyTorch GPT and prints its loss.

Shows that a safetensors checkpoint (Tessera's or Hugging Face's) loads in PyTorch code written
for that layout. Names may carry a `transformer.` prefix; `lm_head.weight` must equal
`wte.weight` (the projection is tied); `h.{i}.attn.bias` and `h.{i}.attn.masked_bias` (mask
buffers) are ignored. Sizes come from the tensor shapes; the head count from --n-head, else the
file's `n_head` metadata, else n_embd / 64 (the GPT-2 head size).

Usage: /usr/bin/python3 tools/torch_load_gpt.py CKPT (--tokens 1,2,3 | --token-file F)
Token files are whitespace- or comma-separated integers (text) or raw little-endian u16 (.bin).
The loss is the mean next-token cross-entropy over windows of at most block_size + 1 tokens.
Prints one JSON line: {"loss", "predicted_tokens", "params", "n_layer", "n_head", ...}.
"""
import argparse
import json
import os
import re
import sys

import numpy
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import torch_models as tm  # noqa: E402

_IGNORED = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")


def hf_state_dict(tensors, path):
    """Strips the `transformer.` prefix, checks and drops lm_head, drops the mask buffers."""
    state = {}
    for name, t in tensors.items():
        bare = name[len("transformer."):] if name.startswith("transformer.") else name
        if not _IGNORED.match(bare):
            state[bare] = t
    if "wte.weight" not in state:
        raise ValueError(f"torch_load_gpt {path}: no wte.weight (names: {sorted(state)[:5]}...)")
    if "lm_head.weight" in state:
        lm_head = state.pop("lm_head.weight")
        if not torch.equal(lm_head, state["wte.weight"]):
            raise ValueError(f"torch_load_gpt {path}: lm_head.weight differs from wte.weight; "
                             f"this GPT ties its output projection to the token embedding")
    return state


def config_from_state(state, metadata, n_head):
    vocab_size, n_embd = state["wte.weight"].shape
    block_size = state["wpe.weight"].shape[0]
    n_layer = len({int(m.group(1)) for m in map(re.compile(r"^h\.(\d+)\.").match, state) if m})
    if n_head is None:
        n_head = int(metadata["n_head"]) if "n_head" in metadata else n_embd // 64
    return tm.GPTConfig(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size,
                        vocab_size=vocab_size)


def load_gpt(path, n_head=None):
    """Returns the torch GPT holding the checkpoint's weights (strict: every name must match)."""
    tensors, metadata = safetensors_io.load(path)
    state = hf_state_dict(tensors, path)
    cfg = config_from_state(state, metadata, n_head)
    if cfg.n_embd % cfg.n_head != 0:
        raise ValueError(f"torch_load_gpt {path}: n_embd {cfg.n_embd} is not divisible by "
                         f"n_head {cfg.n_head}")
    model = tm.GPT(cfg)
    model.load_state_dict({n: t.float() for n, t in state.items()}, strict=True)
    return model


def read_tokens(path):
    if path.endswith(".bin"):
        return torch.from_numpy(numpy.fromfile(path, dtype="<u2").astype(numpy.int64))
    with open(path) as f:
        return torch.tensor([int(w) for w in re.split(r"[\s,]+", f.read().strip()) if w])


@torch.no_grad()
def sequence_loss(model, tokens):
    """Mean next-token cross-entropy of a 1-D token sequence, in windows of block_size + 1."""
    if tokens.numel() < 2:
        raise ValueError(f"torch_load_gpt: need at least 2 tokens, got {tokens.numel()}")
    if int(tokens.max()) >= model.cfg.vocab_size or int(tokens.min()) < 0:
        raise ValueError(f"torch_load_gpt: token ids must be in [0, {model.cfg.vocab_size})")
    total, count, window = 0.0, 0, model.cfg.block_size
    for start in range(0, tokens.numel() - 1, window):
        chunk = tokens[start:start + window + 1]
        logits = model(chunk[:-1].unsqueeze(0))  # (1, T, V)
        total += tm.mean_cross_entropy(logits, chunk[1:].unsqueeze(0)).item() * (chunk.numel() - 1)
        count += chunk.numel() - 1
    return total / count, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tokens", help="comma-separated token ids")
    source.add_argument("--token-file", help="text of integers, or raw u16 if it ends in .bin")
    parser.add_argument("--n-head", type=int, help="attention heads (default: metadata or C/64)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_gpt(args.checkpoint, args.n_head)
    tokens = (torch.tensor([int(t) for t in args.tokens.split(",")]) if args.tokens
              else read_tokens(args.token_file))
    loss, count = sequence_loss(model, tokens)
    cfg = model.cfg
    print(json.dumps({"loss": loss, "predicted_tokens": count,
                      "params": sum(p.numel() for p in model.parameters()),
                      "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_embd": cfg.n_embd,
                      "block_size": cfg.block_size, "vocab_size": cfg.vocab_size}))


if __name__ == "__main__":
    main()
