// The instruction table: every opcode, its engine, its operands and its semantics. The
// encoder, decoder, assembler, disassembler, verifier and docs/isa.md all read this table.
#include "isa/isa.h"

#include "base/error.h"

namespace tessera::isa {

namespace {

using K = OperandKind;

std::vector<OpcodeInfo> make_table() {
  std::vector<OpcodeInfo> t = {
      {Opcode::Li, "li", Engine::Scalar, {{"rd", K::Reg, "destination register"}, {"imm", K::Imm, "value"}},
       "rd = imm."},
      {Opcode::Addi, "addi", Engine::Scalar,
       {{"rd", K::Reg, "destination"}, {"rs", K::Reg, "source"}, {"imm", K::Imm, "addend"}}, "rd = rs + imm."},
      {Opcode::Add, "add", Engine::Scalar,
       {{"rd", K::Reg, "destination"}, {"rs1", K::Reg, "source"}, {"rs2", K::Reg, "source"}}, "rd = rs1 + rs2."},
      {Opcode::Muli, "muli", Engine::Scalar,
       {{"rd", K::Reg, "destination"}, {"rs", K::Reg, "source"}, {"imm", K::Imm, "factor"}}, "rd = rs * imm."},
      {Opcode::Loop, "loop", Engine::Scalar, {{"count", K::Imm, "iterations, >= 1"}},
       "Runs the instructions up to the matching `endloop` `count` times. Loops nest (depth 8)."},
      {Opcode::EndLoop, "endloop", Engine::Scalar, {}, "Ends the innermost `loop`."},

      {Opcode::DmaCopy, "dma.copy", Engine::Dma,
       {{"dst", K::Addr, "destination"},
        {"src", K::Addr, "source"},
        {"rows", K::Imm, "rows to copy"},
        {"row_bytes", K::Imm, "bytes per row"},
        {"dst_stride", K::Imm, "bytes between destination rows"},
        {"src_stride", K::Imm, "bytes between source rows"}},
       "Copies a 2-D block of `rows` x `row_bytes` bytes. Source and destination must not overlap."},
      {Opcode::DmaCopy3d, "dma.copy3d", Engine::Dma,
       {{"dst", K::Addr, "destination"},
        {"src", K::Addr, "source"},
        {"depth", K::Imm, "planes to copy"},
        {"rows", K::Imm, "rows per plane"},
        {"row_bytes", K::Imm, "bytes per row"},
        {"dst_stride", K::Imm, "bytes between destination rows"},
        {"src_stride", K::Imm, "bytes between source rows"},
        {"dst_plane_stride", K::Imm, "bytes between destination planes"},
        {"src_plane_stride", K::Imm, "bytes between source planes"}},
       "Copies a 3-D block: `depth` planes of `rows` x `row_bytes` bytes."},

      {Opcode::Mma, "mma", Engine::Matrix,
       {{"acc", K::Addr, "f32 tile (m x n) in spm"},
        {"a", K::Addr, "tile (m x k) in spm"},
        {"b", K::Addr, "tile (k x n) in spm"},
        {"m", K::Imm, "rows of a and acc"},
        {"n", K::Imm, "columns of b and acc"},
        {"k", K::Imm, "columns of a, rows of b"},
        {"dtype", K::DType, "dtype of a and b: bf16, f16, f8e4m3 or f8e5m2"},
        {"mode", K::AccMode, "overwrite: acc = a @ b; accumulate: acc += a @ b"}},
       "Tile matrix multiply-accumulate. Products are exact in f32 (the inputs are narrower); "
       "each acc[i][j] adds a[i][p] * b[p][j] for p = 0 .. k-1 in increasing p to an f32 sum "
       "that starts at 0 (overwrite) or at acc[i][j] (accumulate), rounding to nearest even "
       "after every addition."},

      {Opcode::VUnary, "vunary", Engine::Vector,
       {{"fn", K::UnaryFn, "function"},
        {"dst", K::Addr, "destination tile"},
        {"src", K::Addr, "source tile"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"dtype", K::DType, "dtype of both tiles (a float dtype)"}},
       "dst = fn(src) elementwise, computed in f32 and rounded to nearest even into dtype. exp is "
       "within 2 ulps of e^x and gelu is the tanh form, both by the simulator's own definitions "
       "(not the host's libm); recip is 1/x."},
      {Opcode::VBinary, "vbinary", Engine::Vector,
       {{"fn", K::BinaryFn, "function"},
        {"dst", K::Addr, "destination tile (rows x cols)"},
        {"a", K::Addr, "tile (rows x cols)"},
        {"b", K::Addr, "tile read as the broadcast says"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"dtype", K::DType, "dtype of all tiles (a float dtype)"},
        {"bcast", K::Broadcast, "none: b (rows x cols); row: b (1 x cols); col: b (rows x 1); scalar: b (1 x 1)"}},
       "dst = fn(a, b) elementwise in f32, rounded to nearest even into dtype."},
      {Opcode::VReduce, "vreduce", Engine::Vector,
       {{"fn", K::ReduceFn, "sum or max"},
        {"dst", K::Addr, "f32 tile (rows x 1)"},
        {"src", K::Addr, "tile (rows x cols)"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"dtype", K::DType, "dtype of src (a float dtype)"}},
       "Reduces each row of src into dst, in f32, in increasing column order."},
      {Opcode::VConvert, "vconvert", Engine::Vector,
       {{"dst", K::Addr, "destination tile"},
        {"dst_dtype", K::DType, "destination dtype"},
        {"src", K::Addr, "source tile"},
        {"src_dtype", K::DType, "source dtype"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"rounding", K::Rounding, "rne: round to nearest even; stochastic: add uniform random bits below the kept precision, then truncate"},
        {"seed", K::Reg, "register holding the stochastic-rounding seed (element i uses counter i)"}},
       "Converts a tile between dtypes, bit-exactly as base/dtype.h defines for rne."},
      {Opcode::VTranspose, "vtranspose", Engine::Vector,
       {{"dst", K::Addr, "destination tile (cols x rows)"},
        {"src", K::Addr, "source tile (rows x cols)"},
        {"rows", K::Imm, "rows of src"},
        {"cols", K::Imm, "columns of src"},
        {"dtype", K::DType, "dtype of both tiles"}},
       "dst[j][i] = src[i][j]. dst and src must not overlap."},
      {Opcode::VGather, "vgather", Engine::Vector,
       {{"dst", K::Addr, "destination tile (rows x cols)"},
        {"table", K::Addr, "table (entries x cols)"},
        {"indices", K::Addr, "i32 tile (rows x 1)"},
        {"rows", K::Imm, "rows gathered"},
        {"cols", K::Imm, "columns per row"},
        {"entries", K::Imm, "rows in the table; an index outside [0, entries) stops the simulation"},
        {"dtype", K::DType, "dtype of dst and table"}},
       "dst[i] = table[indices[i]]."},
      {Opcode::VScatterAdd, "vscatter_add", Engine::Vector,
       {{"table", K::Addr, "table (entries x cols), updated"},
        {"indices", K::Addr, "i32 tile (rows x 1)"},
        {"src", K::Addr, "tile (rows x cols)"},
        {"rows", K::Imm, "rows scattered"},
        {"cols", K::Imm, "columns per row"},
        {"entries", K::Imm, "rows in the table"},
        {"dtype", K::DType, "dtype of table and src"}},
       "table[indices[i]] += src[i] for i = 0 .. rows-1 in order, in f32, rounded into dtype."},
      {Opcode::VFill, "vfill", Engine::Vector,
       {{"dst", K::Addr, "destination tile"},
        {"value", K::FImm, "f32 value"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"dtype", K::DType, "dtype of dst"}},
       "dst = value (rounded to nearest even into dtype)."},

      {Opcode::Signal, "signal", Engine::Scalar,
       {{"engine", K::EngineName, "queue that signals"}, {"sem", K::Imm, "semaphore 0..31"}},
       "Queued on `engine`: once everything before it there has completed, increments the "
       "core's semaphore `sem`."},
      {Opcode::Wait, "wait", Engine::Scalar,
       {{"engine", K::EngineName, "queue that waits"}, {"sem", K::Imm, "semaphore 0..31"}},
       "Queued on `engine`: blocks that queue until semaphore `sem` > 0, then decrements it."},
      {Opcode::Barrier, "barrier", Engine::Scalar, {},
       "Waits until every engine of this core is idle and every core has reached a barrier."},

      {Opcode::VRandom, "vrandom", Engine::Vector,
       {{"dst", K::Addr, "destination tile"},
        {"seed", K::Reg, "register holding the seed"},
        {"counter", K::Reg, "register holding the counter of element (0, 0)"},
        {"rows", K::Imm, "rows"},
        {"cols", K::Imm, "columns"},
        {"dtype", K::DType, "dtype of dst (a float dtype)"}},
       "dst[i][j] = uniform in [0, 1) from base/random.h's counter-based generator: the top 24 "
       "bits of random_bits(seed, counter + i * cols + j) times 2^-24, rounded to nearest even "
       "into dtype."},
  };
  for (size_t i = 0; i < t.size(); ++i) TS_ASSERT(static_cast<size_t>(t[i].op) == i);
  TS_ASSERT(t.size() == static_cast<size_t>(Opcode::Count));
  return t;
}

}  // namespace

const std::vector<OpcodeInfo>& opcode_table() {
  static const std::vector<OpcodeInfo> table = make_table();
  return table;
}

const OpcodeInfo& opcode_info(Opcode op) { return opcode_table().at(static_cast<size_t>(op)); }

const char* engine_name(Engine engine) {
  static const char* names[] = {"scalar", "dma", "matrix", "vector"};
  return names[static_cast<size_t>(engine)];
}

const char* space_name(Space space) {
  static const char* names[] = {"hbm", "l2", "spm"};
  return names[static_cast<size_t>(space)];
}

}  // namespace tessera::isa
