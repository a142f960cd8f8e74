#!/usr/bin/env bash
# The host cost of simulation: the same training steps (forward, backward, AdamW) on the fast
# CPU backend (--device cpu) and on the simulated chip (--device chip:t1), timed by
# `tessera bench` on synthetic data, in alternating rounds. Prints each workload's host
# wall-clock ms per step on both (median over rounds of each run's median step) and the ratio
# chip / cpu. The target: gpt-mini's step on chip:t1 at most 1.5x the cpu's.
# On the chip the warm-up step runs every program through the full simulation (event loop and
# timing model); the timed steps repeat known programs untimed (runtime/launch_cache.h), as
# every step of a training run after its first does.
# gpt-mini runs with the char tokenizer's vocabulary of the kjv corpus (73), as
# `tessera train --model gpt-mini --dataset kjv --batch 4 --seq 64` does; kernels the chip does
# not run fall back to the CPU, and their time is counted in the chip's step.
# Usage: bench/sim_cost.sh [TESSERA] [ROUNDS]   (default build/tessera, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=${1:-build/tessera}
rounds=${2:-3}
workloads=(  # name | bench options
  "mlp b64|--model mlp --batch 64 --steps 10"
  "cnn b64|--model cnn --batch 64 --steps 5"
  "gpt-mini b4 t64|--model gpt-mini --vocab 73 --batch 4 --seq 64 --steps 5"
)

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
step_ms() {  # device, bench options...
  local device=$1
  shift
  "$tessera" bench --device "$device" --warmup 1 "$@" 2>/dev/null | tail -n 1 |
    sed -n 's/.*"median_step_ms":\([0-9.e+-]*\).*/\1/p'
}

echo "host ms per training step, median of $rounds alternating rounds ($(nproc) host cores)"
printf '%-18s %10s %12s %8s\n' workload cpu chip:t1 ratio
for entry in "${workloads[@]}"; do
  name=${entry%%|*}
  read -r -a options <<<"${entry#*|}"
  cpu=() chip=()
  for ((r = 0; r < rounds; ++r)); do
    cpu+=("$(step_ms cpu "${options[@]}")")
    chip+=("$(step_ms chip:t1 "${options[@]}")")
  done
  cpu_ms=$(printf '%s\n' "${cpu[@]}" | median)
  chip_ms=$(printf '%s\n' "${chip[@]}" | median)
  ratio=$(awk -v a="$chip_ms" -v b="$cpu_ms" 'BEGIN { print a / b }')
  printf '%-18s %10.2f %12.2f %7.1fx\n' "$name" "$cpu_ms" "$chip_ms" "$ratio"
done
