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
STATE=${STATE:-/tmp/rgd} exec bash benchmarks/gpu/resumable.sh benchmarks/gpu/decode_job.sh build .whl
