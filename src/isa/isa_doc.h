// docs/isa.md, generated from the instruction table: `tessera asm --doc` prints it, and a test
// checks that the committed file equals it.
#pragma once
#include <string>

namespace tessera::isa {

std::string isa_markdown();

}  // namespace tessera::isa
