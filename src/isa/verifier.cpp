// The verifier's rules (listed in verifier.h): a structural pass per core (loops, counts), a
// static pass per instruction (operands, dtypes, shapes), counted semaphores and barriers, and
// a walk through the front end's execution that checks every access whose address is known.
#include "isa/verifier.h"

#include <fmt/format.h>

#include <array>
#include <map>
#include <optional>

#include "base/dtype.h"
#include "base/error.h"
#include "isa/disassembler.h"
#include "isa/operands.h"
#include "isa/register_state.h"

namespace tessera::isa {

namespace {

constexpr int64_t kMaxCount = int64_t{1} << 40;    // rows, cols, m, n, k, entries, row_bytes
constexpr int64_t kMaxDmaRows = int64_t{1} << 24;  // DMA rows and planes
constexpr uint64_t kWalkBudget = 1 << 18;          // instructions per core followed one by one
using Wide = __int128;
constexpr Wide kCountCap = Wide{1} << 100;         // counted executions saturate here

Wide saturating_product(Wide a, int64_t b) {
  if (b <= 0) return 0;
  return a > kCountCap / b ? kCountCap : a * b;
}

std::string wide(Wide value) {  // fmt cannot print __int128
  std::string digits;
  Wide magnitude = value < 0 ? -value : value;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) digits.insert(digits.begin(), '-');
  return digits;
}

// The bytes an operand touches relative to its address: [lo, hi); tiles also need alignment.
struct Footprint {
  size_t operand = 0;
  Wide lo = 0, hi = 0;
  int64_t align = 1;
  std::string what;  // "a 64 x 64 bf16 tile", "a block"
};

class CoreVerifier {
 public:
  CoreVerifier(const std::vector<Instruction>& stream, int core, const arch::ChipSpec& chip, std::vector<Violation>& out)
      : stream_(stream), core_(core), chip_(chip), out_(out), footprints_(stream.size()), overlaps_(stream.size()),
        reported_(stream.size()) {}

  // Barriers reached (loop iterations counted), or nothing when loops are unbalanced.
  std::optional<Wide> run() {
    bool loops_ok = structure();
    for (size_t i = 0; i < stream_.size(); ++i) static_rules(i);
    if (!loops_ok) return std::nullopt;
    count_semaphores();
    RegisterState state = RegisterState::start();
    walk(0, stream_.size(), state);
    Wide barriers = 0;
    for (size_t i = 0; i < stream_.size(); ++i) {
      if (stream_[i].op == Opcode::Barrier) barriers += times_[i];
    }
    return barriers;
  }

 private:
  template <typename... Args>
  void violation(size_t i, fmt::format_string<Args...> format, Args&&... args) {
    out_.push_back({core_, static_cast<int64_t>(i), stream_[i].line, format_instruction(stream_[i]),
                    fmt::format(format, std::forward<Args>(args)...)});
  }

  const Operand& operand(size_t i, size_t k) const { return stream_[i].operands[k]; }
  const char* name(size_t i, size_t k) const { return opcode_info(stream_[i].op).operands[k].name; }

  int64_t capacity(Space space) const {
    switch (space) {
      case Space::Hbm: return chip_.hbm_bytes;
      case Space::L2: return chip_.l2_bytes;
      case Space::Spm: return chip_.scratchpad_bytes;
    }
    return 0;
  }

  // Matches loops, counts each instruction's executions; false when loops are unbalanced.
  bool structure() {
    end_of_.assign(stream_.size(), 0);
    well_formed_.assign(stream_.size(), false);
    times_.assign(stream_.size(), 0);
    cost_.assign(stream_.size(), 0);
    std::vector<size_t> open;
    std::vector<Wide> times = {1};
    bool ok = true;
    for (size_t i = 0; i < stream_.size(); ++i) {
      const Instruction& inst = stream_[i];
      well_formed_[i] = operands_well_formed(i);
      if (!well_formed_[i]) {
        ok = false;
        continue;
      }
      times_[i] = times.back();
      if (inst.op == Opcode::Loop) {
        int64_t count = operand(i, 0).value;
        if (count < 1) violation(i, "loop count {} is below 1", count);
        if (open.size() == static_cast<size_t>(kMaxLoopDepth)) {
          violation(i, "loops are nested deeper than {}", kMaxLoopDepth);
          ok = false;  // the walk visits 2^depth iterations at most: keep depth bounded
        }
        open.push_back(i);
        times.push_back(saturating_product(times.back(), count));
      } else if (inst.op == Opcode::EndLoop) {
        if (open.empty()) {
          violation(i, "endloop without a matching loop");
          ok = false;
          continue;
        }
        end_of_[open.back()] = i;
        open.pop_back();
        times.pop_back();
      }
    }
    for (size_t i : open) {
      violation(i, "loop without a matching endloop");
      ok = false;
    }
    if (ok) cost(0, stream_.size());
    return ok;
  }

  bool operands_well_formed(size_t i) {
    const Instruction& inst = stream_[i];
    if (inst.op >= Opcode::Count) {
      out_.push_back({core_, static_cast<int64_t>(i), inst.line, "?", fmt::format("unknown opcode {}", int(inst.op))});
      return false;
    }
    const OpcodeInfo& info = opcode_info(inst.op);
    if (inst.operands.size() != info.operands.size()) {
      out_.push_back({core_, static_cast<int64_t>(i), inst.line, info.mnemonic,
                      fmt::format("{} takes {} operands, found {}", info.mnemonic, info.operands.size(),
                                  inst.operands.size())});
      return false;
    }
    for (size_t k = 0; k < info.operands.size(); ++k) {
      std::string problem = operand_problem(inst.operands[k], info.operands[k].kind);
      if (!problem.empty()) {
        out_.push_back({core_, static_cast<int64_t>(i), inst.line, info.mnemonic,
                        fmt::format("operand {}: {}", info.operands[k].name, problem)});
        return false;
      }
    }
    return true;
  }

  // Instructions executed by one pass over [begin, end), loops expanded (saturating).
  Wide cost(size_t begin, size_t end) {
    Wide total = 0;
    for (size_t i = begin; i < end; ++i) {
      if (stream_[i].op == Opcode::Loop) {
        cost_[i] = cost(i + 1, end_of_[i]) + 1;  // the endloop counts: an empty body costs too
        total += saturating_product(cost_[i], std::max<int64_t>(operand(i, 0).value, 0));
        i = end_of_[i];
      } else {
        total += 1;
      }
      if (total > kCountCap) total = kCountCap;
    }
    return total;
  }

  // Operand k of instruction i as a count in [1, limit]; 0 (after a violation) otherwise.
  int64_t count(size_t i, size_t k, int64_t limit = kMaxCount) {
    int64_t value = operand(i, k).value;
    if (value >= 1 && value <= limit) return value;
    violation(i, "{} = {} is outside [1, {}]", name(i, k), value, limit);
    return 0;
  }

  DType dtype(size_t i, size_t k) const { return static_cast<DType>(operand(i, k).value); }

  bool float_dtype(size_t i, size_t k) {
    if (is_floating(dtype(i, k))) return true;
    violation(i, "{} {} is not a float dtype ({} computes in f32)", name(i, k), dtype_name(dtype(i, k)),
              opcode_info(stream_[i].op).mnemonic);
    return false;
  }

  // spm@N must name a core of the chip.
  bool core_exists(size_t i, size_t k) {
    const Address& a = operand(i, k).addr;
    if (a.core < chip_.cores) return true;
    violation(i, "{}: spm@{} names a core the chip does not have (cores 0..{})", name(i, k), a.core, chip_.cores - 1);
    return false;
  }

  // A (rows x cols) tile of `type` at operand k: in this core's spm, no larger than it.
  void tile(size_t i, size_t k, int64_t rows, int64_t cols, DType type) {
    const Address& a = operand(i, k).addr;
    if (a.space != Space::Spm) {
      violation(i, "{} is in {}; matrix and vector operands must be in spm", name(i, k), space_name(a.space));
      return;
    }
    if (a.core >= 0 && a.core != core_) {
      violation(i, "{} names spm@{}; only DMA reaches another core's scratchpad", name(i, k), a.core);
      return;
    }
    if (rows == 0 || cols == 0) return;
    auto element = static_cast<int64_t>(dtype_size(type));
    Wide bytes = Wide{rows} * cols * element;
    std::string what = fmt::format("a {} x {} {} tile", rows, cols, dtype_name(type));
    if (bytes > chip_.scratchpad_bytes) {
      violation(i, "{}: {} ({} bytes) is larger than the {}-byte spm", name(i, k), what, wide(bytes),
                chip_.scratchpad_bytes);
      return;
    }
    footprints_[i].push_back({k, 0, bytes, element, what});
  }

  // A DMA block at operand k: `depth` planes of `rows` rows of `row_bytes`, strides in bytes.
  void block(size_t i, size_t k, int64_t depth, int64_t rows, int64_t row_bytes, int64_t stride, int64_t plane_stride) {
    if (!core_exists(i, k) || depth == 0 || rows == 0 || row_bytes == 0) return;
    Wide plane_span = Wide{depth - 1} * plane_stride, row_span = Wide{rows - 1} * stride;
    Wide lo = std::min<Wide>(0, plane_span) + std::min<Wide>(0, row_span);
    Wide hi = std::max<Wide>(0, plane_span) + std::max<Wide>(0, row_span) + row_bytes;
    footprints_[i].push_back({k, lo, hi, 1, "a block"});
  }

  void static_rules(size_t i) {
    const Instruction& inst = stream_[i];
    if (!well_formed_[i]) return;
    auto imm = [&](size_t k) { return operand(i, k).value; };
    switch (inst.op) {
      case Opcode::DmaCopy: {
        int64_t rows = count(i, 2, kMaxDmaRows), row_bytes = count(i, 3);
        block(i, 0, 1, rows, row_bytes, imm(4), 0);
        block(i, 1, 1, rows, row_bytes, imm(5), 0);
        break;
      }
      case Opcode::DmaCopy3d: {
        int64_t depth = count(i, 2, kMaxDmaRows), rows = count(i, 3, kMaxDmaRows), row_bytes = count(i, 4);
        block(i, 0, depth, rows, row_bytes, imm(5), imm(7));
        block(i, 1, depth, rows, row_bytes, imm(6), imm(8));
        break;
      }
      case Opcode::Mma: {
        int64_t m = count(i, 3), n = count(i, 4), k = count(i, 5);
        DType type = dtype(i, 6);
        tile(i, 0, m, n, DType::F32);
        if (matrix_dtype_supported(i, type)) {
          tile(i, 1, m, k, type);
          tile(i, 2, k, n, type);
        }
        overlaps_[i] = {{0, 1}, {0, 2}};
        break;
      }
      case Opcode::VUnary: {
        int64_t rows = count(i, 3), cols = count(i, 4);
        if (!float_dtype(i, 5)) break;
        tile(i, 1, rows, cols, dtype(i, 5));
        tile(i, 2, rows, cols, dtype(i, 5));
        break;
      }
      case Opcode::VBinary: {
        int64_t rows = count(i, 4), cols = count(i, 5);
        if (!float_dtype(i, 6)) break;
        auto bcast = static_cast<Broadcast>(imm(7));
        bool full_rows = bcast == Broadcast::None || bcast == Broadcast::Col;
        bool full_cols = bcast == Broadcast::None || bcast == Broadcast::Row;
        tile(i, 1, rows, cols, dtype(i, 6));
        tile(i, 2, rows, cols, dtype(i, 6));
        tile(i, 3, full_rows ? rows : 1, full_cols ? cols : 1, dtype(i, 6));
        break;
      }
      case Opcode::VReduce: {
        int64_t rows = count(i, 3), cols = count(i, 4);
        if (!float_dtype(i, 5)) break;
        tile(i, 1, rows, 1, DType::F32);
        tile(i, 2, rows, cols, dtype(i, 5));
        break;
      }
      case Opcode::VConvert: {
        int64_t rows = count(i, 4), cols = count(i, 5);
        tile(i, 0, rows, cols, dtype(i, 1));
        tile(i, 2, rows, cols, dtype(i, 3));
        break;
      }
      case Opcode::VTranspose: {
        int64_t rows = count(i, 2), cols = count(i, 3);
        tile(i, 0, cols, rows, dtype(i, 4));
        tile(i, 1, rows, cols, dtype(i, 4));
        overlaps_[i] = {{0, 1}};
        break;
      }
      case Opcode::VGather: {
        int64_t rows = count(i, 3), cols = count(i, 4), entries = count(i, 5);
        tile(i, 0, rows, cols, dtype(i, 6));
        tile(i, 1, entries, cols, dtype(i, 6));
        tile(i, 2, rows, 1, DType::I32);
        break;
      }
      case Opcode::VScatterAdd: {
        int64_t rows = count(i, 3), cols = count(i, 4), entries = count(i, 5);
        if (!float_dtype(i, 6)) break;
        tile(i, 0, entries, cols, dtype(i, 6));
        tile(i, 1, rows, 1, DType::I32);
        tile(i, 2, rows, cols, dtype(i, 6));
        break;
      }
      case Opcode::VFill: tile(i, 0, count(i, 2), count(i, 3), dtype(i, 4)); break;
      case Opcode::VRandom:
        if (float_dtype(i, 5)) tile(i, 0, count(i, 3), count(i, 4), dtype(i, 5));
        break;
      case Opcode::Signal:
      case Opcode::Wait:
        if (imm(1) < 0 || imm(1) >= kSemaphores) {
          violation(i, "semaphore {} is outside 0..{}", imm(1), kSemaphores - 1);
        }
        break;
      default: break;
    }
  }

  bool matrix_dtype_supported(size_t i, DType type) {
    std::optional<arch::MatrixDtype> kind;
    if (type == DType::BF16) kind = arch::MatrixDtype::bf16;
    if (type == DType::F16) kind = arch::MatrixDtype::fp16;
    if (type == DType::F8E4M3 || type == DType::F8E5M2) kind = arch::MatrixDtype::fp8;
    if (!kind) {
      violation(i, "dtype {} is not a matrix input dtype (bf16, f16, f8e4m3, f8e5m2)", dtype_name(type));
      return false;
    }
    if (chip_.supports(*kind)) return true;
    std::string supported;
    for (arch::MatrixDtype d : chip_.matrix.dtypes) {
      supported += fmt::format("{}{}", supported.empty() ? "" : ", ", arch::matrix_dtype_name(d));
    }
    violation(i, "chip {} has no {} matrix inputs (matrix.dtypes: {})", chip_.name, dtype_name(type), supported);
    return false;
  }

  void count_semaphores() {
    std::map<int64_t, std::pair<Wide, Wide>> counts;  // semaphore -> (signals, waits)
    std::map<int64_t, size_t> first;                 // semaphore -> first instruction using it
    for (size_t i = 0; i < stream_.size(); ++i) {
      Opcode op = stream_[i].op;
      if (op != Opcode::Signal && op != Opcode::Wait) continue;
      int64_t sem = operand(i, 1).value;
      first.emplace(sem, i);
      auto& [signals, waits] = counts[sem];
      (op == Opcode::Signal ? signals : waits) += times_[i];
    }
    for (const auto& [sem, pair] : counts) {
      const auto& [signals, waits] = pair;
      if (signals == waits || signals >= kCountCap || waits >= kCountCap) continue;
      violation(first[sem], "semaphore {} is signalled {} times and waited on {} times (loop iterations counted); they "
                "must be equal", sem, wide(signals), wide(waits));
    }
  }

  // Runs the front end over [begin, end) from `state`, checking the accesses it issues.
  void walk(size_t begin, size_t end, RegisterState& state) {
    for (size_t i = begin; i < end; ++i) {
      const Instruction& inst = stream_[i];
      if (inst.op != Opcode::Loop) {
        if (budget_ > 0) --budget_;
        state.execute(inst);
        check_accesses(i, state);
        continue;
      }
      int64_t count = operand(i, 0).value;
      size_t body_end = end_of_[i];
      if (count >= 1 && (count <= 2 || saturating_product(cost_[i], count) <= budget_)) {
        for (int64_t n = 0; n < count; ++n) walk(i + 1, body_end, state);
      } else if (count >= 1) {  // the first and the last iteration
        RegisterState entry = state;
        walk(i + 1, body_end, state);
        state = entry.then(repeated_effect(i, static_cast<uint64_t>(count - 1)));
        walk(i + 1, body_end, state);
      }
      i = body_end;
    }
  }

  // The effect of `times` passes over loop i's body.
  const RegisterState& repeated_effect(size_t loop, uint64_t times) {
    auto found = powers_.find(loop);
    if (found != powers_.end()) return found->second;
    return powers_.emplace(loop, effect(loop + 1, end_of_[loop]).power(times)).first->second;
  }

  // The effect on the registers of one pass over [begin, end).
  RegisterState effect(size_t begin, size_t end) {
    RegisterState state = RegisterState::start();
    for (size_t i = begin; i < end; ++i) {
      if (stream_[i].op == Opcode::Loop) {
        int64_t count = std::max<int64_t>(operand(i, 0).value, 0);
        state = state.then(effect(i + 1, end_of_[i]).power(static_cast<uint64_t>(count)));
        i = end_of_[i];
      } else {
        state.execute(stream_[i]);
      }
    }
    return state;
  }

  std::optional<int64_t> address(const Address& a, const RegisterState& state) const {
    if (a.reg < 0) return a.offset;
    if (!state.known(a.reg)) return std::nullopt;
    return static_cast<int64_t>(static_cast<uint64_t>(state.value(a.reg)) + static_cast<uint64_t>(a.offset));
  }

  void check_accesses(size_t i, const RegisterState& state) {
    if (reported_[i] || footprints_[i].empty()) return;
    std::array<std::optional<std::pair<Wide, Wide>>, 9> ranges;  // operand -> bytes touched, when known
    for (const Footprint& f : footprints_[i]) {
      const Address& a = operand(i, f.operand).addr;
      std::optional<int64_t> base = address(a, state);
      if (!base) continue;
      Wide lo = *base + f.lo, hi = *base + f.hi;
      int64_t size = capacity(a.space);
      auto place = [&] {
        return fmt::format("{}{}[{:#x}]", space_name(a.space), a.core >= 0 ? fmt::format("@{}", a.core) : "", *base);
      };
      if (lo < 0 || hi > size) {
        reported_[i] = true;
        return violation(i, "{}: {} at {} reaches bytes [{}, {}) outside the {}-byte {}", name(i, f.operand), f.what,
                         place(), wide(lo), wide(hi), size, space_name(a.space));
      }
      if (*base % f.align != 0) {
        reported_[i] = true;
        return violation(i, "{}: {} at {} is not aligned to its {}-byte elements", name(i, f.operand), f.what, place(),
                         f.align);
      }
      ranges.at(f.operand) = std::pair{lo, hi};
    }
    for (auto [x, y] : overlaps_[i]) {
      if (!ranges[x] || !ranges[y]) continue;
      auto [x_lo, x_hi] = *ranges[x];
      auto [y_lo, y_hi] = *ranges[y];
      if (x_lo < y_hi && y_lo < x_hi) {
        reported_[i] = true;
        return violation(i, "{} spm[{}, {}) and {} spm[{}, {}) overlap", name(i, x), wide(x_lo), wide(x_hi), name(i, y),
                         wide(y_lo), wide(y_hi));
      }
    }
  }

  const std::vector<Instruction>& stream_;
  int core_;
  const arch::ChipSpec& chip_;
  std::vector<Violation>& out_;
  std::vector<std::vector<Footprint>> footprints_;
  std::vector<std::vector<std::pair<size_t, size_t>>> overlaps_;  // operand pairs that must not overlap
  std::vector<bool> reported_;                                     // an access violation reported
  std::vector<bool> well_formed_;  // operands match the table
  std::vector<size_t> end_of_;     // loop -> its endloop
  std::vector<Wide> times_;     // executions of each instruction
  std::vector<Wide> cost_;         // loop -> instructions in one pass over its body
  std::map<size_t, RegisterState> powers_;
  Wide budget_ = kWalkBudget;
};

}  // namespace

std::vector<Violation> find_violations(const Program& program, const arch::ChipSpec& chip) {
  std::vector<Violation> out;
  std::vector<std::optional<Wide>> barriers;
  for (size_t core = 0; core < program.cores.size(); ++core) {
    barriers.push_back(CoreVerifier(program.cores[core], static_cast<int>(core), chip, out).run());
  }
  if (static_cast<int64_t>(program.cores.size()) > chip.cores) {
    out.push_back({-1, -1, 0, "",
                   fmt::format("the program has {} cores; chip {} has {}", program.cores.size(), chip.name, chip.cores)});
  }
  for (size_t core = 1; core < barriers.size(); ++core) {
    if (!barriers[0] || !barriers[core] || *barriers[core] == *barriers[0]) continue;
    out.push_back({static_cast<int>(core), -1, 0, "",
                   fmt::format("core {} reaches {} barriers and core 0 reaches {}; every core must reach the same number",
                               core, wide(*barriers[core]), wide(*barriers[0]))});
  }
  return out;
}

std::string describe(const Violation& v, const std::string& source) {
  std::string place = v.line > 0 ? fmt::format("{}:{}", source, v.line) : source;
  if (v.core < 0) return fmt::format("{}: {}", place, v.rule);
  if (v.index < 0) return fmt::format("{}: core {}: {}", place, v.core, v.rule);
  return fmt::format("{}: core {}, instruction {} `{}`: {}", place, v.core, v.index, v.instruction, v.rule);
}

void verify_program(const Program& program, const arch::ChipSpec& chip, const std::string& source) {
  std::vector<Violation> violations = find_violations(program, chip);
  if (violations.empty()) return;
  std::string more = violations.size() > 1 ? fmt::format(" (and {} more)", violations.size() - 1) : "";
  fail("{}{}", describe(violations.front(), source), more);
}

}  // namespace tessera::isa
