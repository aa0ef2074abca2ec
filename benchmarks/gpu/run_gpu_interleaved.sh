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
# The work is interleaved_job.sh, run by resumable.sh: while a call prints "still running", call
# again at once; results come back in $OUT/results.tgz (rows.md, table.md, JSON) and $OUT/log.
exec bash benchmarks/gpu/resumable.sh benchmarks/gpu/interleaved_job.sh .gpu .whl
