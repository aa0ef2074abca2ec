#!/usr/bin/env bash
# Build llama-cpp-python 0.3.36 with CUDA (sm_90, portable CPU code) into $PREFIX, on the device.
#
# Needs, carried from the repo: .gpu/llama_cpp_python-0.3.36-trim.tar.gz (the sdist without .git,
# models, docs, tests and unused backends; ../shared/gpu/README.md) and .whl/ (scikit-build-core,
# pathspec, packaging, diskcache, jinja2, markupsafe, typing_extensions, gguf for Python 3.12).
# Takes about 5 minutes with 16 cores. Writes $PREFIX/.built when the build succeeded.
set -euo pipefail
SDIST=${SDIST:-.gpu/llama_cpp_python-0.3.36-trim.tar.gz}
PREFIX=${PREFIX:-/tmp/llama}
SITE=${SITE:-/tmp/site}
WORK=${WORK:-/tmp/llbuild}

if [ -f "$PREFIX/.built" ]; then echo "build: reusing $PREFIX"; exit 0; fi
[ -d "$SITE/scikit_build_core" ] || python3 -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
export PYTHONPATH=$SITE
export PATH=$PATH:/usr/local/cuda/bin
rm -rf "$WORK" && mkdir -p "$WORK" && tar xzf "$SDIST" -C "$WORK"
t0=$(date +%s)
CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_CUDA_NO_VMM=ON \
 -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF" \
CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
python3 -m pip install --no-index --no-deps --no-build-isolation --no-cache-dir \
    --target "$PREFIX" "$WORK"/llama_cpp_python-0.3.36
echo "build: $(( $(date +%s) - t0 )) s"
touch "$PREFIX/.built"
