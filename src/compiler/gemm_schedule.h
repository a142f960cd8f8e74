// The GEMM lowering's schedule pass: each core's work as an ordered list of steps, each on one
// engine, with the semaphores it waits on before and signals after. The DMA engine loads
// k-slices of a and b into double buffers while the matrix engine multiplies the previous
// pair into the f32 accumulator. Of the two slices the smaller loads first: its load is mostly
// the HBM latency of a first read, during which the L2 streams the larger slices that other
// cores share; loaded second, it would add that latency after the core's turn on the L2.
// Operands that need it are prepared by the vector engine from raw buffers (also
// double-buffered); the last k-step of a tile runs in row chunks, each chunk handed to the
// epilogue (vector engine: add the old output, round) and stored by the DMA engine while the
// next chunk multiplies. A tile's epilogue and store follow the next tile's first k-step on
// their engines' queues, so that the next tile's loads start at once; when the epilogue frees
// the accumulator, the store of its last chunk follows the next tile's second k-step's loads,
// so that those do not queue behind the store while the matrix engine waits. A semaphore is
// signalled only when a later step waits on it, so that every core's signals and waits
// balance (the verifier's rule).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/gemm_partition.h"
#include "isa/isa.h"

namespace tessera::compiler {

// Semaphores of the schedule: full/free pairs per buffer (0/1), then single ones.
enum GemmSemaphore : int {
  kAFull = 0, kBFull = 2, kAFree = 4, kBFree = 6,          // a, b buffer 0/1: loaded or prepared / consumed
  kRawAFull = 8, kRawAFree = 10, kRawBFull = 12, kRawBFree = 14,  // raw buffers: loaded / prepared
  kAccReady = 16,  // a chunk of the accumulator is final
  kAccFree = 17,   // the accumulator has been read out
  kOutReady = 18,  // a chunk of the output tile is ready to store
  kOutFree = 19,   // the output tile is stored
  kOldFull = 20,   // the old output tile is loaded
  kOldFree = 21,   // the old output tile has been used
  kGemmSemaphores = 22
};
std::string_view semaphore_name(int semaphore);  // "a_full0", "acc_ready", ...

struct GemmStep {
  enum class Op : uint8_t {
    LoadA, LoadB,    // HBM -> a/b buffer, or raw buffer when the operand is prepared
    PrepA, PrepB,    // raw buffer -> a/b buffer (vconvert, vtranspose)
    Mma,             // one k-step, or one row chunk of the last
    LoadOld,         // the old output tile (accumulate)
    Epilogue,        // one row chunk: + old output, rounding to the output dtype
    Store,           // one row chunk of the output tile -> HBM
  };
  Op op = Op::LoadA;
  int32_t tile = 0;  // index into the core's tiles
  int32_t kk = 0;    // k-step of the tile
  int8_t buffer = 0;
  int8_t chunk = 0, chunks = 1;  // row chunk of the tile (Mma of the last k-step, Epilogue, Store)
  int8_t wait_count = 0, signal_count = 0;
  std::array<int8_t, 3> waits{}, signals{};

  isa::Engine engine() const;
  void wait(int semaphore) { waits[static_cast<size_t>(wait_count++)] = static_cast<int8_t>(semaphore); }
  void signal(int semaphore) { signals[static_cast<size_t>(signal_count++)] = static_cast<int8_t>(semaphore); }
};

struct GemmSchedule {
  int64_t k_steps = 0;                        // per tile (per part of a split K)
  std::vector<std::vector<GemmStep>> cores;   // in issue order
};

GemmSchedule schedule_gemm(const GemmKernel& kernel, const GemmTiling& tiling, const GemmPartition& partition);

// Whether each k-step loads its b slice before its a slice: b's (k x n) slice has fewer bytes
// than a's (m x k), as stored in HBM.
bool b_first(const GemmKernel& kernel, const GemmTiling& tiling);

// Core 0's first tiles, one step a line: engine, what it does, waits and signals.
std::string to_string(const GemmSchedule& schedule, const GemmPartition& partition);

}  // namespace tessera::compiler
