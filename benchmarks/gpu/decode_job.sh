#!/usr/bin/env bash
# Job body of run_gpu_decode.sh (started by resumable.sh in $STATE/src): raw_llama and the app
# (LLM -> runner -> pipe) on TinyLlama-arch Q5_K_M and Mistral-7B-arch Q2_K, every core's threads
# and one thread. Needs the packed CUDA build under build/gpu and the wheels in .whl.
set -u
ARCH=/tmp/arch RES=$STATE/res
mkdir -p /tmp/llama "$ARCH" "$RES"
log() { echo "[$(date +%T)] $*"; }
[ -d /tmp/llama/llama_cpp ] || cat build/gpu/llama_cuda_sm90.tar.xz.part* | xz -d | tar -C /tmp/llama -xf -
[ -d /tmp/site/gguf ] || python3 -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --target /tmp/site .whl/*.whl
source benchmarks/gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$RES/gpu.txt"
NT=$(nproc)
for spec in tinyllama:Q5_K_M:5:8 mistral:Q2_K:3:5; do
  IFS=: read -r a q rr ar <<< "$spec"
  f=$ARCH/$a-arch-$q.gguf
  [ -f "$f" ] || python3 -m benchmarks.make_arch_gguf --arch "$a" --quant "$q" --out "$ARCH" 2>&1 | tail -1
  for nt in "$NT" 1; do
    log "$a raw, $nt threads"
    [ -f "$RES/raw-$a-t$nt.json" ] || python3 -m benchmarks.raw_llama "$f" --n-gpu-layers -1 \
        --n-threads "$nt" --repeats "$rr" --label "$a-arch $q raw, $nt threads" \
        --json "$RES/raw-$a-t$nt.json" 2>&1 | grep '^| ' | tee -a "$RES/rows.md"
    log "$a app, $nt threads"
    [ -f "$RES/app-$a-t$nt.json" ] || python3 -m benchmarks.gpu.app_llm_bench "$f" \
        --n-gpu-layers -1 --n-threads "$nt" --repeats "$ar" --json "$RES/app-$a-t$nt.json" \
        2>&1 | grep '^| ' | tee -a "$RES/rows.md"
  done
  log "$a app, the app's default threads"
  [ -f "$RES/app-$a.json" ] || python3 -m benchmarks.gpu.app_llm_bench "$f" --n-gpu-layers -1 \
      --repeats "$ar" --json "$RES/app-$a.json" 2>&1 | grep '^| ' | tee -a "$RES/rows.md"
done
log done
touch "$STATE/DONE"
