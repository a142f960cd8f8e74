// The text of docs/isa.md: a fixed part (machine, syntax, binary format, verifier) and one
// section per engine with every instruction of the table.
#include "isa/isa_doc.h"

#include <fmt/format.h>

#include "isa/isa.h"
#include "isa/operands.h"

namespace tessera::isa {

namespace {

constexpr const char* kIntroduction = R"(# The Tessera tile instruction set

Generated from the instruction table (src/isa/opcodes.cpp) by `tessera asm --doc`; do not edit
by hand: tests/isa/isa_doc_test.cpp checks that this file equals the generated text.

## The machine

- A program holds one instruction stream per core. A core's front end reads its stream in
  order, executes Scalar instructions itself (address registers r0..r15, hardware loops), and
  issues every other instruction, with its register operands resolved to values at issue
  time, into the in-order queue of its engine: DMA, Matrix or Vector.
- Engines run in parallel. Order between engines is explicit: `signal ENGINE, SEM` on an
  engine's queue increments semaphore SEM of the core once everything before it on that queue
  has completed; `wait ENGINE, SEM` blocks that engine's queue until SEM > 0, then decrements
  it. `barrier` waits until every engine of the core is idle and every core has reached its
  barrier. 32 semaphores per core, counting from 0.
- Memories, byte-addressed: `hbm` (the chip's DRAM), `l2` (shared on-chip memory), `spm` (the
  core's scratchpad); `spm@N` is the scratchpad of core N (DMA only).
- Tiles are row-major and contiguous in the scratchpad: a (rows x cols) tile of dtype D at
  address p holds element (i, j) at p + (i * cols + j) * size(D). Matrix and Vector operands
  are in `spm`; DMA moves strided 2-D and 3-D blocks between any memories.
- Registers are 64-bit and wrap around; `li`, `addi`, `add` and `muli` are the only
  instructions that write them.

## Assembly syntax

`tessera asm FILE.s -o FILE.bin [--chip NAME]` assembles (and, given a chip, verifies);
`tessera disasm FILE.bin` prints the canonical text, which assembles back to the same bytes.

- One instruction per line: the mnemonic, then its operands in the order of the tables below,
  separated by commas. `;` or `#` starts a comment that runs to the end of the line.
- `.core N` starts the stream of core N (0 <= N < 32768); each core at most once, in any
  order. Instructions before the first `.core` belong to core 0. The program has as many
  cores as the highest core named plus one; cores never named are empty.
- `.equ NAME, VALUE` defines NAME (letters, digits, `_`; not a register name) as an integer,
  usable wherever an integer is: `li r1, TILE`, `spm[r2+TILE]`, `addi r1, r1, -TILE`.
- Registers: `r0` .. `r15`.
- Integers: decimal or `0x` hexadecimal, optionally negative, within 64 bits: `64`, `-8`,
  `0x4000`.
- Addresses: `space[base]` where space is `hbm`, `l2`, `spm` or `spm@N` (core N's scratchpad)
  and base is `rN`, `rN+OFFSET`, `rN-OFFSET` or `OFFSET`: `hbm[0x1000]`, `l2[r3+64]`,
  `spm[r2]`, `spm@3[0]`. The address is the register's value at issue plus the offset, in bytes.
- Enumerations by name, as listed under "Operand kinds".
- f32 values as decimal floating-point literals (`0.5`, `-1e-3`, `3`, `inf`, `-inf`, `nan`),
  rounded to the nearest f32; `nan(0x7f800001)` gives a NaN by its bit pattern.
- Errors name the place and what was expected: `prog.s:3:12: expected a register r0..r15 for
  rd, found 'r16'`.
- Canonical text (what `tessera disasm` prints): `.core N` before each core, instructions
  indented two spaces plus two per open loop, integers in decimal, address offsets in hex,
  f32 values in the shortest form that reads back to the same bits.

## Binary format

All integers little-endian. A header: magic u32 `0x41535354` ("TSSA"), version u32 (1), core
count u32. Then per core: its instruction count u32, then its instructions. An instruction is
its opcode byte (the table's order below, from 0) followed by its operands in table order,
each encoded by its kind:

| kind | bytes |
|---|---|
| register, and every enumeration | 1 (register number or the value listed under "Operand kinds") |
| integer | 8 (two's complement) |
| f32 value | 4 (the IEEE-754 bits) |
| address | 12: space u8 (hbm 0, l2 1, spm 2), core i16 (-1 = own scratchpad), base register i8 (-1 = none), offset i64 |

The decoder refuses, naming the file and byte offset, anything but one whole well-formed
program: a bad magic number, another version, truncation, an unknown opcode, an operand out of
range, or trailing bytes.

## Verifier

`tessera asm --chip NAME` checks the program against the chip before writing it. Each
violation names the core, the instruction index, the source line and the instruction:

- the program has no more cores than the chip; `spm@N` names a core of the chip;
- `loop` and `endloop` pair up, nest at most 8 deep, and a loop runs at least once;
- counts (rows, cols, m, n, k, entries, row_bytes) lie in [1, 2^40]; DMA rows and planes in
  [1, 2^24];
- `mma` inputs are bf16, f16, f8e4m3 or f8e5m2, and the chip's matrix engine supports them;
  `vunary`, `vbinary`, `vreduce`, `vscatter_add` and `vrandom` work on a float dtype;
- Matrix and Vector operands are in this core's `spm`, and a tile fits in it;
- every access whose address is known lies inside its memory (`spm`: the chip's scratchpad
  size; `l2`; `hbm`), tiles are aligned to their element size, `mma`'s acc overlaps neither a
  nor b and `vtranspose`'s dst does not overlap its src. Registers are followed through `li`,
  `addi`, `add`, `muli` and loops; a register never written is unknown and its accesses are
  not checked. Loops too long to follow one iteration at a time are checked at their first
  and last iterations;
- semaphores are 0..31, and on each core every semaphore is signalled as many times as it is
  waited on, loop iterations counted;
- every core reaches the same number of barriers, loop iterations counted.
)";

std::string operand_kinds() {
  std::string text = "\n## Operand kinds\n\n| kind | written as |\n|---|---|\n";
  text += "| register | `r0` .. `r15` |\n| integer | `-8`, `64`, `0x4000`, a `.equ` name |\n";
  text += "| address | `hbm[0x1000]`, `l2[r3+64]`, `spm[r2]`, `spm@3[0]` |\n";
  text += "| f32 value | `0.5`, `-1e-3`, `inf`, `nan` |\n";
  for (OperandKind kind : {OperandKind::DType, OperandKind::EngineName, OperandKind::UnaryFn, OperandKind::BinaryFn,
                           OperandKind::ReduceFn, OperandKind::Broadcast, OperandKind::Rounding, OperandKind::AccMode}) {
    std::string names;
    for (const EnumName& entry : enum_names(kind)) {
      names += fmt::format("{}`{}` ({})", names.empty() ? "" : ", ", entry.name, entry.value);
    }
    text += fmt::format("| {} | {} |\n", operand_kind_name(kind), names);
  }
  return text;
}

std::string instruction_section(const OpcodeInfo& info) {
  std::string syntax = info.mnemonic;
  for (size_t i = 0; i < info.operands.size(); ++i) syntax += fmt::format("{}{}", i == 0 ? " " : ", ", info.operands[i].name);
  std::string text = fmt::format("\n### `{}`\n\nOpcode {}. {}\n", syntax, static_cast<int>(info.op), info.doc);
  if (info.operands.empty()) return text;
  text += "\n| operand | kind | meaning |\n|---|---|---|\n";
  for (const OperandSpec& spec : info.operands) {
    text += fmt::format("| {} | {} | {} |\n", spec.name, operand_kind_name(spec.kind), spec.doc);
  }
  return text;
}

}  // namespace

std::string isa_markdown() {
  std::string text = kIntroduction;
  text += operand_kinds();
  const std::pair<Engine, const char*> sections[] = {
      {Engine::Scalar, "Scalar and synchronisation (executed or queued by the front end)"},
      {Engine::Dma, "DMA engine"},
      {Engine::Matrix, "Matrix engine"},
      {Engine::Vector, "Vector engine"}};
  for (const auto& [engine, title] : sections) {
    text += fmt::format("\n## {}\n", title);
    for (const OpcodeInfo& info : opcode_table()) {
      if (info.engine == engine) text += instruction_section(info);
    }
  }
  return text;
}

}  // namespace tessera::isa
