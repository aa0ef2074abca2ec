# Sourced by the GPU scripts: where the CUDA build of llama_cpp, the carried wheels and cuBLAS live.
export PYTHONPATH=/tmp/llama:/tmp/site:${PYTHONPATH:-}
NV_LIB=$(python3 -c 'import nvidia,os;print(os.path.dirname(nvidia.__path__[0]))')/nvidia/cu13/lib
export LD_LIBRARY_PATH=$NV_LIB:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1
