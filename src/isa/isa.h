// The Tessera tile instruction set: the in-memory form of instructions and programs, and the
// one instruction table (opcodes.cpp) that drives the binary encoder and decoder, the text
// assembler and disassembler, the verifier and docs/isa.md.
//
// The machine (docs/isa.md says it for users):
// - A program holds one instruction stream per core. A core's front end reads its stream in
//   order, executes Scalar instructions itself (address registers r0..r15, hardware loops),
//   and issues every other instruction, with its register operands resolved to values at
//   issue time, into the in-order queue of its engine: DMA, Matrix or Vector.
// - Engines run in parallel. Order between engines is explicit: `signal ENGINE, SEM` on an
//   engine's queue increments semaphore SEM of the core once everything before it on that
//   queue has completed; `wait ENGINE, SEM` blocks that engine's queue until SEM > 0, then
//   decrements it. `barrier` waits until every engine of the core is idle and every core has
//   reached its barrier. 32 semaphores per core, counting from 0.
// - Memories, byte-addressed: `hbm` (the chip's DRAM), `l2` (shared on-chip memory), `spm`
//   (the core's scratchpad); `spm@N` is the scratchpad of core N (DMA only).
// - Tiles are row-major and contiguous in the scratchpad: a (rows x cols) tile of dtype D at
//   address p holds element (i, j) at p + (i * cols + j) * size(D). Matrix and Vector
//   operands are in `spm`; DMA moves strided 2-D and 3-D blocks between any memories.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/dtype.h"

namespace tessera::isa {

inline constexpr uint32_t kProgramMagic = 0x41535354;  // "TSSA" little-endian
inline constexpr uint32_t kProgramVersion = 1;
inline constexpr int kRegisters = 16;
inline constexpr int kSemaphores = 32;
inline constexpr int kMaxLoopDepth = 8;
inline constexpr int kMaxCores = 32768;  // a program's streams; spm@N takes N < kMaxCores

enum class Engine : uint8_t { Scalar, Dma, Matrix, Vector };
enum class Space : uint8_t { Hbm, L2, Spm };

enum class Opcode : uint8_t {
  // Scalar (front end)
  Li, Addi, Add, Muli, Loop, EndLoop,
  // DMA
  DmaCopy, DmaCopy3d,
  // Matrix
  Mma,
  // Vector
  VUnary, VBinary, VReduce, VConvert, VTranspose, VGather, VScatterAdd, VFill,
  // Synchronisation
  Signal, Wait, Barrier,
  // Vector, added after the others so that their opcodes keep their numbers
  VRandom,
  Count
};

// What an operand is; decides its text syntax and its binary encoding.
enum class OperandKind : uint8_t {
  Reg,        // r0..r15
  Imm,        // signed 64-bit integer (decimal or 0x hex)
  Addr,       // space[rN + imm] / space[imm] / spm@core[...]
  DType,      // f32 bf16 f16 f8e4m3 f8e5m2 i32 i64
  EngineName, // dma matrix vector (for signal/wait)
  UnaryFn,    // relu gelu exp log neg sqrt recip copy
  BinaryFn,   // add sub mul div max min
  ReduceFn,   // sum max
  Broadcast,  // none row col scalar: how operand b of vbinary is read
  Rounding,   // rne stochastic
  AccMode,    // overwrite accumulate
  FImm,       // an f32 immediate (vfill)
};

enum class UnaryFn : uint8_t { Relu, Gelu, Exp, Log, Neg, Sqrt, Recip, Copy };
enum class BinaryFn : uint8_t { Add, Sub, Mul, Div, Max, Min };
enum class ReduceFn : uint8_t { Sum, Max };
enum class Broadcast : uint8_t { None, Row, Col, Scalar };  // b is (rows,cols) / (1,cols) / (rows,1) / (1,1)
enum class Rounding : uint8_t { Rne, Stochastic };
enum class AccMode : uint8_t { Overwrite, Accumulate };

struct Address {
  Space space = Space::Spm;
  int16_t core = -1;   // spm@N: another core's scratchpad; -1 = this core (or not spm)
  int8_t reg = -1;     // base register, -1 = none
  int64_t offset = 0;  // bytes
  bool operator==(const Address&) const = default;
};

struct Operand {
  OperandKind kind = OperandKind::Imm;
  int64_t value = 0;  // Reg number, Imm, enum values, FImm as the f32 bit pattern
  Address addr;       // Addr only (value 0); other kinds leave it default
  bool operator==(const Operand&) const = default;
};

// An instruction's operands, held in place (no heap allocation: programs of a million
// instructions are built, copied and issued). One more than the widest instruction takes, so
// that a wrong count can be built and refused (check_program).
class Operands {
 public:
  static constexpr size_t kCapacity = 10;

  Operands() = default;
  Operands(std::initializer_list<Operand> operands) { assign(operands.begin(), operands.end()); }
  Operands(const std::vector<Operand>& operands) { assign(operands.begin(), operands.end()); }
  // Copies only the operands in use.
  Operands(const Operands& other) { *this = other; }
  Operands& operator=(const Operands& other) {
    std::copy(other.begin(), other.end(), items_.begin());
    size_ = other.size_;
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Operand& operator[](size_t i) { return items_[i]; }
  const Operand& operator[](size_t i) const { return items_[i]; }
  Operand& at(size_t i);  // an Error beyond size()
  const Operand& at(size_t i) const;
  Operand& back() { return items_[size_ - 1]; }
  Operand* begin() { return items_.data(); }
  Operand* end() { return items_.data() + size_; }
  const Operand* begin() const { return items_.data(); }
  const Operand* end() const { return items_.data() + size_; }
  void push_back(const Operand& operand) {  // an Error beyond kCapacity
    if (size_ == kCapacity) too_many();
    items_[size_++] = operand;
  }
  template <typename It>
  void assign(It first, It last) {
    size_ = 0;
    for (; first != last; ++first) push_back(*first);
  }
  bool operator==(const Operands& other) const { return std::equal(begin(), end(), other.begin(), other.end()); }

 private:
  [[noreturn]] static void too_many();

  std::array<Operand, kCapacity> items_;
  uint8_t size_ = 0;
};

struct Instruction {
  Opcode op = Opcode::Li;
  Operands operands;  // in the table's order
  int line = 0;       // source line in an assembly file (0 when decoded)
};

// One instruction stream per core.
struct Program {
  std::vector<std::vector<Instruction>> cores;
};

struct OperandSpec {
  const char* name;  // as documented and printed by the disassembler's comments
  OperandKind kind;
  const char* doc;
};

struct OpcodeInfo {
  Opcode op;
  const char* mnemonic;
  Engine engine;
  std::vector<OperandSpec> operands;
  const char* doc;  // one paragraph: semantics, including rounding and accumulation order
};

// The instruction table, indexed by Opcode.
const std::vector<OpcodeInfo>& opcode_table();
const OpcodeInfo& opcode_info(Opcode op);
const char* engine_name(Engine engine);
const char* space_name(Space space);

}  // namespace tessera::isa
