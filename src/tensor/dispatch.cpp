// Kernel dispatch with strict mode and the logged CPU fallback (see dispatch.h).
#include "tensor/dispatch.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

#include "base/error.h"

namespace tessera {

namespace {
bool g_strict = false;
}

void set_strict_dispatch(bool strict) { g_strict = strict; }
bool strict_dispatch() { return g_strict; }

Backend& kernel_backend(const Tensor& t, Kernel kernel) {
  Backend& own = t.backend();
  if (own.supports(kernel, t.dtype())) return own;
  if (g_strict)
    fail("kernel '{}' is not supported on device '{}' for dtype {} (strict mode forbids the CPU "
         "fallback)",
         kernel_name(kernel), t.device(), dtype_name(t.dtype()));
  if (!own.host_addressable())
    fail("kernel '{}' is not supported on device '{}' for dtype {}, and its memory cannot be "
         "read by the CPU backend",
         kernel_name(kernel), t.device(), dtype_name(t.dtype()));
  Backend& cpu = backend("cpu");
  if (!cpu.supports(kernel, t.dtype()))
    fail("kernel '{}' is supported neither on device '{}' nor on the CPU for dtype {}",
         kernel_name(kernel), t.device(), dtype_name(t.dtype()));
  static std::mutex mutex;
  static std::set<std::string> logged;
  std::lock_guard lock(mutex);
  std::string key = t.device() + "/" + kernel_name(kernel) + "/" + std::string(dtype_name(t.dtype()));
  if (logged.insert(key).second)
    std::fprintf(stderr, "tessera: falling back to the CPU for kernel '%s' (%s) on device '%s'\n",
                 kernel_name(kernel), std::string(dtype_name(t.dtype())).c_str(),
                 t.device().c_str());
  return cpu;
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first) {
      first = t;
    } else if (t->device() != first->device()) {
      fail("{}: operands are on different devices ('{}' and '{}')", op, first->device(),
           t->device());
    }
  }
}

}  // namespace tessera
