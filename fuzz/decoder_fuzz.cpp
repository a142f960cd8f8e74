// Fuzzes the binary decoder: any bytes decode or give a tessera::Error; what decodes is the
// canonical encoding of its program, also through the text form.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "isa/assembler.h"
#include "isa/disassembler.h"
#include "isa/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::isa;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  Program program;
  try {
    program = decode_program(bytes, "fuzz.bin");
  } catch (const tessera::Error&) {
    return 0;
  }
  if (encode_program(program) != bytes) std::abort();
  if (encode_program(assemble(disassemble(program), "fuzz.s")) != bytes) std::abort();
  return 0;
}
