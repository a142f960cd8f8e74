// The chip backends' convolution and pooling beyond the kernel harness: the CNN's real shapes
// (batch 64, 1x28x28 -> conv 3x3 pad 1 (16) -> pool 2 -> conv 3x3 pad 1 (32) -> pool 2) with
// general f32 inputs, which the matrix engine sees rounded to bf16, so that they match cpu-ref
// run on bf16-rounded inputs; bf16 tensors (autocast); position blocks spread over many cores;
// and first arg-max ties.
#include "backends/chip/chip_backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

ChipBackend& t1() { return *chip_backend("chip:t1"); }

struct Conv {
  Shape x, weight;
  int64_t padding;
  Shape y() const { return {x[0], weight[0], x[2] + 2 * padding - weight[2] + 1, x[3] + 2 * padding - weight[3] + 1}; }
};

// Forward and backward of `c` on `device` from the given values; outputs y, dx, dweight, dbias.
std::vector<std::vector<float>> run_conv(Backend& device, const Conv& c, DType dtype, const std::vector<float>& x,
                                         const std::vector<float>& w, const std::vector<float>& bias,
                                         const std::vector<float>& dy) {
  Workspace ws(device);
  Conv2dArgs args{1, c.padding};
  Shape y_shape = c.y();
  View xv = ws.input(dtype, c.x, x), wv = ws.input(dtype, c.weight, w), bv = ws.input(dtype, {c.weight[0]}, bias);
  View y = ws.output(dtype, y_shape), dx = ws.output(dtype, c.x);
  View dweight = ws.output(dtype, c.weight, std::vector<float>(static_cast<size_t>(numel(c.weight)), 0.5f));
  View dbias = ws.output(dtype, {c.weight[0]}, std::vector<float>(static_cast<size_t>(c.weight[0]), 0.25f));
  device.conv2d(xv, wv, bv, y, args);
  device.conv2d_backward(xv, wv, ws.input(dtype, y_shape, dy), dx, dweight, dbias, args);
  ws.expect_intact("conv " + shape_str(c.x));
  return {ws.read(y), ws.read(dx), ws.read(dweight), ws.read(dbias)};
}

const Conv kCnnConvs[] = {{{64, 1, 28, 28}, {16, 1, 3, 3}, 1}, {{64, 16, 14, 14}, {32, 16, 3, 3}, 1}};

TEST(ChipConvPool, CnnConvolutionsMatchCpuRefOnBf16RoundedInputs) {
  for (const Conv& c : kCnnConvs) {
    std::vector<float> x = random_values(numel(c.x), 1), w = random_values(numel(c.weight), 2);
    std::vector<float> bias = random_values(c.weight[0], 3), dy = random_values(numel(c.y()), 4);
    double before = t1().simulated_seconds();
    auto chip = run_conv(t1(), c, DType::F32, x, w, bias, dy);
    EXPECT_GT(t1().simulated_seconds(), before);
    auto bf16 = [](const std::vector<float>& v) { return rounded(v, DType::BF16); };
    auto expected = run_conv(backend("cpu-ref"), c, DType::F32, bf16(x), bf16(w), bias, bf16(dy));
    // dbias sums dy itself (f32 on the vector engine), not its bf16 rounding.
    expected[3] = run_conv(backend("cpu-ref"), c, DType::F32, bf16(x), bf16(w), bias, dy)[3];
    // Exact products of bf16 values summed in f32 in another order: K = 144 terms for y and dx,
    // and 64 * 196 = 12544 (12544 * 2^-24 * |sum| ~ 1e-3 relative at worst) for dweight.
    const char* names[] = {"y", "dx", "dweight", "dbias"};
    Tolerance tolerances[] = {{1e-4, 1e-5}, {1e-4, 1e-5}, {1e-3, 1e-4}, {1e-3, 1e-5}};
    for (int i = 0; i < 4; ++i)
      expect_close(chip[i], expected[i], tolerances[i], std::string(names[i]) + " of conv " + shape_str(c.x));
  }
}

TEST(ChipConvPool, Bf16ConvolutionsRoundOnceFromF32Sums) {
  // Under autocast x, weight and dy arrive as bf16; results are f32 sums rounded to bf16 once.
  const Conv& c = kCnnConvs[1];
  std::vector<float> x = random_values(numel(c.x), 5), w = random_values(numel(c.weight), 6);
  std::vector<float> bias = random_values(c.weight[0], 7), dy = random_values(numel(c.y()), 8);
  auto chip = run_conv(t1(), c, DType::BF16, x, w, bias, dy);
  auto expected = run_conv(backend("cpu-ref"), c, DType::BF16, x, w, bias, dy);
  const char* names[] = {"y", "dx", "dweight", "dbias"};
  for (int i = 0; i < 4; ++i)
    expect_close(chip[i], expected[i], plus_abs(storage_tolerance(DType::BF16), 1e-3),
                 std::string(names[i]) + " of bf16 conv");
}

TEST(ChipConvPool, OneImageSpreadsItsPositionsOverTheCores) {
  // One 3x40x40 image, stride 2 and padding 2 with a 5x5 kernel: 400 positions in blocks of 64
  // on several cores; on the h20 preset too (a 228 KiB scratchpad).
  Conv c{{1, 3, 40, 40}, {8, 3, 5, 5}, 2};
  for (const char* device : {"chip:t1", "chip:h20"}) {
    Conv2dArgs args{2, 2};
    Shape y_shape = {1, 8, 20, 20};
    std::vector<float> x = rounded(random_values(numel(c.x), 9), DType::BF16);
    std::vector<float> w = rounded(random_values(numel(c.weight), 10), DType::BF16);
    std::vector<float> dy = rounded(random_values(numel(y_shape), 11), DType::BF16);
    expect_matches_reference(
        backend(device),
        [&](Workspace& ws) {
          View xv = ws.input(DType::F32, c.x, x), wv = ws.input(DType::F32, c.weight, w);
          View y = ws.output(DType::F32, y_shape), dx = ws.output(DType::F32, c.x);
          View dweight = ws.output(DType::F32, c.weight, std::vector<float>(numel(c.weight), 0.0f));
          ws.backend().conv2d(xv, wv, Workspace::absent(DType::F32, {8}), y, args);
          ws.backend().conv2d_backward(xv, wv, ws.input(DType::F32, y_shape, dy), dx, dweight,
                                       Workspace::absent(DType::F32, {8}), args);
          return std::vector<View>{y, dx, dweight};
        },
        {1e-4, 1e-5}, std::string("strided conv on ") + device);
  }
}

TEST(ChipConvPool, CnnPoolingWithTiesAndItsBackward) {
  // (64, 16, 28, 28) and (64, 32, 14, 14) pooled 2x2: few distinct values, so that many windows
  // tie and the first maximum must win; in f32 and bf16.
  for (DType dtype : {DType::F32, DType::BF16})
    for (Shape x_shape : {Shape{64, 16, 28, 28}, Shape{64, 32, 14, 14}}) {
      Shape y_shape = {x_shape[0], x_shape[1], x_shape[2] / 2, x_shape[3] / 2};
      std::vector<float> x = random_ints(numel(x_shape), 12, -2, 3), dy = random_values(numel(y_shape), 13);
      expect_matches_reference(
          t1(),
          [&](Workspace& ws) {
            View xv = ws.input(dtype, x_shape, x), y = ws.output(dtype, y_shape);
            View indices = ws.output(DType::I64, y_shape), dx = ws.output(dtype, x_shape);
            ws.backend().max_pool2d(xv, y, indices, 2, 2);
            ws.backend().max_pool2d_backward(ws.input(dtype, y_shape, dy), indices, dx);
            return std::vector<View>{y, indices, dx};
          },
          storage_tolerance(dtype), "pool " + shape_label(x_shape, dtype));
    }
}

}  // namespace
}  // namespace tessera::test
