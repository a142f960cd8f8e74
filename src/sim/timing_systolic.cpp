// "systolic": an R x C PE array in the chip's dataflow (WS, OS or IS). An mma of (m, n, k)
// takes exactly SCALE-Sim's closed-form cycles for that GEMM (arch/systolic_cycles.h); fp8
// packs `fp8_rate` products per PE along k, so it runs as a GEMM with ceil(k / fp8_rate).
// Its operands stream through the core's scratchpad: a and b are read, acc written (and read
// first when accumulating); a busy scratchpad stretches the instruction.
#include <algorithm>
#include <cmath>

#include "arch/systolic_cycles.h"
#include "sim/timing_operands.h"

namespace tessera::sim {

namespace {

class SystolicModel : public EngineModel {
 public:
  explicit SystolicModel(const ChipSpec& chip) : chip_(chip) {}

  Interval schedule(const IssuedInstruction& issued, double ready_cycle, SharedResources& resources) override {
    const isa::Instruction& inst = issued.inst;
    TS_ASSERT(inst.op == isa::Opcode::Mma);
    int64_t m = imm_operand(inst, 3), n = imm_operand(inst, 4), k = imm_operand(inst, 5);
    DType dtype = dtype_operand(inst, 6);
    bool accumulate = static_cast<isa::AccMode>(imm_operand(inst, 7)) == isa::AccMode::Accumulate;
    double rate = matrix_input_dtype(chip_, inst, dtype) == arch::MatrixDtype::fp8 ? chip_.matrix.fp8_rate : 1.0;
    int64_t packed_k = static_cast<int64_t>(std::ceil(static_cast<double>(k) / rate));
    arch::SystolicCycles cycles =
        arch::systolic_cycles({m, n, packed_k}, chip_.matrix.rows, chip_.matrix.cols, chip_.matrix.dataflow);

    int64_t spm_bytes = (m * k + k * n) * static_cast<int64_t>(dtype_size(dtype)) + m * n * 4 * (accumulate ? 2 : 1);
    return mma_interval(issued, ready_cycle, static_cast<double>(cycles.cycles), spm_bytes, m, n, k, resources);
  }

 private:
  ChipSpec chip_;
};

REGISTER_ENGINE_MODEL("systolic", SystolicModel);

}  // namespace

}  // namespace tessera::sim
