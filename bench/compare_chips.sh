#!/usr/bin/env bash
# One GPT-2 124M training step (batch 8 x 1024 tokens, bf16 autocast, AdamW) estimated on
# t1, the H20, H100 and A100 by the timing model (`tessera compare --timing-only`), then the
# large bf16 GEMMs that anchor the comparison, each against its target:
#   t1 4096^3 >= 90 % of peak (design target);
#   h20 large GEMMs 90-95 % of peak (real H20s measure 136.4-137.8 of 148 TFLOPS, 92-93 %).
# Usage: bench/compare_chips.sh [TESSERA]   (default build/tessera; about a minute on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=${1:-build/tessera}
"$tessera" compare --model gpt2-124m --batch 8 --seq 1024 --chips t1,h20,h100,a100 --timing-only
echo
status=0
check() {  # chip size low high
  local out share verdict
  out=$("$tessera" compare --gemm "$2" --chips "$1" --timing-only)
  share=$(awk -v c="$1" '$1 == c { sub("%", "", $4); print $4 }' <<<"$out")
  if awk -v s="$share" -v lo="$3" -v hi="$4" 'BEGIN { exit !(s >= lo && s <= hi) }'; then verdict=ok; else verdict=MISSED; status=1; fi
  printf '%-4s bf16 GEMM %-15s %5.1f %% of peak  (target %s-%s %%)  %s\n' "$1" "$2" "$share" "$3" "$4" "$verdict"
}
check t1 4096x4096x4096 90 100
check h20 4096x4096x4096 90 95
check h20 8192x8192x8192 90 95
exit $status
