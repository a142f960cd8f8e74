// Compute cycles of a GEMM or convolution on an R x C systolic array: the closed form of
// SCALE-Sim's ideal-bandwidth ("CALC") mode, including its trailing -1.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace tessera::arch {

// Which operand stays in the processing elements while the others stream through.
enum class Dataflow { os, ws, is };  // output, weight, input stationary
inline constexpr std::array<Dataflow, 3> kDataflows = {Dataflow::os, Dataflow::ws, Dataflow::is};

std::string_view dataflow_name(Dataflow dataflow);  // "os", "ws", "is"

// A = M x K, B = K x N, output M x N.
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
};

// A convolution layer as SCALE-Sim's topology files describe it (square stride, no padding).
struct ConvShape {
  int64_t ifmap_height = 0, ifmap_width = 0;
  int64_t filter_height = 0, filter_width = 0;
  int64_t channels = 0, filters = 0, stride = 1;
};

// The GEMM a convolution maps to: M = output pixels, with ceil((H - Fh + S) / S) per spatial
// dimension; N = filters; K = Fh * Fw * channels. Throws Error on a non-positive dimension or a
// filter larger than the input.
GemmShape conv_as_gemm(const ConvShape& conv);

struct SystolicCycles {
  int64_t folds = 0;   // ceil(Sr / R) * ceil(Sc / C)
  int64_t cycles = 0;  // OS: folds * (T + R + C - 2) - 1; WS, IS: folds * (2R + C + T - 2) - 1
  int64_t macs = 0;    // M * N * K
  double utilization = 0;  // macs / (R * C * cycles)
};

// Cycles of `gemm` on a rows x cols array with `dataflow`. The GEMM maps to (Sr, Sc, T):
// OS (M, N, K), WS (K, N, M), IS (K, M, N). Throws Error on a non-positive size.
SystolicCycles systolic_cycles(const GemmShape& gemm, int64_t rows, int64_t cols, Dataflow dataflow);

}  // namespace tessera::arch
