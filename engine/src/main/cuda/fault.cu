// A deliberate illegal-address fault, launched only by tests (CudaBackend.injectFaultOnNextStep) to show that a
// kernel error fails the engine cleanly. Launch: grid 1, block 1.
#include "common.cuh"

SPARKLLM_KERNEL void inject_fault(int* target) {
    target[threadIdx.x] = 1; // target is null: an illegal address
}
