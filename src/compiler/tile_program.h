// Tile programs for the chip backend's vector kernels: a plan says which HBM arrays a kernel
// reads and writes and which Vector instructions turn input tiles into output tiles; the
// builders cut the work into tiles that fit the scratchpad, hand the tiles to the cores in turn
// and emit each core's DMA and Vector streams with their semaphores.
#pragma once
#include <cstdint>
#include <vector>

#include "arch/chip.h"
#include "base/dtype.h"
#include "isa/isa.h"

namespace tessera::compiler {

// An elementwise pass over a (rows, cols) problem, f32 in the scratchpad. Slots name tiles:
// inputs first (in order), then constants, then temporaries, then row temporaries. Every tile
// of the pass is (tile rows x tile cols) except Row inputs (1 x tile cols), Col inputs and row
// temporaries (tile rows x 1) and constants (1 x 1). A plan with whole_rows keeps each row in
// one tile, so that ops can work per row: Reduce, Gather and ScatterAdd, and ops marked per_row
// on (tile rows x 1) values.
// An input stored in a narrower float dtype (bf16, f16, fp8) is loaded as it is and converted
// to its f32 slot on the chip (vconvert) before the tile's ops.
struct ElementwisePlan {
  enum class Layout { Full, Row, Scalar, Col };  // (rows, cols) / (1, cols) / (1, 1) / (rows, 1)
  struct Input {
    int64_t hbm_addr = 0;
    Layout layout = Layout::Full;
    int64_t row_stride = 0;  // elements between rows in HBM (Full only); 0: cols
    DType dtype = DType::F32;  // of the HBM array (Scalar inputs: f32 only)
  };
  struct Op {
    // Reduce: dst (rows x 1) = fn over each row of a. Gather: dst (rows x 1) = a's element at
    // index b (i32, rows x 1, counted from the tile's start). ScatterAdd: dst's element at
    // index b += a (rows x 1). Random: dst = uniform in [0, 1) drawn at (seed, counter + e), e
    // the element's row-major index in the pass (plans of one row or of whole-row tiles).
    enum class Kind { Unary, Binary, Convert, Fill, Reduce, Gather, ScatterAdd, Random } kind = Kind::Unary;
    int dst = 0, a = 0, b = 0;
    bool per_row = false;  // Unary/Binary on (rows x 1) values
    bool col_b = false;    // Binary: b is a (rows x 1) value broadcast along the row
    isa::ReduceFn reduce = isa::ReduceFn::Sum;
    isa::UnaryFn unary = isa::UnaryFn::Copy;
    isa::BinaryFn binary = isa::BinaryFn::Add;
    DType to = DType::F32;  // Convert: the dst dtype (a is f32)
    float value = 0;        // Fill
    uint64_t seed = 0, counter = 0;  // Random
  };
  struct Output {
    int slot = 0;
    int64_t hbm_addr = 0;
    DType dtype = DType::F32;  // of the slot and the HBM array
    bool per_row = false;      // a (rows, 1) array of the slot's (rows x 1) values
  };
  // Arrays that lie apart, as one row (multi-tensor kernels): the row is the segments end to
  // end, and a segment's Full inputs and its outputs lie at its own addresses, in the order of
  // `inputs` and `outputs` (whose hbm_addr a segmented plan ignores, but a Scalar input's).
  // Tiles do not cross segments.
  struct Segment {
    int64_t cols = 0;
    std::vector<int64_t> input_addrs, output_addrs;
  };
  int64_t rows = 0, cols = 0;
  bool whole_rows = false;
  std::vector<Segment> segments;  // rows == 1, cols their sum; empty: one array per operand
  std::vector<Input> inputs;
  std::vector<float> constants;
  int temporaries = 0;
  int row_temporaries = 0;  // for per-row values (whole_rows plans): a long row needs no room for them
  std::vector<Op> ops;
  std::vector<Output> outputs;

  int slot_count() const { return row_temporary_slot(row_temporaries); }
  int constant_slot(int i) const { return static_cast<int>(inputs.size()) + i; }
  int temporary_slot(int i) const { return static_cast<int>(inputs.size() + constants.size()) + i; }
  int row_temporary_slot(int i) const { return temporary_slot(temporaries) + i; }
  // The shape of a slot's tiles (constants: Scalar).
  Layout slot_layout(int slot) const {
    if (slot < static_cast<int>(inputs.size())) return inputs[static_cast<size_t>(slot)].layout;
    if (slot < temporary_slot(0)) return Layout::Scalar;
    return slot < row_temporary_slot(0) ? Layout::Full : Layout::Col;
  }
};

// The program of an elementwise plan, and where it reads its kernel arguments: the plan's
// constants, f32 one after another from scratchpad address `constants_addr`, which the launch
// writes into every core's scratchpad (runtime/launch.h), so that plans differing only in their
// constants (a learning rate) share one program. Tiles are double-buffered: the DMA engine
// loads tile i + 1 while the vector engine computes tile i.
struct ElementwiseProgram {
  isa::Program program;
  int64_t constants_addr = 0;
};
ElementwiseProgram elementwise_program(const arch::ChipSpec& chip, const ElementwisePlan& plan);
// The bytes of a plan's kernel arguments: its constants as f32.
std::vector<uint8_t> elementwise_arguments(const ElementwisePlan& plan);
// The rows of each of the plan's tiles (tiles start at multiples of it).
int64_t elementwise_tile_rows(const arch::ChipSpec& chip, const ElementwisePlan& plan);
// Scratchpad bytes the plan takes with tiles of `tile_rows` rows: constants and both buffer sets.
int64_t elementwise_scratchpad_bytes(const ElementwisePlan& plan, int64_t tile_rows);

// x (outer, n, inner) at x_addr -> out (outer, inner) at out_addr, sum or max over n in f32.
// Each job is one (outer index, block of inner columns); it loads (n-block x columns) tiles,
// transposes them so that the reduction runs along rows, reduces and combines the partial
// results. x may be stored in a narrower float dtype (reduced as it is, in f32); an out dtype
// narrower than f32 is rounded on the chip (vconvert).
// With `accumulate`, out += the result instead: out's values (in out_dtype) are widened, the
// result added to them in f32 and the sum rounded back.
isa::Program reduce_program(const arch::ChipSpec& chip, isa::ReduceFn fn, int64_t x_addr, int64_t out_addr,
                            int64_t outer, int64_t n, int64_t inner, DType x_dtype = DType::F32,
                            DType out_dtype = DType::F32, bool accumulate = false);
// Every argument of reduce_program (but the chip), as a program cache key (program_key.h).
std::string reduce_key(isa::ReduceFn fn, int64_t x_addr, int64_t out_addr, int64_t outer, int64_t n, int64_t inner,
                       DType x_dtype = DType::F32, DType out_dtype = DType::F32, bool accumulate = false);

}  // namespace tessera::compiler
