// The text assembler: assembly source -> Program (docs/isa.md, "Assembly syntax").
#pragma once
#include <string>
#include <string_view>

#include "isa/isa.h"

namespace tessera::isa {

// Assembles `text`, read from `source` (a file name for messages). Each instruction keeps its
// source line. Malformed text is an Error "<source>:<line>:<column>: expected <what>, found
// '<token>'" (an unknown mnemonic also names the closest one).
Program assemble(std::string_view text, const std::string& source);

}  // namespace tessera::isa
