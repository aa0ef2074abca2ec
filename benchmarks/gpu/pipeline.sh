#!/usr/bin/env bash
# The whole GPU measurement, resumable: build, write arch GGUFs, quantize, measure, pack the build.
# Started by run_gpu_bench.sh in its own session from a copy of the repo under $STATE/src, so the
# device tool re-sending the working tree cannot change a script while bash reads it.
# Every step leaves a marker or a JSON file in $STATE and is skipped when that exists.
set -uo pipefail
STATE=${STATE:-/tmp/rgb}
ARCH=${ARCH:-/tmp/arch}
cd "$STATE/src"
mkdir -p "$ARCH" "$STATE/json" "$STATE/logs"
log() { echo "[$(date +%T)] $*"; }

log "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
[ -d /tmp/site/gguf ] || python3 -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
# 1. F16 files in the background (numpy + gguf only) while llama.cpp compiles.
if [ ! -f "$ARCH/mistral-arch-f16.gguf" ] && [ ! -f "$ARCH/mistral-arch-Q2_K.gguf" ]; then
  PYTHONPATH=/tmp/site python3 -m benchmarks.make_arch_gguf --arch tinyllama --arch mistral \
      --quant F16 --out "$ARCH" > "$STATE/gen.log" 2>&1 &
  GEN_PID=$!
fi
# 2. The CUDA build.
bash benchmarks/gpu/build_cuda.sh > "$STATE/build.log" 2>&1 || { log "BUILD FAILED"; tail -30 "$STATE/build.log"; exit 1; }
log "$(tail -1 "$STATE/build.log")"
source benchmarks/gpu/env.sh
python3 -c 'import llama_cpp; print("gpu offload:", llama_cpp.llama_supports_gpu_offload())'
# 3. Pack the build so later sessions can carry it instead of rebuilding.
if [ ! -f "$STATE/pack.done" ]; then
  du -sh /tmp/llama; find /tmp/llama -name '*.so*' -size +1M -exec ls -la {} \;
  if command -v xz > /dev/null; then
    tar -C /tmp -cf - llama | xz -T0 -6 > "$STATE/llama_cuda.tar.xz"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "w:xz").add("/tmp/llama", "llama")' \
        "$STATE/llama_cuda.tar.xz"
  fi
  ls -la "$STATE/llama_cuda.tar.xz" && touch "$STATE/pack.done"
fi
# 4. Quantize (llama_model_quantize from the CUDA build; CPU work).
[ -n "${GEN_PID:-}" ] && { wait "$GEN_PID"; log "gen rc=$?"; cat "$STATE/gen.log"; }
for spec in tinyllama:Q5_K_M mistral:Q2_K; do
  a=${spec%%:*}; q=${spec##*:}
  [ -f "$ARCH/$a-arch-$q.gguf" ] && continue
  python3 -m benchmarks.make_arch_gguf --arch "$a" --quant "$q" --out "$ARCH" 2>&1 \
      | grep -v '^\[' | tail -3
done
ls -la "$ARCH"
# 5. Measurements: raw llama-cpp-python, GPU and 16 CPU threads, then the app's own path.
bench() {  # name, then raw_llama flags
  local name=$1; shift
  [ -f "$STATE/json/$name.json" ] && return
  log "bench $name"
  python3 -m benchmarks.raw_llama "$@" --json "$STATE/json/$name.json" > "$STATE/logs/$name.log" 2>&1
  log "rc=$? $(grep '^| ' "$STATE/logs/$name.log" | tail -1 | tee -a "$STATE/rows.md")"
}
NT=$(nproc)
T=$ARCH/tinyllama-arch-Q5_K_M.gguf; M=$ARCH/mistral-arch-Q2_K.gguf
bench tiny-gpu "$T" --n-gpu-layers -1 --n-threads "$NT" --label "TinyLlama-arch Q5_K_M" --repeats 5
bench mistral-gpu "$M" --n-gpu-layers -1 --n-threads "$NT" --label "Mistral-7B-arch Q2_K" --repeats 5
bench tiny-cpu "$T" --n-gpu-layers 0 --n-threads "$NT" --label "TinyLlama-arch Q5_K_M"
bench mistral-cpu "$M" --n-gpu-layers 0 --n-threads "$NT" --label "Mistral-7B-arch Q2_K"
for m in tiny:"$T" mistral:"$M"; do
  n=${m%%:*}; f=${m#*:}
  [ -f "$STATE/json/app-$n-gpu.json" ] && continue
  log "app bench $n"
  python3 -m benchmarks.gpu.app_llm_bench "$f" --n-gpu-layers -1 --repeats 3 \
      --json "$STATE/json/app-$n-gpu.json" > "$STATE/logs/app-$n.log" 2>&1
  log "rc=$? $(grep '^| ' "$STATE/logs/app-$n.log" | tail -1 | tee -a "$STATE/app_rows.md")"
done
# 6. Extras, cheapest first: flash attention on the GPU, thread scaling on the CPU.
bench tiny-gpu-fa "$T" --n-gpu-layers -1 --flash-attn --n-threads "$NT" --label "TinyLlama-arch Q5_K_M FA" --repeats 5
bench mistral-gpu-fa "$M" --n-gpu-layers -1 --flash-attn --n-threads "$NT" --label "Mistral-7B-arch Q2_K FA" --repeats 5
bench tiny-cpu-8t "$T" --n-gpu-layers 0 --n-threads 8 --label "TinyLlama-arch Q5_K_M"
bench tiny-gpu-b8 "$T" --n-gpu-layers -1 --n-batch 8 --n-threads "$NT" --label "TinyLlama-arch Q5_K_M" --repeats 3
touch "$STATE/DONE"
log "pipeline done"
