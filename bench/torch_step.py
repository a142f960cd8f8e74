"""PyTorch side of the training-step benchmark: times full steps of the reference models.

A step is forward, mean cross-entropy, backward, AdamW step and zero_grad on one fixed random
batch. Prints one JSON line:
  {"model", "dtype", "threads", "batch", "seq", "steps", "median_step_ms", "min_step_ms",
   "peak_rss_mb", "flops_per_step"}
or, when bf16 autocast is not available, {"model", "dtype", "threads", "error"} (exit code 0,
so a driver script can go on with the other runs).

Usage: /usr/bin/python3 bench/torch_step.py --model gpt2-124m --batch 4 --seq 64 --dtype f32 \
           --threads 2 --steps 10 --warmup 2
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import torch_models as tm  # noqa: E402

GPT_MODELS = ("gpt2-124m", "gpt2-350m")
MLP_LAYERS = ((784, 512), (512, 256), (256, 10))  # (in, out)
# CNN convolutions as (out_h, out_w, out_channels, in_channels, kernel_h, kernel_w)
CNN_CONVS = ((28, 28, 16, 1, 3, 3), (14, 14, 32, 16, 3, 3))
CNN_FC = (1568, 10)


def gpt_flops_per_step(model, batch, seq):
    """6 * N * tokens + 12 * n_layer * T * C * tokens.

    N counts every trainable parameter once (wte once although it is also the output
    projection; wpe, biases and LayerNorm included): each parameter costs 2 FLOPs per token
    forward and 4 backward. The second term is attention's two (T x T) products, QK^T and
    probs @ V, over the full T x T square (no saving for the causal mask): 2 * 2 * T * C per
    token per layer forward, times 3 for forward + backward.
    """
    cfg = model.cfg
    tokens = batch * seq
    params = sum(p.numel() for p in model.parameters())
    return 6 * params * tokens + 12 * cfg.n_layer * seq * cfg.n_embd * tokens


def mlp_flops_per_step(batch):
    """3 x forward matmul FLOPs (2 * batch * in * out per layer); bias and ReLU not counted."""
    return 3 * sum(2 * batch * n_in * n_out for n_in, n_out in MLP_LAYERS)


def cnn_flops_per_step(batch):
    """3 x (conv FLOPs 2 * batch * OH * OW * Cout * Cin * KH * KW, plus the fc matmul);
    bias, ReLU and pooling not counted."""
    convs = sum(2 * batch * oh * ow * co * ci * kh * kw for oh, ow, co, ci, kh, kw in CNN_CONVS)
    return 3 * (convs + 2 * batch * CNN_FC[0] * CNN_FC[1])


def build(args):
    """Returns (model, inputs, targets, flops_per_step) for one fixed random batch."""
    if args.model in GPT_MODELS:
        model = tm.GPT(tm.gpt_config(args.model))
        vocab = model.cfg.vocab_size
        inputs = torch.randint(0, vocab, (args.batch, args.seq))  # (B, T)
        targets = torch.randint(0, vocab, (args.batch, args.seq))  # (B, T)
        return model, inputs, targets, gpt_flops_per_step(model, args.batch, args.seq)
    targets = torch.randint(0, 10, (args.batch,))  # (N)
    if args.model == "mlp":
        return tm.MLP(), torch.rand(args.batch, 784), targets, mlp_flops_per_step(args.batch)
    return tm.CNN(), torch.rand(args.batch, 1, 28, 28), targets, cnn_flops_per_step(args.batch)


def train_step(model, optimiser, inputs, targets, bf16):
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(inputs)
        loss = tm.mean_cross_entropy(logits, targets)
    loss.backward()
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)
    return logits.dtype


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=GPT_MODELS + ("mlp", "cnn"), required=True)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=64, help="sequence length (GPT only)")
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="f32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.seq < 1 or args.threads < 1:
        parser.error("--steps, --batch, --seq and --threads must be >= 1, --warmup >= 0")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, inputs, targets, flops = build(args)
    optimiser = tm.make_adamw(model)
    bf16 = args.dtype == "bf16"
    head = {"model": args.model, "dtype": args.dtype, "threads": args.threads}
    try:
        compute_dtype = train_step(model, optimiser, inputs, targets, bf16)  # first warm-up step
        if bf16 and compute_dtype != torch.bfloat16:
            raise RuntimeError(f"autocast produced {compute_dtype} logits, not bfloat16")
    except RuntimeError as e:
        if not bf16:
            raise
        print(json.dumps({**head, "error": f"bf16 autocast on the CPU failed: {e}"}))
        return
    for _ in range(max(args.warmup - 1, 0)):
        train_step(model, optimiser, inputs, targets, bf16)
    times_ms = []
    for _ in range(args.steps):
        start = time.perf_counter()
        train_step(model, optimiser, inputs, targets, bf16)
        times_ms.append((time.perf_counter() - start) * 1e3)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB
    print(json.dumps({**head, "batch": args.batch,
                      "seq": args.seq if args.model in GPT_MODELS else None,
                      "steps": args.steps, "median_step_ms": round(statistics.median(times_ms), 3),
                      "min_step_ms": round(min(times_ms), 3), "peak_rss_mb": round(peak_rss_mb, 1),
                      "flops_per_step": flops}))


if __name__ == "__main__":
    main()
