// "tensor_core": a GPU SM's (or a cube unit's) tensor cores as a throughput of
// matrix.macs_per_cycle (x fp8_rate for fp8) x matrix.sustained_rate (the share of the rate a
// chip holds over long runs of MMAs: its clock under sustained load and the gaps between the
// MMAs its warps issue), with two losses that depend on the tile:
// - tile quantisation: m and n round up to the smallest MMA tile (matrix.rows x matrix.cols)
//   and k to the MMA's depth of 32 input bytes (k16 for 16-bit inputs, k32 for fp8), the shape
//   of these chips' MMA instructions;
// - pipeline fill: before the first MAC, one k-step of a's rows and b's columns must come
//   from the scratchpad, at its bandwidth.
// a and b are read from the scratchpad; the accumulator stays in the register file, as on the
// GPUs this model stands for, so acc costs no scratchpad traffic.
#include <algorithm>

#include "sim/timing_operands.h"

namespace tessera::sim {

namespace {

constexpr int64_t kMmaDepthBytes = 32;  // k of one MMA instruction, in bytes of input

class TensorCoreModel : public EngineModel {
 public:
  explicit TensorCoreModel(const ChipSpec& chip) : chip_(chip) {}

  Interval schedule(const IssuedInstruction& issued, double ready_cycle, SharedResources& resources) override {
    const isa::Instruction& inst = issued.inst;
    TS_ASSERT(inst.op == isa::Opcode::Mma);
    int64_t m = imm_operand(inst, 3), n = imm_operand(inst, 4), k = imm_operand(inst, 5);
    DType dtype = dtype_operand(inst, 6);
    auto input_bytes = static_cast<int64_t>(dtype_size(dtype));
    bool fp8 = matrix_input_dtype(chip_, inst, dtype) == arch::MatrixDtype::fp8;
    double macs_per_cycle =
        chip_.matrix.macs_per_cycle * (fp8 ? chip_.matrix.fp8_rate : 1.0) * chip_.matrix.sustained_rate;

    int64_t depth = kMmaDepthBytes / input_bytes;
    int64_t padded_m = divide_up(m, chip_.matrix.rows) * chip_.matrix.rows;
    int64_t padded_n = divide_up(n, chip_.matrix.cols) * chip_.matrix.cols;
    int64_t padded_k = divide_up(k, depth) * depth;
    double mac_cycles = static_cast<double>(padded_m * padded_n * padded_k) / macs_per_cycle;
    double fill_cycles = 0;
    if (!resources.ideal_bandwidth()) {
      fill_cycles = static_cast<double>((padded_m + padded_n) * kMmaDepthBytes) / resources.bytes_per_cycle(Level::Spm);
    }

    int64_t spm_bytes = (m * k + k * n) * input_bytes;
    return mma_interval(issued, ready_cycle, fill_cycles + mac_cycles, spm_bytes, m, n, k, resources);
  }

 private:
  ChipSpec chip_;
};

REGISTER_ENGINE_MODEL("tensor_core", TensorCoreModel);

}  // namespace

}  // namespace tessera::sim
