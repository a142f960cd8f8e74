#!/usr/bin/env bash
# Trains the MLP and the CNN on Fashion-MNIST to their accuracy targets (MLP >= 85 %,
# CNN >= 89 % on the 10,000 test images) and prints each result against its target.
# Usage: bench/fashion_mnist_accuracy.sh [DEVICE]   (after ./setup.sh; default cpu, about 5
# minutes on 2 cores; a chip device, e.g. chip:t1, runs in strict mode: every kernel on the chip)
set -euo pipefail
cd "$(dirname "$0")/.."
device=${1:-cpu}
strict=()
[[ $device == chip:* ]] && strict=(--strict)
status=0
check() {  # model steps lr target
  local out accuracy
  out=$(build/tessera train --model "$1" --dataset fashion-mnist --steps "$2" --batch 64 --lr "$3" \
        --warmup 100 --eval-batches 0 --quiet --device "$device" "${strict[@]}")
  accuracy=$(sed -n 's/.*accuracy \([0-9.]*\) %.*/\1/p' <<<"$out")
  if awk -v a="$accuracy" -v t="$4" 'BEGIN { exit !(a >= t) }'; then verdict=ok; else verdict=MISSED; status=1; fi
  printf '%-4s on %s, %5d steps of 64: test accuracy %6.2f %%  (target >= %s %%)  %s\n' "$1" "$device" "$2" "$accuracy" "$4" "$verdict"
}
check mlp 3000 1e-3 85
check cnn 3000 2e-3 89
exit $status
