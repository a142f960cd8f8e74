// `tessera asm FILE.s -o FILE.bin [--chip NAME]`: assembles a program, verifies it against a
// chip when one is named, and writes the binary atomically. `tessera asm --doc` prints
// docs/isa.md.
#include <cstdio>

#include "arch/chip_loader.h"
#include "base/atomic_file.h"
#include "base/error.h"
#include "cli/command.h"
#include "isa/assembler.h"
#include "isa/encoding.h"
#include "isa/isa_doc.h"
#include "isa/verifier.h"

namespace tessera::cli {

namespace {

const CommandRegistrar kAsm("asm", "assemble a tile program (docs/isa.md), optionally verifying it for a chip",
                            [](CLI::App& app) {
  struct Options {
    std::string input, output, chip;
    std::vector<std::string> overrides;
    bool doc = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("file", o->input, "assembly source");
  app.add_option("-o,--output", o->output, "binary program to write");
  app.add_option("--chip", o->chip, "verify against this chip (a preset name or a chip YAML file)");
  app.add_option("--set", o->overrides, "override a chip parameter, e.g. scratchpad.size=1MiB")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--doc", o->doc, "print the instruction set reference (docs/isa.md) and exit");
  return [o] {
    if (o->doc) {
      std::printf("%s", isa::isa_markdown().c_str());
      return;
    }
    if (o->input.empty()) fail("asm: name an assembly file (or give --doc)");
    if (o->output.empty()) fail("asm: name the binary to write with -o FILE.bin");
    if (o->chip.empty() && !o->overrides.empty()) fail("asm: --set needs --chip");
    isa::Program program = isa::assemble(read_file_bytes(o->input), o->input);
    if (!o->chip.empty()) isa::verify_program(program, arch::load_chip(o->chip, o->overrides), o->input);
    write_file_atomic(o->output, isa::encode_program(program));
    size_t instructions = 0;
    for (const auto& stream : program.cores) instructions += stream.size();
    std::printf("%s\n", fmt::format("{}: {} core{}, {} instruction{}{}", o->output, program.cores.size(),
                                    program.cores.size() == 1 ? "" : "s", instructions, instructions == 1 ? "" : "s",
                                    o->chip.empty() ? "" : ", verified for " + o->chip)
                             .c_str());
  };
});

}  // namespace

}  // namespace tessera::cli
