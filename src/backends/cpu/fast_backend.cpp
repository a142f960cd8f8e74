// The fast CPU backend's construction, memory and registration as "cpu", the framework's
// default device.
#include "backends/cpu/fast_backend.h"

#include <cblas.h>

namespace tessera {

// OpenBLAS runs on the calling thread: fast_gemm.cpp threads products itself with OpenMP, so
// one thread pool serves every kernel and the split of a product never depends on the
// thread count.
FastBackend::FastBackend() : blocks_(std::make_shared<HostBlockCache>()) { openblas_set_num_threads(1); }

FastBackend::~FastBackend() = default;

std::shared_ptr<void> FastBackend::allocate(size_t bytes) { return blocks_->allocate(bytes, name()); }

std::string FastBackend::name() const { return "cpu"; }

REGISTER_BACKEND("cpu", FastBackend);

}  // namespace tessera
