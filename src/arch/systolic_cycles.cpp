// SCALE-Sim's closed form for systolic array compute cycles.
#include "arch/systolic_cycles.h"

#include "base/error.h"

namespace tessera::arch {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_positive(std::string_view what, int64_t value, std::string_view name) {
  if (value <= 0) fail("{}: {} must be positive, got {}", what, name, value);
}

}  // namespace

std::string_view dataflow_name(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::os: return "os";
    case Dataflow::ws: return "ws";
    case Dataflow::is: return "is";
  }
  return "";
}

GemmShape conv_as_gemm(const ConvShape& conv) {
  check_positive("convolution", conv.ifmap_height, "ifmap height");
  check_positive("convolution", conv.ifmap_width, "ifmap width");
  check_positive("convolution", conv.filter_height, "filter height");
  check_positive("convolution", conv.filter_width, "filter width");
  check_positive("convolution", conv.channels, "channels");
  check_positive("convolution", conv.filters, "filters");
  check_positive("convolution", conv.stride, "stride");
  if (conv.filter_height > conv.ifmap_height || conv.filter_width > conv.ifmap_width) {
    fail("convolution: filter {}x{} is larger than the ifmap {}x{}", conv.filter_height, conv.filter_width,
         conv.ifmap_height, conv.ifmap_width);
  }
  int64_t out_height = ceil_div(conv.ifmap_height - conv.filter_height + conv.stride, conv.stride);
  int64_t out_width = ceil_div(conv.ifmap_width - conv.filter_width + conv.stride, conv.stride);
  return {out_height * out_width, conv.filters, conv.filter_height * conv.filter_width * conv.channels};
}

SystolicCycles systolic_cycles(const GemmShape& gemm, int64_t rows, int64_t cols, Dataflow dataflow) {
  check_positive("systolic array", rows, "rows");
  check_positive("systolic array", cols, "cols");
  check_positive("GEMM", gemm.m, "M");
  check_positive("GEMM", gemm.n, "N");
  check_positive("GEMM", gemm.k, "K");
  int64_t spatial_rows = 0, spatial_cols = 0, temporal = 0;  // Sr, Sc, T
  switch (dataflow) {
    case Dataflow::os: spatial_rows = gemm.m, spatial_cols = gemm.n, temporal = gemm.k; break;
    case Dataflow::ws: spatial_rows = gemm.k, spatial_cols = gemm.n, temporal = gemm.m; break;
    case Dataflow::is: spatial_rows = gemm.k, spatial_cols = gemm.m, temporal = gemm.n; break;
  }
  SystolicCycles result;
  result.folds = ceil_div(spatial_rows, rows) * ceil_div(spatial_cols, cols);
  int64_t cycles_per_fold = dataflow == Dataflow::os ? temporal + rows + cols - 2 : 2 * rows + cols + temporal - 2;
  result.cycles = result.folds * cycles_per_fold - 1;
  result.macs = gemm.m * gemm.n * gemm.k;
  result.utilization = static_cast<double>(result.macs) / (static_cast<double>(rows * cols) * result.cycles);
  return result;
}

}  // namespace tessera::arch
