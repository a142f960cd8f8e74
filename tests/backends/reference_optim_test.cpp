// cpu-ref optimiser steps against two steps worked out by hand with PyTorch's formulas, for a
// positive and a negative parameter. The kernels compute in f32: tolerance 2e-6 abs.
#include "backends/backend.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

const Tolerance kF32Step = {2e-6, 0.0};
// 0.999f is 0.99899999976 in f32, so 1 - beta2 (hence v) carries a 1.3e-5 relative error.
const Tolerance kSecondMoment = {1e-9, 2e-5};

TEST(ReferenceOptim, AdamWTwoSteps) {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.01; params (1, -2); grads (0.5, -1)
  // then (-0.25, 3).
  // Step 1, p = 1:   p = 1 - 0.1*0.01*1 = 0.999; m = 0.05; v = 0.001*0.25 = 2.5e-4;
  //                  m^ = 0.05/0.1 = 0.5; v^ = 2.5e-4/0.001 = 0.25;
  //                  p = 0.999 - 0.1*0.5/(0.5 + 1e-8) = 0.899000002.
  // Step 2, p = 1:   p = 0.899000002*0.999 = 0.898101002; m = 0.9*0.05 - 0.1*0.25 = 0.02;
  //                  v = 0.999*2.5e-4 + 0.001*0.0625 = 3.1225e-4; m^ = 0.02/0.19 = 0.1052632;
  //                  v^ = 3.1225e-4/0.001999 = 0.1562031; p -= 0.1*0.1052632/0.3952254
  //                  -> 0.871467299.
  // Step 1, p = -2:  p = -1.998; m = -0.1; v = 0.001; m^ = -1; v^ = 1; p = -1.898000001.
  // Step 2, p = -2:  p = -1.896102001; m = -0.09 + 0.3 = 0.21; v = 9.99e-4 + 0.009 = 0.009999;
  //                  m^ = 1.1052632; v^ = 5.002001; p -= 0.1*1.1052632/2.2365154
  //                  -> -1.945520984.
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View param = ws.output(DType::F32, {2}, {1.0f, -2.0f});
  View m = ws.output(DType::F32, {2}, {0.0f, 0.0f});
  View v = ws.output(DType::F32, {2}, {0.0f, 0.0f});
  AdamWArgs args{0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1};
  ref.adamw(param, ws.input(DType::F32, {2}, {0.5f, -1.0f}), m, v, args);
  expect_close(ws.read(param), std::vector<double>{0.899000002, -1.898000001}, kF32Step,
               "param after step 1");
  expect_close(ws.read(m), std::vector<double>{0.05, -0.1}, kF32Step, "m after step 1");
  expect_close(ws.read(v), std::vector<double>{2.5e-4, 1e-3}, kSecondMoment, "v after step 1");
  args.step = 2;
  ref.adamw(param, ws.input(DType::F32, {2}, {-0.25f, 3.0f}), m, v, args);
  expect_close(ws.read(param), std::vector<double>{0.871467299, -1.945520984}, kF32Step,
               "param after step 2");
  expect_close(ws.read(m), std::vector<double>{0.02, 0.21}, kF32Step, "m after step 2");
  expect_close(ws.read(v), std::vector<double>{3.1225e-4, 0.009999}, kSecondMoment,
               "v after step 2");
  ws.expect_intact("adamw");
}

TEST(ReferenceOptim, SgdMomentumTwoSteps) {
  // lr 0.1, momentum 0.9, weight decay 0.01; params (1, -2); grads (0.5, -1) then (-0.25, 3).
  // Velocity starts at zero, so step 1 gives PyTorch's first-step buffer (grad + wd * p).
  // p = 1:  v = 0.5 + 0.01 = 0.51, p = 0.949; v = 0.459 - 0.25 + 0.00949 = 0.21849,
  //         p = 0.949 - 0.021849 = 0.927151.
  // p = -2: v = -1 - 0.02 = -1.02, p = -1.898; v = -0.918 + 3 - 0.01898 = 2.06302,
  //         p = -1.898 - 0.206302 = -2.104302.
  Backend& ref = backend("cpu-ref");
  Workspace ws(ref);
  View param = ws.output(DType::F32, {2}, {1.0f, -2.0f});
  View velocity = ws.output(DType::F32, {2}, {0.0f, 0.0f});
  ref.sgd_momentum(param, ws.input(DType::F32, {2}, {0.5f, -1.0f}), velocity, 0.1f, 0.9f, 0.01f);
  expect_close(ws.read(param), std::vector<double>{0.949, -1.898}, kF32Step, "param step 1");
  expect_close(ws.read(velocity), std::vector<double>{0.51, -1.02}, kF32Step, "velocity step 1");
  ref.sgd_momentum(param, ws.input(DType::F32, {2}, {-0.25f, 3.0f}), velocity, 0.1f, 0.9f, 0.01f);
  expect_close(ws.read(param), std::vector<double>{0.927151, -2.104302}, kF32Step, "param step 2");
  expect_close(ws.read(velocity), std::vector<double>{0.21849, 2.06302}, kF32Step,
               "velocity step 2");
  ws.expect_intact("sgd_momentum");
}

}  // namespace
}  // namespace tessera::test
