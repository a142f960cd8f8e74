#!/usr/bin/env bash
# The main job on the built-in defaults: trains a small GPT (gpt-mini, character-level) on the
# King James Bible and a CNN on Fashion-MNIST, on the CPU, and samples text from the GPT; then
# trains gpt-mini on the simulated Tessera T1 chip (every kernel a tile program, no CPU
# fallback) with its performance report, and compares one GPT-2 124M training step on T1 with
# the H20, H100 and A100 (timing model).
set -euo pipefail
cd "$(dirname "$0")"
tessera=build/tessera
runs=${RUNS_DIR:-runs}

echo "== gpt-mini on the King James Bible (character tokenizer) =="
$tessera train --model gpt-mini --dataset kjv --tokenizer char --steps 1200 --batch 16 --seq 128 \
  --lr 3e-3 --warmup 50 --eval-every 400 --checkpoint-dir "$runs/gpt-mini-kjv"
$tessera sample --checkpoint "$runs/gpt-mini-kjv" --prompt "And God said" --tokens 200

echo "== CNN on Fashion-MNIST =="
$tessera train --model cnn --dataset fashion-mnist --steps 1000 --batch 64 --lr 2e-3 \
  --warmup 50 --eval-batches 0 --checkpoint-dir "$runs/cnn-fashion-mnist"

echo "== gpt-mini on the simulated Tessera T1 chip =="
$tessera train --model gpt-mini --dataset kjv --tokenizer char --device chip:t1 --strict --steps 40 --batch 16 \
  --seq 128 --lr 3e-3 --warmup 10 --eval-batches 4

echo "== one GPT-2 124M training step (batch 8 x 1024, bf16) on T1 and the H20, H100, A100 =="
$tessera compare --model gpt2-124m --batch 8 --seq 1024 --chips t1,h20,h100,a100 --timing-only
