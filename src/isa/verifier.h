// The verifier: checks a program against a chip before it runs (docs/isa.md, "Verifier").
//
// Rules: the program has no more cores than the chip; loops are balanced, nested at most 8 deep
// and run at least once; counts (rows, cols, m, n, k, ...) lie in [1, 2^40] (DMA rows and planes
// in [1, 2^24]); mma inputs are a matrix dtype the chip supports; vunary, vbinary, vreduce and
// vscatter_add work on a float dtype; Matrix and Vector operands are in this core's spm; spm@N
// names a core of the chip; semaphores lie in 0..31 and each core signals each semaphore as
// often as it waits on it; every core reaches the same number of barriers (loop iterations
// counted). Every access whose address is known - registers are followed through li, addi,
// add, muli and loops, a register never written is unknown - lies inside its memory (spm:
// matrix.scratchpad size, l2, hbm), tiles are aligned to their element size, and mma's acc
// does not overlap a or b, nor vtranspose's dst its src. In a loop too long to follow
// iteration by iteration, the first and last iterations are checked.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "isa/isa.h"

namespace tessera::isa {

// One broken rule. `index` is -1 for a rule about a whole core, `core` -1 for one about the
// whole program.
struct Violation {
  int core = -1;
  int64_t index = -1;
  int line = 0;             // source line, 0 when unknown
  std::string instruction;  // canonical text of the instruction
  std::string rule;
};

// Every violation, in core order, then instruction order (program-wide ones last).
std::vector<Violation> find_violations(const Program& program, const arch::ChipSpec& chip);

// "<source>:<line>: core C, instruction I `text`: rule" (no ":<line>" when it is unknown).
std::string describe(const Violation& violation, const std::string& source);

// Throws an Error describing the first violation (and how many more there are), if any.
void verify_program(const Program& program, const arch::ChipSpec& chip, const std::string& source);

}  // namespace tessera::isa
