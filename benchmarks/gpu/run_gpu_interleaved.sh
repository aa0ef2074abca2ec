#!/usr/bin/env bash
# App against raw llama-cpp-python on the lent GPU, as alternating processes, in one resumable call:
#
#   run(command="bash benchmarks/gpu/run_gpu_interleaved.sh", carry=[".gpu", ".whl"],
#       kind="nvidia-h200")
#
# Builds llama-cpp-python with CUDA (build_cuda.sh, ~5 min on 16 cores) while the F16 arch GGUFs
# are written, quantizes TinyLlama-arch Q5_K_M and Mistral-7B-arch Q2_K, then for each model runs
# PROCS pairs of processes, alternating: raw_llama (1 thread, 256-token prompt, eval loop) and
# app_llm_bench (LLM -> runner -> pipe, the app's defaults). The raw loop's speed moved 564-686
# tok/s between processes on one machine (docs/performance-gpu.md 4b), so one process a side
# cannot settle a 5% target. Ends with decode_breakdown (both loops in one process).
# Work runs in the background; a call waits up to WAIT s and copies what is done to $OUT
# (rows.md, results.tgz, log). While it prints "still running", call again at once.
set -u
STATE=${STATE:-/tmp/rgi}
WAIT=${WAIT:-540}
PROCS=${PROCS:-5}
mkdir -p "$STATE" "$OUT"
start=$(date +%s)
running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }
if [ ! -f "$STATE/DONE" ] && ! running; then
  rm -rf "$STATE/src" && mkdir -p "$STATE/src"
  cp -r benchmarks rag_desktop .gpu .whl "$STATE/src/"
  cat > "$STATE/job.sh" <<JOB
set -u
cd "$STATE/src"
ARCH=/tmp/arch RES=$STATE/res PROCS=$PROCS
JOB
  cat >> "$STATE/job.sh" <<'JOB'
mkdir -p "$ARCH" "$RES"
log() { echo "[$(date +%T)] $*"; }
[ -d /tmp/site/gguf ] || python3 -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$RES/gpu.txt"
if [ ! -f "$ARCH/mistral-arch-Q2_K.gguf" ]; then
  PYTHONPATH=/tmp/site python3 -m benchmarks.make_arch_gguf --arch tinyllama --arch mistral \
      --quant F16 --keep-f16 --out "$ARCH" > "$RES/gen.log" 2>&1 &
  GEN=$!
fi
log "build"
bash benchmarks/gpu/build_cuda.sh > "$RES/build.log" 2>&1 || { log "BUILD FAILED"; tail -30 "$RES/build.log"; exit 1; }
log "$(tail -1 "$RES/build.log")"
source benchmarks/gpu/env.sh
[ -n "${GEN:-}" ] && { wait "$GEN"; log "gen rc=$?"; tail -3 "$RES/gen.log"; }
for spec in tinyllama:Q5_K_M mistral:Q2_K; do
  a=${spec%%:*}; q=${spec##*:}
  [ -f "$ARCH/$a-arch-$q.gguf" ] || python3 -m benchmarks.make_arch_gguf --arch "$a" --quant "$q" \
      --out "$ARCH" 2>&1 | grep -v '^\[' | tail -2
done
ls -la "$ARCH"
for spec in tinyllama:Q5_K_M mistral:Q2_K; do
  a=${spec%%:*}; q=${spec##*:}; f=$ARCH/$a-arch-$q.gguf
  for i in $(seq 1 "$PROCS"); do
    log "$a pair $i"
    [ -f "$RES/raw-$a-$i.json" ] || python3 -m benchmarks.raw_llama "$f" --n-gpu-layers -1 \
        --n-threads 1 --prompt-tokens 256 --repeats 3 --label "$a-arch $q raw" \
        --json "$RES/raw-$a-$i.json" 2>&1 | grep '^| ' | tail -1 | tee -a "$RES/rows.md"
    [ -f "$RES/app-$a-$i.json" ] || python3 -m benchmarks.gpu.app_llm_bench "$f" \
        --n-gpu-layers -1 --repeats 3 --json "$RES/app-$a-$i.json" 2>&1 | grep '^| ' \
        | tail -1 | tee -a "$RES/rows.md"
  done
done
for spec in tinyllama:Q5_K_M mistral:Q2_K; do
  a=${spec%%:*}; q=${spec##*:}
  log "$a breakdown"
  [ -f "$RES/breakdown-$a.json" ] || python3 -m benchmarks.gpu.decode_breakdown \
      "$ARCH/$a-arch-$q.gguf" --json "$RES/breakdown-$a.json" 2>&1 | tail -1
done
python3 -m benchmarks.gpu.interleaved_table "$RES" | tee "$RES/table.md"
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
