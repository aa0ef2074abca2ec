#!/usr/bin/env bash
# Follow-up device call (reuses the packed CUDA build, TinyLlama-arch only, ~4 min):
#
#   run(command="bash benchmarks/gpu/run_gpu_extra.sh", carry=["build/gpu", ".whl"])
#
# 1. the app's LLM path on the GPU with 8 rounds (its speed was bimodal over 5);
# 2. partial offload, 11 of 22 layers, as on a desktop GPU with too little VRAM;
# 3. a 2-core desktop (taskset -c 0,1, no GPU visible) with n_batch 8, the companion of
#    run_gpu_profile.sh's n_batch 512 row.
set -u
OUT=${OUT:-/tmp/extra-out}
ARCH=${ARCH:-/tmp/arch}
RES=/tmp/res
mkdir -p /tmp/llama "$OUT" "$ARCH" "$RES"
save() { tar -czf "$OUT/results.tgz" -C "$RES" .; }
cat build/gpu/llama_cuda_sm90.tar.xz.part* | xz -d | tar -C /tmp/llama -xf -
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
    .whl/*.whl
source benchmarks/gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$RES/gpu.txt"
python3 -m benchmarks.make_arch_gguf --arch tinyllama --quant Q5_K_M --out "$ARCH" 2>&1 | tail -1
T=$ARCH/tinyllama-arch-Q5_K_M.gguf
python3 -m benchmarks.gpu.app_llm_bench "$T" --n-gpu-layers -1 --repeats 8 \
    --json "$RES/app-tiny-gpu-8.json" 2>&1 | grep '^| '; save
python3 -c 'import json,sys; print([round(r["stream_tok_s"]) for r in json.load(open(sys.argv[1]))["rounds"]])' \
    "$RES/app-tiny-gpu-8.json"
python3 -m benchmarks.raw_llama "$T" --n-gpu-layers 11 --n-threads 16 --repeats 3 \
    --label "tiny ngl 11" --json "$RES/raw-tiny-ngl11.json" 2>&1 | grep '^| '; save
CUDA_VISIBLE_DEVICES= timeout 300 taskset -c 0,1 python3 -m benchmarks.raw_llama "$T" \
    --n-threads 2 --n-batch 8 --repeats 2 --label "tiny 2 cores" \
    --json "$RES/raw-tiny-2c-b8.json" 2>&1 | grep '^| '; save
