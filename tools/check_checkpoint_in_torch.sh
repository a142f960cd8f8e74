#!/usr/bin/env bash
# Shows that a Tessera GPT checkpoint loads in PyTorch code written for the Hugging Face GPT-2
# layout (tools/torch_load_gpt.py): trains gpt-mini briefly, then prints the loss of one text
# computed by Tessera and by PyTorch from the same model.safetensors; they must agree to 1e-5.
# Needs python3-torch (./setup.sh --with-torch).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build/tessera train --model gpt-mini --dataset kjv --tokenizer char --steps 20 --batch 8 --seq 64 --quiet \
  --checkpoint-dir "$dir" >/dev/null
out=$(build/tessera eval --checkpoint "$dir" --text "And God said unto Moses, Let there be light.")
tokens=$(sed -n 's/^tokens //p' <<<"$out")
tessera_loss=$(sed -n 's/^loss \([0-9.]*\) .*/\1/p' <<<"$out")
torch_loss=$(/usr/bin/python3 tools/torch_load_gpt.py "$dir/$(cat "$dir/latest")/model.safetensors" --tokens "$tokens" \
  --n-head 4 | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["loss"])')
echo "loss in Tessera $tessera_loss, in PyTorch $torch_loss"
/usr/bin/python3 -c "import sys; sys.exit(0 if abs($tessera_loss - $torch_loss) < 1e-5 else 1)" && echo "agree" \
  || { echo "DISAGREE"; exit 1; }
