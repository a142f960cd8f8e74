// The functional engine: the executable specification of every DMA, Matrix and Vector
// instruction (isa/opcodes.cpp documents each; the choices the table leaves open are written
// next to the code that makes them). It computes on real data in the simulated memories.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

#include "arch/chip.h"
#include "sim/memory.h"
#include "sim/timing.h"

namespace tessera::sim {

// A runtime fault of one instruction (an address out of range, a misaligned tile, a gather
// index outside its table): what is wrong, without the core and instruction, which the
// simulator loop adds.
class Fault : public std::runtime_error {
 public:
  explicit Fault(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fault(fmt::format_string<Args...> format, Args&&... args) {
  throw Fault(fmt::format(format, std::forward<Args>(args)...));
}

// Executes one issued DMA, Matrix or Vector instruction (its operands resolved). Throws Fault.
void execute(const IssuedInstruction& issued, MachineMemory& memory, const arch::ChipSpec& chip);

}  // namespace tessera::sim
