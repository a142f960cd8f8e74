// `tessera disasm FILE.bin [--names]`: prints a binary program as canonical assembly.
#include <cstdio>

#include "base/atomic_file.h"
#include "cli/command.h"
#include "isa/disassembler.h"
#include "isa/encoding.h"

namespace tessera::cli {

namespace {

const CommandRegistrar kDisasm("disasm", "print a binary tile program as assembly", [](CLI::App& app) {
  auto input = std::make_shared<std::string>();
  auto names = std::make_shared<bool>(false);
  app.add_option("file", *input, "binary program")->required();
  app.add_flag("--names", *names, "end each instruction with a comment naming its operands");
  return [input, names] {
    isa::Program program = isa::decode_program(read_file_bytes(*input), *input);
    std::printf("%s", isa::disassemble(program, *names).c_str());
  };
});

}  // namespace

}  // namespace tessera::cli
