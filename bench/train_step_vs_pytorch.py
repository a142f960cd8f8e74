#!/usr/bin/python3
"""The training-step benchmark: the same step in Tessera and in PyTorch, side by side.

For each workload (gpt2-124m at B=4, T=64 in f32 and bf16, the Fashion-MNIST MLP and CNN at
batch 64) it runs `build/tessera bench` and bench/torch_step.py alternately, with the same
thread count, `--rounds` times, and prints the median step times, their ratio, Tessera's
GFLOP/s against the CPU's fp32 peak, and both peak memories.

Usage: /usr/bin/python3 bench/train_step_vs_pytorch.py [--threads N] [--rounds R] [--only NAME]
Needs python3-torch (./setup.sh --with-torch).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = [  # name, model, dtype, batch, seq, timed steps
    ("gpt2-124m f32", "gpt2-124m", "f32", 4, 64, 3),
    ("gpt2-124m bf16", "gpt2-124m", "bf16", 4, 64, 3),
    ("mlp f32", "mlp", "f32", 64, 1, 30),
    ("cnn f32", "cnn", "f32", 64, 1, 20),
]


def run_json(command, env):
    out = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="run only the workloads whose name contains this")
    args = parser.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")
    print(f"threads: {args.threads} for both; {args.rounds} alternating rounds; medians of per-round medians")
    rows = []
    for name, model, dtype, batch, seq, steps in WORKLOADS:
        if args.only and args.only not in name:
            continue
        tessera_runs, torch_runs = [], []
        for _ in range(args.rounds):
            tessera_runs.append(run_json([os.path.join(ROOT, "build", "tessera"), "bench", "--model", model,
                                          "--precision", dtype, "--batch", str(batch), "--seq", str(seq),
                                          "--steps", str(steps), "--warmup", "1"], env))
            torch_runs.append(run_json([sys.executable, os.path.join(ROOT, "bench", "torch_step.py"), "--model", model,
                                        "--dtype", dtype, "--batch", str(batch), "--seq", str(seq),
                                        "--threads", str(args.threads), "--steps", str(steps), "--warmup", "1"], env))
        if "error" in torch_runs[0]:
            print(f"{name}: PyTorch cannot run it here: {torch_runs[0]['error']}")
            continue
        t_ms = statistics.median(r["median_step_ms"] for r in tessera_runs)
        p_ms = statistics.median(r["median_step_ms"] for r in torch_runs)
        flops = tessera_runs[0]["flops_per_step"]
        peak = tessera_runs[0]["peak_gflops"]
        rows.append((name, t_ms, p_ms, p_ms / t_ms, flops / t_ms / 1e6, 100 * flops / t_ms / 1e6 / peak,
                     max(r["peak_rss_mb"] for r in tessera_runs), max(r["peak_rss_mb"] for r in torch_runs)))
    print(f"CPU fp32 peak: {tessera_runs[0]['peak_gflops']:.1f} GFLOP/s = {tessera_runs[0]['peak_basis']}")
    print(f"{'workload':<16}{'tessera ms':>12}{'pytorch ms':>12}{'speed-up':>10}{'GFLOP/s':>10}{'% peak':>8}"
          f"{'tessera MB':>12}{'pytorch MB':>12}")
    for name, t_ms, p_ms, ratio, gflops, pct, t_mb, p_mb in rows:
        print(f"{name:<16}{t_ms:>12.1f}{p_ms:>12.1f}{ratio:>9.2f}x{gflops:>10.1f}{pct:>7.1f}%{t_mb:>12.0f}{p_mb:>12.0f}")


if __name__ == "__main__":
    main()
