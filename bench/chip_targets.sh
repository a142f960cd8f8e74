#!/usr/bin/env bash
# Every target of the chip comparison, each with its measured value and "pass" or "MISS":
#   t1 MFU on one GPT-2 124M training step (batch 8 x 1024, bf16)      >= 50 %
#   t1 tokens/s over the h20's on that step                            >= 2.0x
#   h20 8192^3 bf16 GEMM share of peak (real H20s: 92-93 %, measured)  90-95 %
#   t1 4096^3 bf16 GEMM share of peak (design target)                  >= 90 %
#   a100 preset against measured A100 GEMM rows with N, K >= 1024      every row within 15 %
#   wall time of `tessera compare --timing-only` for that step         < 60 s (2 cores)
# The step's table (time per kernel kind included) is printed first.
# Usage: bench/chip_targets.sh [BUILD]   (default build/; needs the targets tessera and bench_a100_gemm)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tessera=$build/tessera
status=0

row() {  # target, measured text, goal text, value, low, high: pass when low <= value <= high
  local verdict=pass
  if ! awk -v v="$4" -v lo="$5" -v hi="$6" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; then
    verdict=MISS
    status=1
  fi
  printf '%-44s %12s   %-26s %s\n' "$1" "$2" "$3" "$verdict"
}
field() {  # compare output, chip, column -> the column of the chip's row, without "%"
  awk -v c="$2" -v f="$3" '$1 == c { sub("%", "", $f); print $f; exit }' <<<"$1"
}
gemm_share() {  # chip, MxNxK -> share of peak in %
  field "$("$tessera" compare --gemm "$2" --chips "$1" --timing-only)" "$1" 4
}

start=$(date +%s.%N)
step=$("$tessera" compare --model gpt2-124m --batch 8 --seq 1024 --chips t1,h20,h100,a100 --timing-only) || exit 1
seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "$step"
echo

t1_mfu=$(field "$step" t1 4)
ratio=$(awk -v a="$(field "$step" t1 3)" -v b="$(field "$step" h20 3)" 'BEGIN { printf "%.2f", a / b }')
h20_gemm=$(gemm_share h20 8192x8192x8192)
t1_gemm=$(gemm_share t1 4096x4096x4096)
a100=$("$build/bench/bench_a100_gemm")
a100_rows=$(awk '$1 ~ /^[0-9]+$/ && !/N or K < 1024/' <<<"$a100")
a100_total=$(grep -c . <<<"$a100_rows")
a100_within=$(awk 'NF >= 7 { e = $7; sub("%", "", e); if (e < 0) e = -e; if (e <= 15) n++ } END { print n + 0 }' <<<"$a100_rows")

printf '%-44s %12s   %-26s %s\n' target measured goal verdict
row "t1 MFU, gpt2-124m B=8 T=1024 bf16" "$t1_mfu %" ">= 50 %" "$t1_mfu" 50 100
row "t1 / h20 tokens/s on that step" "${ratio}x" ">= 2.0x" "$ratio" 2 1e9
row "h20 8192^3 bf16 GEMM, share of peak" "$h20_gemm %" "90-95 % (measured 92-93)" "$h20_gemm" 90 95
row "t1 4096^3 bf16 GEMM, share of peak" "$t1_gemm %" ">= 90 %" "$t1_gemm" 90 100
row "a100 GEMM rows (N, K >= 1024) within 15 %" "$a100_within of $a100_total" "all" "$a100_within" "$a100_total" \
  "$a100_total"
row "compare --timing-only wall time" "$seconds s" "< 60 s" "$seconds" 0 59.999
exit $status
