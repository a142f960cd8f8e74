// Names of the chip enums and the small queries of ChipSpec.
#include "arch/chip.h"

#include <algorithm>

namespace tessera::arch {

std::string_view matrix_kind_name(MatrixKind kind) {
  switch (kind) {
    case MatrixKind::systolic: return "systolic";
    case MatrixKind::tensor_core: return "tensor_core";
  }
  return "";
}

std::string_view matrix_dtype_name(MatrixDtype dtype) {
  switch (dtype) {
    case MatrixDtype::bf16: return "bf16";
    case MatrixDtype::fp16: return "fp16";
    case MatrixDtype::fp8: return "fp8";
  }
  return "";
}

bool ChipSpec::supports(MatrixDtype dtype) const {
  return std::find(matrix.dtypes.begin(), matrix.dtypes.end(), dtype) != matrix.dtypes.end();
}

std::string ChipSpec::where(const std::string& key) const {
  auto found = set_at.find(key);
  if (found != set_at.end()) return found->second;
  return source.empty() ? "(default)" : source + " (default)";
}

}  // namespace tessera::arch
