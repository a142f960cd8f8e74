// The thread-local autocast dtype.
#include "nn/autocast.h"

namespace tessera {

namespace {
thread_local DType g_autocast = DType::F32;
}

DType autocast_dtype() { return g_autocast; }
AutocastGuard::AutocastGuard(DType dtype) : previous_(g_autocast) { g_autocast = dtype; }
AutocastGuard::~AutocastGuard() { g_autocast = previous_; }

}  // namespace tessera
