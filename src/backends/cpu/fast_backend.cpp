// Registration of the fast CPU backend as "cpu", the framework's default device.
#include "backends/cpu/fast_backend.h"

#include <cblas.h>

namespace tessera {

// OpenBLAS runs on the calling thread: fast_gemm.cpp threads products itself with OpenMP, so
// one thread pool serves every kernel and the split of a product never depends on the
// thread count.
void FastBackend::init_threads() { openblas_set_num_threads(1); }

std::string FastBackend::name() const { return "cpu"; }

REGISTER_BACKEND("cpu", FastBackend);

}  // namespace tessera
