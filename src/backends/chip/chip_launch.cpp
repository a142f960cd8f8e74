// One launch of a chip kernel (see chip_launch.h).
#include "backends/chip/chip_launch.h"

#include <string_view>

#include "backends/chip/chip_plan_ops.h"
#include "base/error.h"

namespace tessera {

namespace {

using Hashes = std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>>;

// A hash of the HBM bytes of every range the launch only reads.
template <typename Ranges, typename Use>
Hashes read_only_hashes(const Ranges& ranges, Use read, const sim::Memory& hbm) {
  Hashes hashes;
  for (const auto& r : ranges) {
    if (r.use != read) continue;
    auto bytes = reinterpret_cast<const char*>(hbm.span(r.start, r.end - r.start));
    hashes.push_back({{r.start, r.end}, std::hash<std::string_view>{}({bytes, static_cast<size_t>(r.end - r.start)})});
  }
  return hashes;
}

}  // namespace

ChipBackend::Launch::Launch(ChipBackend& backend, Kernel kernel)
    : b_(backend), kernel_(kernel), lock_(backend.launch_mutex_), hbm_(backend.new_staging()) {}

int64_t ChipBackend::Launch::result(const View& dst, DType dtype) {
  auto bytes = static_cast<int64_t>(dst.numel() * dtype_size(dtype));
  if (dst.dtype == dtype && dst.is_contiguous())
    if (std::optional<int64_t> addr = write_in_place(dst.data, bytes)) return *addr;
  int64_t addr = place(bytes);
  pending_.push_back({dst, addr, dtype});
  return addr;
}

void ChipBackend::Launch::output(Plan& p, int slot, const View& dst, DType dtype) {
  // Onto a Full input of the same layout and dtype read in place (an in-place add): each tile is
  // stored over the tile it was loaded from.
  auto bytes = static_cast<int64_t>(dst.numel() * dtype_size(dtype));
  if (dst.dtype == dtype && dst.is_contiguous() && p.segments.empty())
    if (std::optional<int64_t> addr = b_.hbm_address(dst.data, bytes))
      for (const Plan::Input& in : p.inputs) {
        bool same_layout = in.layout == Plan::Layout::Full && in.row_stride == 0 && in.dtype == dtype;
        if (same_layout && in.hbm_addr == *addr && b_.read_becomes_update(hbm_, in.hbm_addr, in.hbm_addr + bytes))
          return chip_ops::add_output(p, slot, in.hbm_addr, dtype);
      }
  chip_ops::add_output(p, slot, result(dst, dtype), dtype);
}

void ChipBackend::Launch::row_output(Plan& p, int slot, const View& dst) {
  p.outputs.push_back({slot, result(dst, DType::F32), DType::F32, true});
}

int64_t ChipBackend::Launch::write_to(void* host, int64_t bytes) {
  if (std::optional<int64_t> addr = write_in_place(host, bytes)) return *addr;
  int64_t addr = place(bytes);
  pending_bytes_.push_back({host, addr, bytes});
  return addr;
}

int64_t ChipBackend::Launch::update(std::span<const View> vs, DType dtype) {
  auto es = static_cast<int64_t>(dtype_size(dtype));
  if (vs.size() == 1 && vs[0].dtype == dtype && vs[0].is_contiguous())
    if (std::optional<int64_t> addr = b_.in_place(hbm_, vs[0].data, vs[0].numel() * es, Use::Update)) return *addr;
  int64_t total = 0;
  for (const View& v : vs) total += v.numel();
  int64_t start = place(total * es), addr = start;
  for (const View& v : vs) {
    b_.write_staged_as(addr, v, dtype);
    pending_.push_back({v, addr, dtype});
    addr += v.numel() * es;
  }
  return start;
}

int64_t ChipBackend::Launch::update(void* host, int64_t bytes) {
  if (std::optional<int64_t> addr = b_.in_place(hbm_, host, bytes, Use::Update)) return *addr;
  int64_t addr = place(bytes);
  b_.write_staged(addr, host, bytes);
  pending_bytes_.push_back({host, addr, bytes});
  return addr;
}

void ChipBackend::Launch::run(const isa::Program& program, const runtime::KernelArguments& arguments,
                              const std::optional<sim::ProgramFingerprint>& fingerprint) {
  const sim::Memory& hbm = b_.device_->simulator().memory().hbm();
  Hashes before;
  if (b_.check_operands_) before = read_only_hashes(hbm_.in_place, Use::Read, hbm);
  b_.run(kernel_, program, arguments, fingerprint);
  if (b_.check_operands_) {
    Hashes after = read_only_hashes(hbm_.in_place, Use::Read, hbm);
    for (size_t i = 0; i < after.size(); ++i)
      if (after[i] != before[i])
        fail("device '{}': {} wrote into an operand it only reads, at HBM [{:#x}, {:#x})", b_.name(),
             kernel_name(kernel_), after[i].first.first, after[i].first.second);
  }
  for (const Result& r : pending_) b_.fetch_as(r.dst, r.hbm_addr, r.dtype);
  for (const Bytes& r : pending_bytes_) b_.fetch(r.host, r.hbm_addr, r.bytes);
  pending_.clear();
  pending_bytes_.clear();
}

void ChipBackend::Launch::run(const Plan& plan) {
  compiler::ElementwiseProgramCache::Launch p = b_.elementwise_programs_.program(b_.chip(), plan);
  run(p.cached.program, {p.constants_addr, std::move(p.constants)}, p.cached.fingerprint);
}

}  // namespace tessera
