// AdamW (nn/optimizer.h) through the multi-tensor kernel: on cpu-ref, cpu and the chip, three
// steps leave parameters and moments bit for bit where the per-tensor adamw kernels leave them
// (nanoGPT's decay grouping, a changing learning rate, a parameter without a gradient, bf16
// parameters on the CPUs); on the chip a step is one launch per weight decay; and
// foreach_adamw's errors name the list or the parameter at fault.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <string>

#include "backends/chip/chip_backend.h"
#include "common/backend_test_name.h"
#include "base/error.h"
#include "nn/optimizer.h"
#include "tensor/dispatch.h"
#include "tensor/foreach.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

const std::vector<Shape> kShapes = {{64, 33}, {33}, {5000}, {1}, {7, 9}, {128}};

std::vector<uint32_t> bits(const Tensor& t) {
  std::vector<uint32_t> out;
  for (float v : t.to_floats()) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

// Seeded parameters of kShapes on `device`.
NamedTensors make_params(const std::string& device, DType dtype) {
  NamedTensors params;
  Generator gen{21, 0};
  for (size_t i = 0; i < kShapes.size(); ++i) {
    Tensor p = Tensor::randn(kShapes[i], gen, 0.5f, dtype, device);
    p.set_requires_grad(true);
    params.emplace_back(fmt::format("p{}", i), p);
  }
  return params;
}

// The step's seeded gradients; the second-last parameter gets none.
void set_grads(const NamedTensors& params, int64_t step) {
  Generator gen{static_cast<uint64_t>(100 + step), 0};
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i].second;
    Tensor g = Tensor::randn(p.shape(), gen, 0.1f, p.dtype(), p.device());
    if (i + 2 != params.size()) p.set_grad(g);
  }
}

class ForeachAdamWStep : public ::testing::TestWithParam<std::string> {};

TEST_P(ForeachAdamWStep, IsThePerTensorKernelsBitForBit) {
  std::vector<DType> dtypes = {DType::F32};
  if (GetParam().rfind("chip:", 0) != 0) dtypes.push_back(DType::BF16);  // the chip's AdamW is f32
  for (DType dtype : dtypes) {
    SCOPED_TRACE(dtype_name(dtype));
    NamedTensors params = make_params(GetParam(), dtype), singles = make_params(GetParam(), dtype);
    AdamWOptions options;
    options.weight_decay = 0.1f;
    options.decay_matrices_only = true;
    AdamW optimizer(params, options);
    std::vector<Tensor> ms, vs;
    for (const auto& [name, p] : singles) {
      ms.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
      vs.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    }
    for (int64_t step = 1; step <= 3; ++step) {
      optimizer.lr = 1e-2f / static_cast<float>(step);
      set_grads(params, step);
      set_grads(singles, step);
      optimizer.step();
      for (size_t i = 0; i < singles.size(); ++i) {  // what AdamW::step ran before
        const Tensor& p = singles[i].second;
        if (!p.grad().defined()) continue;
        AdamWArgs args{optimizer.lr, options.beta1, options.beta2, options.eps, p.dim() < 2 ? 0.0f : 0.1f, step};
        kernel_backend(p, Kernel::AdamW).adamw(p.view(), p.grad().view(), ms[i].view(), vs[i].view(), args);
      }
    }
    NamedTensors state = optimizer.state();  // m and v of each parameter in turn
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_EQ(bits(params[i].second), bits(singles[i].second)) << "parameter " << i;
      EXPECT_EQ(bits(state[2 * i].second), bits(ms[i])) << "m of parameter " << i;
      EXPECT_EQ(bits(state[2 * i + 1].second), bits(vs[i])) << "v of parameter " << i;
    }
    EXPECT_EQ(bits(params[4].second), bits(make_params(GetParam(), dtype)[4].second));  // no gradient: unchanged
    EXPECT_NE(bits(params[0].second), bits(make_params(GetParam(), dtype)[0].second));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, ForeachAdamWStep, ::testing::Values("cpu-ref", "cpu", "chip:t1"),
                         testing::backend_test_name);

TEST(ForeachAdamWOnChip, IsOneLaunchPerWeightDecay) {
  ChipBackend& chip = *chip_backend("chip:t1");
  for (bool matrices_only : {false, true}) {
    NamedTensors params = make_params("chip:t1", DType::F32);
    AdamWOptions options;
    options.decay_matrices_only = matrices_only;
    AdamW optimizer(params, options);
    set_grads(params, 1);
    int64_t before = chip.totals().launches;
    optimizer.step();
    EXPECT_EQ(chip.totals().launches - before, matrices_only ? 2 : 1) << "decay_matrices_only " << matrices_only;
  }
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ForeachAdamWErrors, NameTheListsOrTheParameter) {
  Tensor p = Tensor::zeros({4}), g = Tensor::zeros({4}), m = Tensor::zeros({4}), v = Tensor::zeros({4});
  std::vector<AdamWArgs> one(1);
  EXPECT_EQ(error_of([&] { foreach_adamw({p, p}, {g}, {m}, {v}, one); }),
            "foreach_adamw: lists of 2 parameters, 1 gradients, 1 first and 1 second moments, 1 arguments: they must "
            "be of one length");
  EXPECT_EQ(error_of([&] { foreach_adamw({p}, {g}, {Tensor::zeros({5})}, {v}, one); }),
            "foreach_adamw: the first moment of parameter 0 has shape (5,), the parameter (4,)");
  EXPECT_EQ(error_of([&] { foreach_adamw({p}, {g}, {m}, {Tensor()}, one); }),
            "foreach_adamw: the second moment of parameter 0 is undefined");
  Tensor square = Tensor::zeros({2, 2}), transposed = transpose(Tensor::zeros({2, 2}), 0, 1);
  EXPECT_EQ(error_of([&] { foreach_adamw({square}, {transposed}, {square}, {square}, one); }),
            "foreach_adamw: the gradient of parameter 0 is not contiguous");
  EXPECT_EQ(error_of([&] { foreach_adamw({p, m, p}, {g, g, g}, {m, v, g}, {v, m, v}, std::vector<AdamWArgs>(3)); }),
            "foreach_adamw: parameter 2 is parameter 0 again");
  // Without a gradient a parameter is skipped, whatever else is wrong with it.
  EXPECT_EQ(error_of([&] { foreach_adamw({p}, {Tensor()}, {Tensor()}, {v}, one); }), "no error");
}

}  // namespace
}  // namespace tessera
