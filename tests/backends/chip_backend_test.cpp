// The chip backends beyond the kernel harness: matmul of general f32 inputs (rounded to bf16 on
// the way to the matrix engine), multi-tile and multi-core shapes (cross-entropy's targets in
// tiles of many rows), operands used where they lie in HBM and the workspace above them, the
// simulated time they add up, the kernels they claim, and the registry's names.
#include "backends/chip/chip_backend.h"

#include "base/error.h"
#include "common/error_text.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

ChipBackend& t1() { return *chip_backend("chip:t1"); }

TEST(ChipBackendTest, MatmulOfF32InputsIsTheProductOfTheirBf16Roundings) {
  // 70 x 90 x 130: several 64-wide tiles in every dimension, padded at the edges.
  MatmulArgs args;
  args.m = 70, args.n = 90, args.k = 130, args.transpose_b = true;
  std::vector<float> a = random_values(70 * 130, 7), b = random_values(90 * 130, 8);
  auto run = [&](Backend& device, const std::vector<float>& av, const std::vector<float>& bv) {
    Workspace ws(device);
    View out = ws.output(DType::F32, {70, 90});
    device.matmul(ws.input(DType::F32, {70, 130}, av), ws.input(DType::F32, {90, 130}, bv), out, args);
    return ws.read(out);
  };
  double before = t1().simulated_seconds();
  std::vector<float> chip = run(t1(), a, b);
  EXPECT_GT(t1().simulated_seconds(), before);
  // Exact products of bf16 values, summed in f32 in another order.
  expect_close(chip, run(backend("cpu-ref"), rounded(a, DType::BF16), rounded(b, DType::BF16)), {1e-4, 1e-5},
               "chip matmul vs the product of bf16-rounded inputs");
  // Against the f32 product: within what rounding both inputs to bf16 (8 bits) can change.
  expect_close(chip, run(backend("cpu-ref"), a, b), {130 * 2.0 / 256, 0.0}, "chip matmul vs the f32 product");
  std::vector<float> exact = run(backend("cpu-ref"), a, b);
  double worst = 0;
  for (size_t i = 0; i < chip.size(); ++i) worst = std::max(worst, std::fabs(double(chip[i]) - exact[i]));
  EXPECT_GT(worst, 1e-5) << "the inputs were rounded to bf16, so the f32 product should differ";
}

TEST(ChipBackendTest, RowBroadcastAddAndColumnSumsSpanTheCores) {
  // (300, 700) + (700): tiles over rows and columns on several cores.
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Div}) {
    expect_matches_reference(
        t1(),
        [&](Workspace& ws) {
          View x = ws.input(DType::F32, {300, 700}, random_values(300 * 700, 1));
          View bias = ws.input(DType::F32, {700}, random_values(700, 2, 0.5f, 2.0f));
          bias.shape = {300, 700};
          bias.strides = {0, 1};
          View out = ws.output(DType::F32, {300, 700});
          ws.backend().binary(op, x, bias, out);
          return std::vector<View>{out};
        },
        storage_tolerance(DType::F32), "row broadcast");
  }
  expect_matches_reference(
      t1(),
      [&](Workspace& ws) {
        View x = ws.input(DType::F32, {1500, 300}, random_values(1500 * 300, 3));
        View out = ws.output(DType::F32, {300});
        ws.backend().reduce(ReduceOp::Sum, x, out, 1, 1500, 300);
        return std::vector<View>{out};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-4), "bias gradient: sums over 1500 rows");
}

TEST(ChipBackendTest, CrossEntropyFindsTargetsInTilesOfManyRows) {
  // 1000 rows: tiles of many rows on every core, so that each row's target index is counted
  // from its tile's start; every third row is ignored.
  const int64_t rows = 1000, vocab = 37;
  std::vector<float> logits = random_values(rows * vocab, 11, -4.0f, 4.0f);
  std::vector<float> targets = random_ints(rows, 12, 0, vocab), dlosses = random_values(rows, 13);
  for (int64_t r = 2; r < rows; r += 3) targets[r] = -1;
  expect_matches_reference(
      t1(),
      [&](Workspace& ws) {
        View x = ws.input(DType::F32, {rows, vocab}, logits), t = ws.input(DType::I32, {rows}, targets);
        View losses = ws.output(DType::F32, {rows}), lse = ws.output(DType::F32, {rows});
        View dlogits = ws.output(DType::F32, {rows, vocab});
        ws.backend().cross_entropy(x, t, losses, lse);
        ws.backend().cross_entropy_backward(x, t, lse, ws.input(DType::F32, {rows}, dlosses), dlogits);
        return std::vector<View>{losses, lse, dlogits};
      },
      plus_abs(storage_tolerance(DType::F32), 1e-6 * vocab), "cross_entropy 1000 x 37");
}

TEST(ChipBackendTest, ClaimsExactlyTheKernelsItRuns) {
  EXPECT_TRUE(t1().supports(Kernel::Matmul, DType::F32));
  EXPECT_TRUE(t1().supports(Kernel::Matmul, DType::BF16));
  EXPECT_TRUE(t1().supports(Kernel::Binary, DType::F32));
  EXPECT_TRUE(t1().supports(Kernel::Binary, DType::BF16));
  EXPECT_TRUE(t1().supports(Kernel::Conv2d, DType::F32));
  EXPECT_TRUE(t1().supports(Kernel::Conv2dBackward, DType::BF16));
  EXPECT_FALSE(t1().supports(Kernel::Conv2d, DType::F16));
  EXPECT_TRUE(t1().supports(Kernel::Copy, DType::BF16));
  EXPECT_TRUE(t1().supports(Kernel::AdamW, DType::F32));
  EXPECT_TRUE(t1().supports(Kernel::CrossEntropy, DType::F32));
  EXPECT_FALSE(t1().supports(Kernel::CrossEntropy, DType::BF16));
  EXPECT_TRUE(t1().supports(Kernel::ReduceMax, DType::F32));
  EXPECT_TRUE(t1().host_addressable());
}

TEST(ChipBackendTest, EveryPresetIsADeviceAndAnUnknownChipListsThem) {
  std::vector<std::string> names = backend_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "chip:t1"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "chip:h20"), names.end());
  EXPECT_EQ(backend("chip:h20").name(), "chip:h20");
  try {
    backend("chip:xyz");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown device 'chip:xyz'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chip:t1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(chip_backend("cpu"), nullptr);
}

TEST(ChipBackendTest, SummaryReportsLaunchesAndTimePerKernel) {
  Workspace ws(t1());
  t1().reset_totals();
  t1().fill(ws.output(DType::F32, {64, 64}), 1.0);
  ChipTotals totals = t1().totals();
  EXPECT_EQ(totals.launches, 1);
  EXPECT_GE(totals.seconds, t1().chip().launch_overhead_s);
  EXPECT_NE(t1().summary().find("chip:t1: 1 launches"), std::string::npos) << t1().summary();
  EXPECT_NE(t1().summary().find("fill"), std::string::npos) << t1().summary();
}

}  // namespace
}  // namespace tessera::test

namespace tessera::test {
namespace {

TEST(ChipBackendTest, MatmulTransposesAcrossManyTiles) {
  // The shapes of an MLP's backward pass: (784 x 32) @ (32 x 512) with A transposed, and so on.
  for (int variant = 0; variant < 8; ++variant) {
    MatmulArgs args;
    args.m = 200, args.n = 150, args.k = 96;
    args.transpose_a = variant & 1, args.transpose_b = variant & 2, args.accumulate = variant & 4;
    std::vector<float> a = rounded(random_values(200 * 96, 11), DType::BF16);
    std::vector<float> b = rounded(random_values(150 * 96, 12), DType::BF16);
    expect_matches_reference(
        t1(),
        [&](Workspace& ws) {
          View out = args.accumulate ? ws.output(DType::F32, {200, 150}, random_values(200 * 150, 13))
                                     : ws.output(DType::F32, {200, 150});
          ws.backend().matmul(ws.input(DType::F32, {200 * 96}, a), ws.input(DType::F32, {150 * 96}, b), out, args);
          return std::vector<View>{out};
        },
        {1e-4, 1e-5}, "matmul variant " + std::to_string(variant));
  }
}

TEST(ChipBackendTest, AllocationsAreAccountedInTheDevicesHbm) {
  runtime::Device& device = t1().device();
  int64_t before = device.bytes_in_use();
  {
    std::shared_ptr<void> a = t1().allocate(1000), b = t1().allocate(3 << 20);
    EXPECT_EQ(device.bytes_in_use(), before + 1024 + (3 << 20));
    EXPECT_GE(device.peak_bytes(), before + 1024 + (3 << 20));
    static_cast<char*>(b.get())[(3 << 20) - 1] = 1;  // host memory behind it
  }
  EXPECT_EQ(device.bytes_in_use(), before);
}

TEST(ChipBackendTest, OperandsInTheChipsHbmAreUsedWhereTheyLie) {
  std::vector<float> a = random_values(64 * 96, 31), b = random_values(64 * 96, 32), sum(a.size()), twice_t(a.size());
  for (size_t i = 0; i < a.size(); ++i) sum[i] = a[i] + b[i];
  for (int64_t r = 0; r < 96; ++r)
    for (int64_t c = 0; c < 64; ++c) twice_t[r * 64 + c] = 2 * a[c * 96 + r];
  Workspace ws(t1());
  View va = ws.input(DType::F32, {64, 96}, a), vb = ws.input(DType::F32, {64, 96}, b);
  auto copied = [&, last = t1().totals().staged_bytes]() mutable {
    int64_t now = t1().totals().staged_bytes, bytes = now - last;
    last = now;
    return bytes;
  };
  // Contiguous f32 operands and result: nothing copied.
  View out = ws.output(DType::F32, {64, 96});
  t1().binary(BinaryOp::Add, va, vb, out);
  EXPECT_EQ(copied(), 0);
  EXPECT_EQ(ws.read(out), sum);
  // A result onto an operand (an in-place add): each tile stored over the one it was loaded from.
  View acc = ws.output(DType::F32, {64, 96}, a);
  t1().binary(BinaryOp::Add, acc, vb, acc);
  EXPECT_EQ(copied(), 0);
  EXPECT_EQ(ws.read(acc), sum);
  // A result that overlaps an operand one row further on: the operand read where it lies, the
  // sum written to the workspace and copied into place after the run.
  std::vector<float> a_and_row(a);
  a_and_row.resize(65 * 96, 0.0f);
  View both = ws.output(DType::F32, {65, 96}, a_and_row);
  View from{both.data, DType::F32, {64, 96}, {96, 1}}, onto{static_cast<float*>(both.data) + 96, DType::F32, {64, 96}, {96, 1}};
  t1().binary(BinaryOp::Add, from, vb, onto);
  EXPECT_EQ(copied(), 64 * 96 * 4);
  std::vector<float> shifted = ws.read(both);
  EXPECT_EQ(std::vector<float>(shifted.begin() + 96, shifted.end()), sum);
  // A transposed view is packed into the workspace (twice: it is both operands).
  View transposed{va.data, DType::F32, {96, 64}, {1, 96}};
  View out_t = ws.output(DType::F32, {96, 64});
  t1().binary(BinaryOp::Add, transposed, transposed, out_t);
  EXPECT_EQ(copied(), 2 * 96 * 64 * 4);
  EXPECT_EQ(ws.read(out_t), twice_t);
  ws.expect_intact("binary in place");
}

TEST(ChipBackendTest, ALaunchsWorkspaceMustFitAboveTheAllocations) {
  ChipBackend small("t1", {"hbm.capacity=1MiB"});
  std::shared_ptr<void> most = small.allocate((1 << 20) - 4096);
  // A transposed view needs 16384 bytes of workspace; 4096 are left above the allocation.
  View transposed{most.get(), DType::F32, {64, 64}, {1, 64}};
  EXPECT_EQ(testing::error_text([&] { small.unary(UnaryOp::Neg, transposed, View{most.get(), DType::F32, {64, 64}, {64, 1}}); }),
            "device 'chip:t1': out of memory: a launch's workspace needs 16.38 kB above the 1.04 MB allocated");
}

TEST(ChipBackendTest, LaunchesAreOnTheDevicesTimeline) {
  Workspace ws(t1());
  double before = t1().device().synchronize();
  runtime::DeviceTotals totals = t1().device().totals();
  t1().fill(ws.output(DType::F32, {64, 64}), 2.0);
  runtime::DeviceTotals work = t1().device().totals() - totals;
  EXPECT_EQ(work.launches, 1);
  EXPECT_EQ(work.kernels["fill"].calls, 1);
  EXPECT_NEAR(t1().device().synchronize() - before, work.launch_seconds, 1e-15);
}

}  // namespace
}  // namespace tessera::test

namespace tessera::test {
namespace {

TEST(ChipBackendTest, ASecondLaunchOfTheSameMatmulReusesItsProgram) {
  // Batched bf16 product with a bf16 output: the second launch hits the program cache and
  // gives the same bits.
  MatmulArgs args;
  args.batch = 3, args.m = 40, args.n = 72, args.k = 56;
  args.batch_stride_a = 40 * 56, args.batch_stride_b = 56 * 72, args.batch_stride_out = 40 * 72;
  std::vector<float> a = random_values(3 * 40 * 56, 21), b = random_values(3 * 56 * 72, 22);
  auto launch = [&] {
    Workspace ws(t1());
    View out = ws.output(DType::BF16, {3, 40, 72});
    t1().matmul(ws.input(DType::BF16, {3, 40, 56}, a), ws.input(DType::BF16, {3, 56, 72}, b), out, args);
    return ws.read(out);
  };
  int64_t misses = t1().gemm_programs().misses(), hits = t1().gemm_programs().hits();
  std::vector<float> first = launch();
  EXPECT_EQ(t1().gemm_programs().misses(), misses + 1);
  std::vector<float> second = launch();
  EXPECT_EQ(t1().gemm_programs().misses(), misses + 1);
  EXPECT_EQ(t1().gemm_programs().hits(), hits + 1);
  EXPECT_EQ(first, second);
  // And it is the product: against cpu-ref within bf16 output rounding.
  Workspace ref(backend("cpu-ref"));
  View out = ref.output(DType::BF16, {3, 40, 72});
  backend("cpu-ref").matmul(ref.input(DType::BF16, {3, 40, 56}, a), ref.input(DType::BF16, {3, 56, 72}, b), out, args);
  expect_close(first, ref.read(out), {1e-2, 1e-2}, "cached batched bf16 matmul vs cpu-ref");
}

}  // namespace
}  // namespace tessera::test
