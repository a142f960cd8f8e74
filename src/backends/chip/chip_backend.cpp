// The chip backend's runtime (see chip_backend.h): staging, launches, totals and registration
// of one backend per chip preset.
#include "backends/chip/chip_backend.h"

#include <fmt/format.h>

#include "arch/chip_loader.h"
#include "backends/chip/pack.h"
#include "base/error.h"
#include "sim/stats.h"

namespace tessera {

ChipBackend::ChipBackend(const std::string& preset) : preset_(preset), simulator_(arch::load_chip(preset)) {}

std::string ChipBackend::name() const { return "chip:" + preset_; }

bool ChipBackend::supports(Kernel kernel, DType dtype) const {
  switch (kernel) {
    case Kernel::Matmul:
      return (dtype == DType::F32 || dtype == DType::BF16) && chip().supports(arch::MatrixDtype::bf16);
    case Kernel::MaxPool2d:
    case Kernel::MaxPool2dBackward:
    case Kernel::Embedding:
    case Kernel::EmbeddingBackward:
      return dtype == DType::F32 || dtype == DType::BF16;
    case Kernel::Copy:
      return dtype == DType::F32 || dtype == DType::BF16;
    case Kernel::Attention:
    case Kernel::AttentionBackward:
      return (dtype == DType::F32 || dtype == DType::BF16) && chip().supports(arch::MatrixDtype::bf16);
    case Kernel::Fill:
    case Kernel::Binary:
    case Kernel::Unary:
    case Kernel::UnaryBackward:
    case Kernel::Affine:
    case Kernel::Reduce:
    case Kernel::AdamW:
    case Kernel::CrossEntropy:
    case Kernel::ReduceMax:
    case Kernel::CrossEntropyBackward:
      return dtype == DType::F32;
    case Kernel::Conv2d:
    case Kernel::Conv2dBackward:
      return (dtype == DType::F32 || dtype == DType::BF16) && chip().supports(arch::MatrixDtype::bf16);
    default:
      return false;
  }
}

int64_t ChipBackend::Staging::place(int64_t bytes) {
  int64_t addr = next;
  next += (bytes + 255) / 256 * 256;
  return addr;
}

int64_t ChipBackend::stage(Staging& hbm, const void* host, int64_t bytes) {
  int64_t addr = hbm.place(bytes);
  if (addr + bytes > chip().hbm_bytes)
    fail("device '{}': a launch needs more than the chip's {} bytes of HBM", name(), chip().hbm_bytes);
  simulator_.memory().hbm().write(addr, host, bytes);
  std::lock_guard lock(totals_mutex_);
  totals_.staged_bytes += bytes;
  return addr;
}

int64_t ChipBackend::stage_f32(Staging& hbm, const View& v) {
  if (v.dtype == DType::F32 && v.is_contiguous()) return stage(hbm, v.data, v.numel() * 4);
  std::vector<float> packed = v.dtype == DType::F32 ? pack_f32(v) : load_all(v);
  return stage(hbm, packed.data(), static_cast<int64_t>(packed.size() * sizeof(float)));
}

int64_t ChipBackend::stage_as(Staging& hbm, const View& v, DType dtype) {
  auto bytes = static_cast<int64_t>(v.numel() * dtype_size(dtype));
  if (v.dtype == dtype && v.is_contiguous()) return stage(hbm, v.data, bytes);
  std::vector<float> values = v.dtype == DType::F32 ? pack_f32(v) : load_all(v);
  std::vector<uint8_t> packed(static_cast<size_t>(bytes));
  convert_elements(values.data(), DType::F32, packed.data(), dtype, values.size());
  return stage(hbm, packed.data(), bytes);
}

void ChipBackend::fetch_as(const View& dst, int64_t hbm_addr, DType dtype) {
  if (dst.dtype == dtype && dst.is_contiguous())
    return fetch(dst.data, hbm_addr, dst.numel() * static_cast<int64_t>(dtype_size(dtype)));
  std::vector<uint8_t> bytes(static_cast<size_t>(dst.numel()) * dtype_size(dtype));
  fetch(bytes.data(), hbm_addr, static_cast<int64_t>(bytes.size()));
  std::vector<float> values(static_cast<size_t>(dst.numel()));
  convert_elements(bytes.data(), dtype, values.data(), DType::F32, values.size());
  if (dst.dtype == DType::F32)
    unpack_f32(values, dst);
  else
    store_all(dst, values);
}

void ChipBackend::fetch(void* host, int64_t hbm_addr, int64_t bytes) {
  simulator_.memory().hbm().read(hbm_addr, host, bytes);
  std::lock_guard lock(totals_mutex_);
  totals_.staged_bytes += bytes;
}

void ChipBackend::fetch_f32(const View& dst, int64_t hbm_addr) {
  if (dst.dtype == DType::F32 && dst.is_contiguous()) return fetch(dst.data, hbm_addr, dst.numel() * 4);
  std::vector<float> values(static_cast<size_t>(dst.numel()));
  fetch(values.data(), hbm_addr, dst.numel() * 4);
  if (dst.dtype == DType::F32)
    unpack_f32(values, dst);
  else
    store_all(dst, values);
}

void ChipBackend::run(Kernel kernel, const isa::Program& program) {
  if (program.cores.empty()) return;
  sim::TimingModel timing(chip());
  sim::Stats stats(chip());
  sim::SimOptions options;
  options.timing = &timing;
  options.observers = {&stats};
  sim::SimResult result = simulator_.run(program, options);
  double seconds = result.seconds + chip().launch_overhead_s;
  std::lock_guard lock(totals_mutex_);
  totals_.launches += 1;
  totals_.seconds += seconds;
  totals_.flops += stats.flops();
  totals_.hbm_bytes += stats.bytes(sim::Level::Hbm);
  totals_.seconds_by_kernel[kernel_name(kernel)] += seconds;
}

ChipTotals ChipBackend::totals() const {
  std::lock_guard lock(totals_mutex_);
  return totals_;
}

void ChipBackend::reset_totals() {
  std::lock_guard lock(totals_mutex_);
  totals_ = {};
}

std::string ChipBackend::summary() const {
  ChipTotals t = totals();
  std::string s = fmt::format("{}: {} launches, {:.3f} ms simulated, {:.2f} TFLOP/s achieved, {:.1f} MB HBM traffic",
                              name(), t.launches, t.seconds * 1e3, t.seconds > 0 ? t.flops / t.seconds / 1e12 : 0.0,
                              static_cast<double>(t.hbm_bytes) / 1e6);
  for (const auto& [kernel, seconds] : t.seconds_by_kernel)
    s += fmt::format("\n  {:<16} {:9.3f} ms", kernel, seconds * 1e3);
  return s;
}

ChipBackend* chip_backend(const std::string& device) {
  if (device.rfind("chip:", 0) != 0) return nullptr;
  return dynamic_cast<ChipBackend*>(&backend(device));
}

namespace {
// One backend per preset; a chip is read when its backend is first used.
const bool registered = [] {
  for (const std::string& preset : arch::preset_names())
    register_backend("chip:" + preset, [preset] { return std::make_unique<ChipBackend>(preset); });
  return true;
}();
}  // namespace

}  // namespace tessera
