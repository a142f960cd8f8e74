// Internal-bug reporting: prints where the invariant broke and aborts.
#include "base/error.h"

#include <cstdio>
#include <cstdlib>

namespace tessera {

void internal_failure(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "tessera internal error: %s:%d: assertion '%s' failed\n", file, line,
               condition);
  std::abort();
}

}  // namespace tessera
