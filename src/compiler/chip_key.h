// A chip's identity for caches of compiled programs and tuned tilings: its name and a hash of
// every figure of its description, so that a chip changed by `--set` or an edited YAML file
// never reuses what was compiled or tuned for another.
#pragma once
#include <string>

#include "arch/chip.h"

namespace tessera::compiler {

// "t1-3f9a0c12d4e5b687": the name and 64 bits of FNV-1a over the chip's figures.
std::string chip_key(const arch::ChipSpec& chip);

}  // namespace tessera::compiler
