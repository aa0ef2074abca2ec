#!/usr/bin/env bash
# One device-tool call that reuses the packed CUDA build instead of compiling (~1 min, not ~6):
#
#   run(command="bash benchmarks/gpu/run_gpu_profile.sh", carry=["build/gpu", ".whl"])
#
# build/gpu/llama_cuda_sm90.tar.xz.part* is the llama-cpp-python 0.3.36 CUDA (sm_90) package made
# by pipeline.sh/run_gpu_bench.sh; .whl holds gguf and the other pure-Python wheels.
# It writes both arch GGUFs, then measures: raw_llama on the GPU, the per-token breakdown of the
# streamed path (profile_stream.py), the app's LLM path, 16 CPU threads with no GPU visible, and
# a 2-core desktop (taskset) with n_batch 512 vs 8. Everything lands in $OUT/results.tgz, which is
# rewritten after each step so that a timeout still returns what was done.
set -u
OUT=${OUT:-/tmp/prof-out}
ARCH=${ARCH:-/tmp/arch}
RES=/tmp/res
mkdir -p /tmp/llama "$OUT" "$ARCH" "$RES"
save() { tar -czf "$OUT/results.tgz" -C "$RES" .; }
cat build/gpu/llama_cuda_sm90.tar.xz.part* | xz -d | tar -C /tmp/llama -xf -
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
    .whl/*.whl
source benchmarks/gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$RES/gpu.txt"
python3 -c 'import llama_cpp; print("gpu offload:", llama_cpp.llama_supports_gpu_offload())'
t0=$(date +%s)
python3 -m benchmarks.make_arch_gguf --arch tinyllama --quant Q5_K_M --out "$ARCH" 2>&1 | grep -v '^\['
python3 -m benchmarks.make_arch_gguf --arch mistral --quant Q2_K --out "$ARCH" 2>&1 | grep -v '^\['
echo "models: $(( $(date +%s) - t0 )) s"
T=$ARCH/tinyllama-arch-Q5_K_M.gguf; M=$ARCH/mistral-arch-Q2_K.gguf
for m in tiny:"$T" mistral:"$M"; do
  n=${m%%:*}; f=${m#*:}
  python3 -m benchmarks.raw_llama "$f" --n-gpu-layers -1 --n-threads 16 --repeats 5 \
      --label "$n GPU" --json "$RES/raw-$n-gpu.json" 2>&1 | grep '^| '
  python3 -m benchmarks.gpu.profile_stream "$f" --n-gpu-layers -1 --n-threads 16 \
      --json "$RES/profile-$n-gpu.json" > "$RES/profile-$n-gpu.txt" 2>&1
  sed -n 3,10p "$RES/profile-$n-gpu.txt"; save
done
python3 -m benchmarks.gpu.app_llm_bench "$T" --n-gpu-layers -1 --repeats 5 \
    --json "$RES/app-tiny-gpu.json" 2>&1 | grep '^| '; save
# A desktop without a GPU: the same CUDA build with no device visible, 16 threads.
for m in tiny:"$T" mistral:"$M"; do
  n=${m%%:*}; f=${m#*:}
  CUDA_VISIBLE_DEVICES= python3 -m benchmarks.raw_llama "$f" --n-threads 16 --repeats 3 \
      --label "$n CPU (no GPU visible)" --json "$RES/raw-$n-cpu-nogpu.json" 2>&1 | grep '^| '
  save
done
# A 2-core desktop: two cores of this machine (taskset), no GPU visible; n_batch 512 vs 8.
for b in 512 8; do
  CUDA_VISIBLE_DEVICES= timeout 150 taskset -c 0,1 python3 -m benchmarks.raw_llama "$T" \
      --n-threads 2 --n-batch $b --repeats 2 --label "tiny 2 cores" \
      --json "$RES/raw-tiny-2c-b$b.json" 2>&1 | grep '^| '
  save
done
echo "total: $(( $(date +%s) - t0 )) s"
