#!/usr/bin/env bash
# One device-tool call: start or resume pipeline.sh in its own session, wait, copy results to $OUT.
#
#   run(command="bash benchmarks/gpu/run_gpu_bench.sh", carry=[".gpu", ".whl"])
#
# The machine stays warm only ~30 s after a call and then loses everything, so call again at once
# while this prints "still running". Results: $OUT/rows.md (Markdown rows), $OUT/results.jsonl,
# $OUT/pipeline.log, and the packed CUDA build $OUT/llama_cuda.tar.xz[.partNN] (16 MiB pieces).
# The app's own GPU path (rag_desktop.llm -> runner child, n_gpu_layers=-1) is measured by
# benchmarks/gpu/app_llm_bench.py inside pipeline.sh.
set -u
STATE=${STATE:-/tmp/rgb}
WAIT=${WAIT:-530}
OUT=${OUT:-/tmp/rgb-out}
mkdir -p "$STATE" "$OUT"
start=$(date +%s)
running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }
if [ ! -f "$STATE/DONE" ] && ! running; then
  rm -rf "$STATE/src" && mkdir -p "$STATE/src"
  cp -r benchmarks rag_desktop .gpu .whl "$STATE/src/"
  setsid nohup bash "$STATE/src/benchmarks/gpu/pipeline.sh" >> "$STATE/pipeline.log" 2>&1 \
      < /dev/null &
  echo $! > "$STATE/pid"
  echo "started pipeline (pid $(cat "$STATE/pid"))"
fi
while running && [ ! -f "$STATE/DONE" ] && [ $(( $(date +%s) - start )) -lt "$WAIT" ]; do
  sleep 5
done
cp "$STATE/pipeline.log" "$OUT/pipeline.log"
cat "$STATE"/rows.md "$STATE"/app_rows.md > "$OUT/rows.md" 2>/dev/null
for f in "$STATE"/json/*.json; do
  [ -f "$f" ] && python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$f"
done > "$OUT/results.jsonl"
if [ -f "$STATE/pack.done" ] && [ -f "$STATE/DONE" ]; then
  split -b 16000000 -d -a 2 "$STATE/llama_cuda.tar.xz" "$OUT/llama_cuda.tar.xz.part"
fi
tail -40 "$STATE/pipeline.log"
if [ -f "$STATE/DONE" ]; then echo "== DONE"; elif running; then echo "== still running: call again now"; else echo "== pipeline stopped (see log)"; fi
nvidia-smi --query-gpu=memory.used --format=csv,noheader
