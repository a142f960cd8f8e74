// The chip backend on the runtime (see chip_backend.h): allocation, staging, launches, totals
// and registration of one backend per chip preset, with its overrides.
#include "backends/chip/chip_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "arch/chip_loader.h"
#include "backends/chip/pack.h"
#include "base/error.h"
#include "runtime/launch.h"

namespace tessera {

namespace {

// Overrides by preset, and the presets whose backend exists (too late to override them).
struct ChipSettings {
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> overrides;
  std::set<std::string> created;
};
ChipSettings& chip_settings() {
  static ChipSettings settings;
  return settings;
}

arch::ChipSpec create_chip(const std::string& preset) {
  ChipSettings& settings = chip_settings();
  std::lock_guard lock(settings.mutex);
  settings.created.insert(preset);
  return arch::load_chip(preset, settings.overrides[preset]);
}

}  // namespace

void set_chip_overrides(const std::string& device, const std::vector<std::string>& overrides) {
  std::vector<std::string> names = backend_names();
  if (device.rfind("chip:", 0) != 0 || std::find(names.begin(), names.end(), device) == names.end())
    fail("--set: device '{}' is no chip preset (use --device chip:<preset>, e.g. chip:t1)", device);
  std::string preset = device.substr(5);
  arch::load_chip(preset, overrides);  // reports a bad key or value now
  ChipSettings& settings = chip_settings();
  std::lock_guard lock(settings.mutex);
  if (settings.created.count(preset)) fail("--set: device '{}' is already in use, too late to override it", device);
  settings.overrides[preset] = overrides;
}

ChipBackend::ChipBackend(const std::string& preset)
    : ChipBackend(preset, std::make_shared<runtime::Device>("chip:" + preset, create_chip(preset))) {}

ChipBackend::ChipBackend(const std::string& preset, const std::vector<std::string>& overrides)
    : ChipBackend(preset, std::make_shared<runtime::Device>("chip:" + preset, arch::load_chip(preset, overrides))) {}

ChipBackend::ChipBackend(std::string preset, std::shared_ptr<runtime::Device> device)
    : preset_(std::move(preset)),
      device_(std::move(device)),
      check_operands_(std::getenv("TESSERA_CHECK_OPERANDS") != nullptr) {}

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
    case Kernel::AdamW:
    case Kernel::AdamWMany:
    case Kernel::CrossEntropy:
    case Kernel::ReduceMax:
    case Kernel::CrossEntropyBackward:
    case Kernel::AddLayerNorm:
    case Kernel::AddLayerNormBackward:
      return dtype == DType::F32;
    case Kernel::Conv2d:
    case Kernel::Conv2dBackward:
      return (dtype == DType::F32 || dtype == DType::BF16) && chip().supports(arch::MatrixDtype::bf16);
    case Kernel::Fill:
    case Kernel::Affine:
    case Kernel::BiasGelu:
    case Kernel::BiasGeluBackward:
    case Kernel::Binary:
    case Kernel::Unary:
    case Kernel::UnaryBackward:
    case Kernel::Reduce:
    case Kernel::Softmax:
    case Kernel::SoftmaxBackward:
    case Kernel::LogSoftmax:
    case Kernel::LogSoftmaxBackward:
    case Kernel::LayerNorm:
    case Kernel::LayerNormBackward:
    case Kernel::SgdMomentum:
    case Kernel::SumSquares:
    case Kernel::SumSquaresMany:
    case Kernel::ScaleMany:
    case Kernel::ScatterAlong:
    case Kernel::DropoutMask:
      return dtype == DType::F32 || dtype == DType::BF16;
    default:
      return false;
  }
}

std::shared_ptr<void> ChipBackend::allocate(size_t bytes) {
  std::lock_guard lock(launch_mutex_);
  int64_t addr = device_->allocate(static_cast<int64_t>(bytes));
  uint8_t* data = device_->simulator().memory().hbm().span(addr, static_cast<int64_t>(bytes));
  std::memset(data, 0, bytes);
  return std::shared_ptr<void>(data, [device = device_, addr](void*) { device->free(addr); });
}

ChipBackend::Staging ChipBackend::new_staging() const {
  Staging hbm;
  hbm.next = chip().hbm_bytes / runtime::HbmAllocator::kAlignment * runtime::HbmAllocator::kAlignment;
  hbm.floor = device_->allocated_end();
  return hbm;
}

std::optional<int64_t> ChipBackend::hbm_address(const void* host, int64_t bytes) const {
  const sim::Memory& hbm = device_->simulator().memory().hbm();
  auto base = reinterpret_cast<uintptr_t>(hbm.span(0, 0)), p = reinterpret_cast<uintptr_t>(host);
  if (p < base || p - base + static_cast<uint64_t>(bytes) > static_cast<uint64_t>(hbm.size_bytes()))
    return std::nullopt;
  return static_cast<int64_t>(p - base);
}

std::optional<int64_t> ChipBackend::in_place(Staging& hbm, const void* host, int64_t bytes, Use use) {
  std::optional<int64_t> addr = hbm_address(host, bytes);
  if (!addr) return std::nullopt;
  Staging::Range range{*addr, *addr + bytes, use};
  for (const Staging::Range& r : hbm.in_place) {
    bool conflicting = use == Use::Update || r.use == Use::Update || use != r.use;
    if (conflicting && range.start < r.end && r.start < range.end) return std::nullopt;
  }
  hbm.in_place.push_back(range);
  return addr;
}

bool ChipBackend::read_becomes_update(Staging& hbm, int64_t start, int64_t end) {
  Staging::Range* read = nullptr;
  for (Staging::Range& r : hbm.in_place) {
    if (r.start == start && r.end == end && r.use == Use::Read && !read) {
      read = &r;
      continue;
    }
    if (start < r.end && r.start < end) return false;
  }
  if (read) read->use = Use::Update;
  return read != nullptr;
}

int64_t ChipBackend::stage(Staging& hbm, const void* host, int64_t bytes) {
  if (std::optional<int64_t> addr = in_place(hbm, host, bytes, Use::Read)) return *addr;
  int64_t addr = place_staged(hbm, bytes);
  write_staged(addr, host, bytes);
  return addr;
}

int64_t ChipBackend::place_staged(Staging& hbm, int64_t bytes) {
  int64_t size = (bytes + runtime::HbmAllocator::kAlignment - 1) / runtime::HbmAllocator::kAlignment *
                 runtime::HbmAllocator::kAlignment;
  if (hbm.next - size < hbm.floor)
    fail("device '{}': out of memory: a launch's workspace needs {} above the {} allocated",
         name(), runtime::format_bytes(static_cast<double>(chip().hbm_bytes - hbm.next + size)),
         runtime::format_bytes(static_cast<double>(hbm.floor)));
  hbm.next -= size;
  return hbm.next;
}

void ChipBackend::write_staged(int64_t addr, const void* host, int64_t bytes) {
  device_->simulator().memory().hbm().write(addr, host, bytes);
  std::lock_guard lock(staged_mutex_);
  staged_bytes_ += bytes;
}

void ChipBackend::write_staged_as(int64_t addr, const View& v, DType dtype) {
  auto bytes = static_cast<int64_t>(v.numel() * dtype_size(dtype));
  if (v.dtype == dtype && v.is_contiguous()) return write_staged(addr, v.data, bytes);
  if (v.dtype == dtype && dtype != DType::F32) {
    std::vector<uint8_t> packed(static_cast<size_t>(bytes));
    pack_as_is(v, packed.data());
    return write_staged(addr, packed.data(), bytes);
  }
  std::vector<float> values = v.dtype == DType::F32 ? pack_f32(v) : load_all(v);
  if (dtype == DType::F32) return write_staged(addr, values.data(), bytes);
  std::vector<uint8_t> packed(static_cast<size_t>(bytes));
  convert_elements(values.data(), DType::F32, packed.data(), dtype, values.size());
  write_staged(addr, packed.data(), bytes);
}

int64_t ChipBackend::stage_f32(Staging& hbm, const View& v) { return stage_as(hbm, v, DType::F32); }

int64_t ChipBackend::stage_as(Staging& hbm, const View& v, DType dtype) {
  auto bytes = static_cast<int64_t>(v.numel() * dtype_size(dtype));
  if (v.dtype == dtype && v.is_contiguous()) return stage(hbm, v.data, bytes);
  int64_t addr = place_staged(hbm, bytes);
  write_staged_as(addr, v, dtype);
  return addr;
}

void ChipBackend::fetch_as(const View& dst, int64_t hbm_addr, DType dtype) {
  if (dst.dtype == dtype) return fetch_as_is(dst, hbm_addr);
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
  if (hbm_address(host, bytes) == hbm_addr) return;  // written in place
  device_->simulator().memory().hbm().read(hbm_addr, host, bytes);
  std::lock_guard lock(staged_mutex_);
  staged_bytes_ += bytes;
}

void ChipBackend::run(Kernel kernel, const isa::Program& program, const runtime::KernelArguments& arguments,
                      const std::optional<sim::ProgramFingerprint>& fingerprint) {
  if (program.cores.empty()) return;
  runtime::launch(program, device_->default_stream(), kernel_name(kernel), arguments, fingerprint);
}

ChipTotals ChipBackend::totals() const {
  runtime::DeviceTotals d = device_->totals();
  ChipTotals t;
  t.launches = d.launches;
  t.seconds = d.launch_seconds;
  t.flops = d.flops;
  t.hbm_bytes = d.hbm_bytes;
  for (const auto& [kernel, k] : d.kernels) t.seconds_by_kernel[kernel] = k.seconds;
  std::lock_guard lock(staged_mutex_);
  t.staged_bytes = staged_bytes_;
  return t;
}

void ChipBackend::reset_totals() {
  device_->reset_totals();
  std::lock_guard lock(staged_mutex_);
  staged_bytes_ = 0;
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
