// docs/isa.md is the generated reference: the committed file equals the text generated from
// the table, and that text documents every instruction and every operand.
#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "isa/isa.h"
#include "isa/isa_doc.h"

namespace tessera::isa {
namespace {

TEST(IsaDoc, CommittedFileEqualsTheGeneratedText) {
  std::string committed = read_file_bytes(TESSERA_SOURCE_DIR "/docs/isa.md");
  EXPECT_TRUE(committed == isa_markdown())
      << "docs/isa.md is out of date; regenerate it with `tessera asm --doc > docs/isa.md`";
}

TEST(IsaDoc, EveryInstructionAndOperandIsDocumented) {
  std::string doc = isa_markdown();
  for (const OpcodeInfo& info : opcode_table()) {
    std::string syntax = info.mnemonic;
    for (size_t i = 0; i < info.operands.size(); ++i) syntax += (i == 0 ? " " : ", ") + std::string(info.operands[i].name);
    EXPECT_NE(doc.find("### `" + syntax + "`\n\nOpcode " + std::to_string(static_cast<int>(info.op)) + ". " + info.doc),
              std::string::npos)
        << syntax;
    for (const OperandSpec& spec : info.operands) {
      EXPECT_NE(doc.find(std::string("| ") + spec.name + " | "), std::string::npos) << info.mnemonic << " " << spec.name;
    }
  }
}

}  // namespace
}  // namespace tessera::isa
