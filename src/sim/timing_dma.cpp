// "dma": a strided 2-D or 3-D copy streams its bytes through every memory on its path at once:
// the source is read and the destination written through their servers (HBM reads through the
// L2, which may hold the block; HBM writes through the L2 to HBM; `spm` through the scratchpad
// of the core it names). The copy ends when the slowest of them is done, HBM latency included.
// Its compute time is the copy alone on an idle chip; the rest is waiting for shared memory.
#include <algorithm>

#include "sim/timing_operands.h"

namespace tessera::sim {

namespace {

struct Copy {
  isa::Address dst, src;
  HbmBlock src_block;  // the source's shape; offset only when it is in HBM
  int64_t bytes = 0;
};

Copy read_copy(const isa::Instruction& inst) {
  Copy c;
  c.dst = addr_operand(inst, 0);
  c.src = addr_operand(inst, 1);
  HbmBlock& b = c.src_block;
  b.offset = c.src.offset;
  if (inst.op == isa::Opcode::DmaCopy) {
    b.rows = imm_operand(inst, 2), b.row_bytes = imm_operand(inst, 3), b.row_stride = imm_operand(inst, 5);
  } else {
    TS_ASSERT(inst.op == isa::Opcode::DmaCopy3d);
    b.depth = imm_operand(inst, 2), b.rows = imm_operand(inst, 3), b.row_bytes = imm_operand(inst, 4);
    b.row_stride = imm_operand(inst, 6), b.plane_stride = imm_operand(inst, 8);
  }
  c.bytes = b.depth * b.rows * b.row_bytes;
  return c;
}

class DmaModel : public EngineModel {
 public:
  explicit DmaModel(const ChipSpec& chip) : hbm_latency_cycles_(chip.hbm_latency_s * chip.clock_hz) {}

  Interval schedule(const IssuedInstruction& issued, double ready_cycle, SharedResources& resources) override {
    Copy copy = read_copy(issued.inst);
    Interval interval;
    interval.start_cycle = ready_cycle;
    double end = ready_cycle, unloaded = 0;  // unloaded: the copy's cycles on an idle chip
    auto through = [&](Level level, double done, int times = 1) {
      end = std::max(end, done);
      interval.bytes[static_cast<int>(level)] += copy.bytes * times;
      double bandwidth = resources.bytes_per_cycle(level);
      if (!resources.ideal_bandwidth() && bandwidth > 0) {
        double latency = level == Level::Hbm ? hbm_latency_cycles_ : 0;
        unloaded = std::max(unloaded, static_cast<double>(copy.bytes) / bandwidth + latency);
      }
    };
    auto side = [&](const isa::Address& addr, bool read) {
      switch (addr.space) {
        case isa::Space::Spm:
          through(Level::Spm, resources.transfer(Level::Spm, copy.bytes, ready_cycle, spm_core(addr, issued.core)));
          break;
        case isa::Space::L2: through(Level::L2, resources.transfer(Level::L2, copy.bytes, ready_cycle)); break;
        case isa::Space::Hbm:
          if (read) {
            bool hit = false;
            double done = resources.read_hbm(copy.src_block, copy.bytes, ready_cycle, hit);
            through(Level::L2, done);
            if (!hit) through(Level::Hbm, done);
          } else {
            through(Level::L2, resources.transfer(Level::L2, copy.bytes, ready_cycle));
            through(Level::Hbm, resources.transfer(Level::Hbm, copy.bytes, ready_cycle));
          }
          break;
      }
    };
    side(copy.src, true);
    side(copy.dst, false);
    if (resources.bytes_per_cycle(Level::L2) <= 0) interval.bytes[static_cast<int>(Level::L2)] = 0;  // no L2
    interval.end_cycle = end;
    interval.compute_cycles = std::min(unloaded, end - ready_cycle);
    interval.memory_wait_cycles = end - ready_cycle - interval.compute_cycles;
    return interval;
  }

 private:
  double hbm_latency_cycles_;
};

REGISTER_ENGINE_MODEL("dma", DmaModel);

}  // namespace

}  // namespace tessera::sim
