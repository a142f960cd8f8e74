// The tiled GEMM program (see tiled_gemm.h), straight-line per core with address registers:
// r1 walks A's k-slices, r2 B's, r3 holds the output tile's address.
#include "sim/tiled_gemm.h"

#include "base/error.h"

namespace tessera::sim {

namespace {

using isa::Instruction;
using isa::Opcode;
using isa::Operand;
using isa::OperandKind;

enum Semaphore { kLoaded0 = 0, kLoaded1 = 1, kFree0 = 2, kFree1 = 3, kAccDone = 4, kAccStored = 5 };

Operand imm(int64_t v) { return {OperandKind::Imm, v, {}}; }
Operand reg(int r) { return {OperandKind::Reg, r, {}}; }
Operand address(isa::Space space, int64_t offset, int base = -1) {
  Operand o{OperandKind::Addr, 0, {}};
  o.addr.space = space;
  o.addr.reg = static_cast<int8_t>(base);
  o.addr.offset = offset;
  return o;
}
Operand spm(int64_t offset) { return address(isa::Space::Spm, offset); }
Operand hbm_at(int base) { return address(isa::Space::Hbm, 0, base); }
Operand engine(isa::Engine e) { return {OperandKind::EngineName, static_cast<int64_t>(e), {}}; }

Instruction sync(Opcode op, isa::Engine e, int sem) { return {op, {engine(e), imm(sem)}, 0}; }
Instruction li(int r, int64_t v) { return {Opcode::Li, {reg(r), imm(v)}, 0}; }
Instruction addi(int r, int64_t v) { return {Opcode::Addi, {reg(r), reg(r), imm(v)}, 0}; }
Instruction copy(Operand dst, Operand src, int64_t rows, int64_t row_bytes, int64_t dst_stride, int64_t src_stride) {
  return {Opcode::DmaCopy, {dst, src, imm(rows), imm(row_bytes), imm(dst_stride), imm(src_stride)}, 0};
}

}  // namespace

isa::Program tiled_gemm_program(const arch::ChipSpec& chip, const TiledGemm& g) {
  if (g.tile_m <= 0 || g.tile_n <= 0 || g.tile_k <= 0 || g.m % g.tile_m || g.n % g.tile_n || g.k % g.tile_k)
    fail("tiled GEMM {}x{}x{}: tiles {}x{}x{} do not divide it", g.m, g.n, g.k, g.tile_m, g.tile_n, g.tile_k);
  auto es = static_cast<int64_t>(dtype_size(g.dtype));
  int64_t acc_bytes = g.tile_m * g.tile_n * 4, a_bytes = g.tile_m * g.tile_k * es, b_bytes = g.tile_k * g.tile_n * es;
  // Scratchpad: acc, a0, a1, b0, b1.
  const int64_t acc = 0, a_buf[2] = {acc_bytes, acc_bytes + a_bytes};
  const int64_t b_buf[2] = {acc_bytes + 2 * a_bytes, acc_bytes + 2 * a_bytes + b_bytes};
  if (b_buf[1] + b_bytes > chip.scratchpad_bytes)
    fail("tiled GEMM: tiles {}x{}x{} need {} bytes of scratchpad; chip {} has {}", g.tile_m, g.tile_n, g.tile_k,
         b_buf[1] + b_bytes, chip.name, chip.scratchpad_bytes);

  int64_t tiles_m = g.m / g.tile_m, tiles_n = g.n / g.tile_n, steps = g.k / g.tile_k;
  int64_t cores = std::min(chip.cores, tiles_m * tiles_n);
  isa::Program program;
  program.cores.resize(static_cast<size_t>(cores));
  const isa::Engine kDma = isa::Engine::Dma, kMatrix = isa::Engine::Matrix;
  for (int64_t core = 0; core < cores; ++core) {
    std::vector<Instruction>& s = program.cores[static_cast<size_t>(core)];
    for (int sem : {kFree0, kFree1, kAccStored}) s.push_back(sync(Opcode::Signal, kMatrix, sem));
    for (int64_t tile = core; tile < tiles_m * tiles_n; tile += cores) {
      int64_t ti = tile / tiles_n, tj = tile % tiles_n;
      s.push_back(li(1, g.a_addr + ti * g.tile_m * g.k * es));
      s.push_back(li(2, g.b_addr + tj * g.tile_n * es));
      for (int64_t step = 0; step < steps; ++step) {
        int buf = static_cast<int>(step % 2);
        s.push_back(sync(Opcode::Wait, kDma, kFree0 + buf));
        s.push_back(copy(spm(a_buf[buf]), hbm_at(1), g.tile_m, g.tile_k * es, g.tile_k * es, g.k * es));
        s.push_back(copy(spm(b_buf[buf]), hbm_at(2), g.tile_k, g.tile_n * es, g.tile_n * es, g.n * es));
        s.push_back(sync(Opcode::Signal, kDma, kLoaded0 + buf));
        s.push_back(addi(1, g.tile_k * es));
        s.push_back(addi(2, g.tile_k * g.n * es));
        if (step == 0) s.push_back(sync(Opcode::Wait, kMatrix, kAccStored));
        s.push_back(sync(Opcode::Wait, kMatrix, kLoaded0 + buf));
        isa::AccMode mode = step == 0 ? isa::AccMode::Overwrite : isa::AccMode::Accumulate;
        s.push_back({Opcode::Mma,
                     {spm(acc), spm(a_buf[buf]), spm(b_buf[buf]), imm(g.tile_m), imm(g.tile_n), imm(g.tile_k),
                      {OperandKind::DType, static_cast<int64_t>(g.dtype), {}},
                      {OperandKind::AccMode, static_cast<int64_t>(mode), {}}},
                     0});
        s.push_back(sync(Opcode::Signal, kMatrix, kFree0 + buf));
      }
      s.push_back(sync(Opcode::Signal, kMatrix, kAccDone));
      s.push_back(sync(Opcode::Wait, kDma, kAccDone));
      s.push_back(li(3, g.c_addr + (ti * g.tile_m * g.n + tj * g.tile_n) * 4));
      s.push_back(copy(hbm_at(3), spm(acc), g.tile_m, g.tile_n * 4, g.n * 4, g.tile_n * 4));
      s.push_back(sync(Opcode::Signal, kDma, kAccStored));
    }
  }
  return program;
}

}  // namespace tessera::sim
