// The engine's one CUDA module: every kernel file, compiled together into one fat binary that ships inside
// the engine jar (dev/sparkllm/engine/cuda/kernels.fatbin) and is loaded with cuModuleLoadData.
#include "embedding.cu"
#include "rmsnorm.cu"
#include "rope_kv.cu"
#include "attention.cu"
#include "swiglu.cu"
#include "gemm.cu"
#include "gemm_tiles.cu"
#include "repack.cu"
#include "sampling.cu"
#include "fault.cu"
#include "random.cu"
#include "bandwidth.cu"
