// Fuzzes the chip YAML reader (arch/chip_loader.h): any file loads as a valid chip or gives a
// tessera::Error. The reader takes a path, so each input goes through a file of this process.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "arch/chip_loader.h"
#include "base/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/tessera-chip-fuzz-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  try {
    tessera::arch::load_chip_file(path);
  } catch (const tessera::Error&) {
  }
  return 0;
}
