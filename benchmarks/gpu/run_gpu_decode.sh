#!/usr/bin/env bash
# The app's decode loop against the raw eval loop on the lent GPU, resumable over device calls:
#
#   run(command="bash benchmarks/gpu/run_gpu_decode.sh", carry=["build/gpu", ".whl"],
#       kind="nvidia-h200")
#
# Reuses the packed CUDA build (build/gpu/llama_cuda_sm90.tar.xz.part*). For TinyLlama-arch
# Q5_K_M, then Mistral-7B-arch Q2_K: raw_llama (eval loop, prompt, create_completion stream)
# and app_llm_bench (rag_desktop.llm -> runner child -> rag_desktop.generation), all layers
# offloaded, with every core's threads and with one thread. Work runs in the background; a call
# waits up to WAIT s and copies what is done to
# $OUT (rows.md, results.tgz, log). While it prints "still running", call again at once.
set -u
STATE=${STATE:-/tmp/rgd}
WAIT=${WAIT:-540}
mkdir -p "$STATE" "$OUT"
start=$(date +%s)
running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }
if [ ! -f "$STATE/DONE" ] && ! running; then
  rm -rf "$STATE/src" && mkdir -p "$STATE/src"
  cp -r benchmarks rag_desktop build .whl "$STATE/src/"
  cat > "$STATE/job.sh" <<'JOB'
set -u
cd "$STATE/src"
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
JOB
  STATE=$STATE setsid nohup bash "$STATE/job.sh" > "$STATE/log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  echo "started (pid $(cat "$STATE/pid"))"
fi
while running && [ ! -f "$STATE/DONE" ] && [ $(( $(date +%s) - start )) -lt "$WAIT" ]; do
  sleep 5
done
cp "$STATE/log" "$OUT/log"
[ -d "$STATE/res" ] && tar -czf "$OUT/results.tgz" -C "$STATE/res" .
tail -30 "$STATE/log"
if [ -f "$STATE/DONE" ]; then echo "== DONE"; elif running; then echo "== still running: call again now"; else echo "== stopped (see log)"; fi
