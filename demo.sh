#!/usr/bin/env bash
# The main job on the built-in defaults: trains a small GPT (gpt-mini, character-level) on the
# King James Bible and a CNN on Fashion-MNIST, on the CPU, then samples text from the GPT.
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
