// reduce_program with `accumulate`: out += the column sums, out widened from its dtype, the sum
// added in f32 and rounded back once; bit for bit the plain reduction's sums added to out's old
// values (in that order: old + sum), over several row tiles and column blocks.
#include <gtest/gtest.h>

#include <vector>

#include "arch/chip_loader.h"
#include "base/dtype.h"
#include "base/random.h"
#include "compiler/tile_program.h"
#include "sim/simulator.h"

namespace tessera::compiler {
namespace {

TEST(ReduceAccumulate, AddsTheSumsToTheOldOutputOnceRounded) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  const int64_t outer = 2, n = 1500, inner = 300;  // 2 row tiles of at most 1024, 2 column blocks
  std::vector<float> x(static_cast<size_t>(outer * n * inner));
  for (size_t i = 0; i < x.size(); ++i) x[i] = random_normal(5, i);
  for (DType out_dtype : {DType::F32, DType::BF16}) {
    auto es = static_cast<int64_t>(dtype_size(out_dtype));
    std::vector<float> old_values(static_cast<size_t>(outer * inner));
    for (size_t i = 0; i < old_values.size(); ++i) old_values[i] = random_normal(6, i);
    std::vector<uint8_t> old_bytes(old_values.size() * static_cast<size_t>(es));
    convert_elements(old_values.data(), DType::F32, old_bytes.data(), out_dtype, old_values.size());

    const int64_t x_addr = 0, sums_addr = 0x1000000, out_addr = 0x2000000;
    sim::Simulator sim(t1);
    sim.memory().hbm().write(x_addr, x.data(), static_cast<int64_t>(x.size() * 4));
    sim.memory().hbm().write(out_addr, old_bytes.data(), static_cast<int64_t>(old_bytes.size()));
    sim.run(reduce_program(t1, isa::ReduceFn::Sum, x_addr, sums_addr, outer, n, inner));
    sim.run(reduce_program(t1, isa::ReduceFn::Sum, x_addr, out_addr, outer, n, inner, DType::F32, out_dtype, true));

    std::vector<float> sums(old_values.size());
    sim.memory().hbm().read(sums_addr, sums.data(), static_cast<int64_t>(sums.size() * 4));
    std::vector<uint8_t> got(old_bytes.size()), want(old_bytes.size());
    sim.memory().hbm().read(out_addr, got.data(), static_cast<int64_t>(got.size()));
    std::vector<float> widened(old_values.size());
    convert_elements(old_bytes.data(), out_dtype, widened.data(), DType::F32, widened.size());
    for (size_t i = 0; i < widened.size(); ++i) widened[i] = widened[i] + sums[i];
    convert_elements(widened.data(), DType::F32, want.data(), out_dtype, widened.size());
    EXPECT_EQ(got, want) << dtype_name(out_dtype);
    EXPECT_NE(got, old_bytes) << dtype_name(out_dtype) << ": nothing was added";
  }
}

}  // namespace
}  // namespace tessera::compiler
