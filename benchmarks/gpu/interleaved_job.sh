#!/usr/bin/env bash
# Job body of run_gpu_interleaved.sh (started by resumable.sh in $STATE/src); see that script.
set -u
ARCH=/tmp/arch RES=$STATE/res PROCS=${PROCS:-5}
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
