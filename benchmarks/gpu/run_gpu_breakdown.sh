#!/usr/bin/env bash
# One device call: where a decoded token's time goes on the GPU (benchmarks/gpu/decode_breakdown.py)
#
#   run(command="bash benchmarks/gpu/run_gpu_breakdown.sh", carry=["build/gpu", ".whl"],
#       kind="nvidia-h200")
set -u
ARCH=/tmp/arch
mkdir -p /tmp/llama "$ARCH" "$OUT"
cat build/gpu/llama_cuda_sm90.tar.xz.part* | xz -d | tar -C /tmp/llama -xf -
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
    .whl/*.whl
source benchmarks/gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
for spec in tinyllama:Q5_K_M mistral:Q2_K; do
  IFS=: read -r a q <<< "$spec"
  python3 -m benchmarks.make_arch_gguf --arch "$a" --quant "$q" --out "$ARCH" 2>&1 | tail -1
  python3 -m benchmarks.gpu.decode_breakdown "$ARCH/$a-arch-$q.gguf" --rounds 5 \
      --json "$OUT/breakdown-$a.json" 2>&1 | tail -7
done
