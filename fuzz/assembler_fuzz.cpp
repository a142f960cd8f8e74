// Fuzzes the assembler: any text assembles or gives a tessera::Error; what assembles survives
// disassembly, reassembly and binary encoding unchanged, and the verifier takes it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arch/chip_loader.h"
#include "base/error.h"
#include "isa/assembler.h"
#include "isa/disassembler.h"
#include "isa/encoding.h"
#include "isa/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::isa;
  static const tessera::arch::ChipSpec chip = tessera::arch::load_chip("t1");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Program program;
  try {
    program = assemble(text, "fuzz.s");
  } catch (const tessera::Error&) {
    return 0;
  }
  std::string bytes = encode_program(program);
  if (encode_program(assemble(disassemble(program), "canonical.s")) != bytes) std::abort();
  if (encode_program(decode_program(bytes, "fuzz.bin")) != bytes) std::abort();
  find_violations(program, chip);
  return 0;
}
