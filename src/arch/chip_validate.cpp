// Consistency checks of a chip after all its parameters (file and overrides) are set.
#include "arch/chip_validate.h"

#include "arch/chip_params.h"
#include "arch/units.h"
#include "base/error.h"

namespace tessera::arch {

namespace {

bool is_set(const ChipSpec& chip, const std::string& key) { return chip.set_at.count(key) > 0; }

[[noreturn]] void fail_at(const ChipSpec& chip, const std::string& key, const std::string& what) {
  fail("{}: {}: {}", chip.where(key), key, what);
}

}  // namespace

int64_t smallest_tile_bytes(const MatrixEngine& matrix) {
  constexpr int64_t kBf16Bytes = 2, kFp32Bytes = 4;
  return matrix.rows * matrix.cols * (2 * kBf16Bytes + kFp32Bytes);
}

void validate_chip(const ChipSpec& chip) {
  for (const ParamSpec& spec : chip_params()) {
    if (spec.required && !is_set(chip, spec.key)) {
      fail("{}: missing required key '{}' ({})", chip.source.empty() ? "chip" : chip.source, spec.key, spec.doc);
    }
  }
  const MatrixEngine& matrix = chip.matrix;
  if (matrix.kind == MatrixKind::systolic && matrix.macs_per_cycle != 0) {
    fail_at(chip, "matrix.macs_per_cycle",
            fmt::format("applies to tensor_core engines; a systolic engine does rows x cols = {} MACs per cycle",
                        matrix.rows * matrix.cols));
  }
  if (matrix.kind == MatrixKind::tensor_core && matrix.macs_per_cycle <= 0) {
    fail_at(chip, "matrix.macs_per_cycle", "a tensor_core engine needs its MACs per cycle (> 0)");
  }
  if (matrix.kind == MatrixKind::tensor_core && is_set(chip, "matrix.dataflow")) {
    fail_at(chip, "matrix.dataflow", "applies to systolic engines only");
  }
  if (matrix.kind == MatrixKind::systolic && is_set(chip, "matrix.sustained_rate")) {
    fail_at(chip, "matrix.sustained_rate", "applies to tensor_core engines only");
  }
  if (!chip.supports(MatrixDtype::bf16)) fail_at(chip, "matrix.dtypes", "must include bf16");
  if (!chip.supports(MatrixDtype::fp8) && is_set(chip, "matrix.fp8_rate")) {
    fail_at(chip, "matrix.fp8_rate", "is set but fp8 is not in matrix.dtypes");
  }
  int64_t tile_bytes = smallest_tile_bytes(matrix);
  if (chip.scratchpad_bytes < tile_bytes) {
    fail_at(chip, "scratchpad.size",
            fmt::format("{} is smaller than the smallest tile of the {}x{} {} engine ({}: two bf16 operand tiles "
                        "and an fp32 accumulator tile of {}x{})",
                        format_quantity(chip.scratchpad_bytes, Dimension::size), matrix.rows, matrix.cols,
                        matrix_kind_name(matrix.kind), format_quantity(tile_bytes, Dimension::size), matrix.rows,
                        matrix.cols));
  }
  if (chip.l2_bytes > 0 && chip.l2_bytes_per_s <= 0) {
    fail_at(chip, "l2.bandwidth", "must be positive when l2.size is set");
  }
  if (chip.links > 0 && chip.link_bytes_per_s <= 0) {
    fail_at(chip, "links.bandwidth", "must be positive when links.count is set");
  }
}

}  // namespace tessera::arch
