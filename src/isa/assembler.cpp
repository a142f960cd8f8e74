// The assembler: one line at a time, operands parsed as the table's OperandKind says.
#include "isa/assembler.h"
#include "base/edit_distance.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "base/error.h"
#include "isa/operands.h"

namespace tessera::isa {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// "[-+](0x<hex>|<decimal>)" within int64, or nothing.
bool parse_integer(std::string_view text, int64_t& value) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  uint64_t magnitude = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  uint64_t limit = negative ? (uint64_t(1) << 63) : (uint64_t(1) << 63) - 1;
  if (magnitude > limit) return false;
  value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

// A part of the current line: [begin, end) byte positions.
struct Span {
  size_t begin = 0, end = 0;
};

class Assembler {
 public:
  explicit Assembler(const std::string& source) : source_(source) {}

  Program run(std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t newline = text.find('\n', start);
      if (newline == std::string_view::npos) newline = text.size();
      ++line_number_;
      line_ = text.substr(start, newline - start);
      size_t comment = line_.find_first_of(";#");
      if (comment != std::string_view::npos) line_ = line_.substr(0, comment);
      read_line();
      start = newline + 1;
    }
    return std::move(program_);
  }

 private:
  [[noreturn]] void error(size_t column, std::string_view expected, std::string_view found) const {
    std::string shown = found.empty() ? "end of line" : fmt::format("'{}'", found);
    fail("{}:{}:{}: expected {}, found {}", source_, line_number_, column + 1, expected, shown);
  }

  std::string_view text(Span span) const { return line_.substr(span.begin, span.end - span.begin); }

  Span trimmed(Span span) const {
    while (span.begin < span.end && is_space(line_[span.begin])) ++span.begin;
    while (span.end > span.begin && is_space(line_[span.end - 1])) --span.end;
    return span;
  }

  // The token at `pos` for a message: a run of word characters, or one other character.
  std::string_view token_at(size_t pos, size_t end) const {
    if (pos >= end) return "";
    size_t stop = pos;
    while (stop < end && is_word(line_[stop])) ++stop;
    return line_.substr(pos, std::max(stop, pos + 1) - pos);
  }

  // The comma-separated fields of [begin, line end), trimmed; none when it is blank.
  std::vector<Span> fields(size_t begin) const {
    std::vector<Span> out;
    if (trimmed({begin, line_.size()}).begin == line_.size()) return out;
    size_t field_begin = begin;
    for (size_t i = begin; i <= line_.size(); ++i) {
      if (i == line_.size() || line_[i] == ',') {
        out.push_back(trimmed({field_begin, i}));
        field_begin = i + 1;
      }
    }
    return out;
  }

  void read_line() {
    Span rest = trimmed({0, line_.size()});
    if (rest.begin == rest.end) return;
    size_t word_end = rest.begin;
    while (word_end < rest.end && is_word(line_[word_end])) ++word_end;
    std::string_view word = text({rest.begin, word_end});
    if (word.empty()) error(rest.begin, "a mnemonic or a directive", token_at(rest.begin, rest.end));
    if (word[0] == '.') {
      read_directive(word, rest.begin, word_end);
    } else {
      read_instruction(word, rest.begin, word_end);
    }
  }

  void read_directive(std::string_view word, size_t begin, size_t end) {
    std::vector<Span> args = fields(end);
    if (word == ".core") {
      if (args.size() != 1) error(end, "one core number after .core", text(trimmed({end, line_.size()})));
      int64_t core = 0;
      if (!parse_integer(text(args[0]), core) || core < 0 || core >= kMaxCores) {
        error(args[0].begin, fmt::format("a core number 0..{}", kMaxCores - 1), text(args[0]));
      }
      auto [started, inserted] = started_.emplace(core, line_number_);
      if (!inserted) {
        error(args[0].begin, fmt::format("a core not started before (core {} started on line {})", core, started->second),
              text(args[0]));
      }
      start_core(core);
    } else if (word == ".equ") {
      if (args.size() != 2) error(end, "'.equ NAME, VALUE'", text(trimmed({end, line_.size()})));
      std::string_view name = text(args[0]);
      bool valid = !name.empty() && is_name_start(name[0]) &&
                   std::all_of(name.begin(), name.end(), [](char c) { return is_word(c) && c != '.'; });
      int64_t ignored;
      if (!valid || register_number(name, ignored)) error(args[0].begin, "a name for .equ (not a register)", name);
      if (equates_.count(std::string(name))) {
        error(args[0].begin, fmt::format("a name not defined before (.equ {} is already defined)", name), name);
      }
      equates_[std::string(name)] = integer(args[1], ".equ value");
    } else {
      error(begin, "a directive (.core, .equ)", word);
    }
  }

  void start_core(int64_t core) {
    current_core_ = core;
    if (program_.cores.size() <= static_cast<size_t>(core)) program_.cores.resize(core + 1);
  }

  void read_instruction(std::string_view mnemonic, size_t begin, size_t end) {
    const OpcodeInfo* info = find_opcode(mnemonic);
    if (!info) {
      error(begin, fmt::format("a mnemonic (did you mean '{}'?)", closest_mnemonic(mnemonic)), mnemonic);
    }
    std::vector<Span> args = fields(end);
    size_t expected = info->operands.size();
    if (expected == 0 && !args.empty()) {
      error(args[0].begin, fmt::format("end of line ({} takes no operands)", info->mnemonic), text(args[0]));
    }
    if (args.size() != expected) {
      std::string names;
      for (const OperandSpec& spec : info->operands) names += fmt::format("{}{}", names.empty() ? "" : ", ", spec.name);
      size_t column = args.size() > expected ? args[expected].begin : trimmed({0, line_.size()}).end;
      fail("{}:{}:{}: expected {} operand{} for {} ({}), found {}", source_, line_number_, column + 1, expected,
           expected == 1 ? "" : "s", info->mnemonic, names, args.size());
    }
    Instruction inst;
    inst.op = info->op;
    inst.line = line_number_;
    for (size_t i = 0; i < expected; ++i) inst.operands.push_back(operand(args[i], info->operands[i]));
    if (current_core_ < 0) {
      started_.emplace(0, line_number_);
      start_core(0);
    }
    program_.cores[current_core_].push_back(std::move(inst));
  }

  static const OpcodeInfo* find_opcode(std::string_view mnemonic) {
    for (const OpcodeInfo& info : opcode_table()) {
      if (mnemonic == info.mnemonic) return &info;
    }
    return nullptr;
  }

  static std::string_view closest_mnemonic(std::string_view word) {
    std::string_view best;
    size_t best_distance = std::numeric_limits<size_t>::max();
    for (const OpcodeInfo& info : opcode_table()) {
      size_t distance = edit_distance(word, info.mnemonic);
      if (distance < best_distance) {
        best = info.mnemonic;
        best_distance = distance;
      }
    }
    return best;
  }

  // "r<n>" with n decimal, any n.
  static bool register_number(std::string_view token, int64_t& number) {
    if (token.size() < 2 || token[0] != 'r' || token[1] < '0' || token[1] > '9') return false;
    auto [end, error] = std::from_chars(token.data() + 1, token.data() + token.size(), number);
    return error == std::errc() && end == token.data() + token.size();
  }

  int64_t integer(Span span, std::string_view for_what) const {
    std::string_view token = text(span);
    int64_t value = 0;
    if (parse_integer(token, value)) return value;
    bool negative = token.starts_with('-');
    auto equate = equates_.find(std::string(token.substr(negative || token.starts_with('+') ? 1 : 0)));
    if (equate != equates_.end() && !(negative && equate->second == std::numeric_limits<int64_t>::min())) {
      return negative ? -equate->second : equate->second;
    }
    error(span.begin, fmt::format("an integer (64-bit) or a .equ name for {}", for_what),
          token.empty() ? token_at(span.begin, line_.size()) : token);
  }

  Operand operand(Span span, const OperandSpec& spec) const {
    Operand result;
    result.kind = spec.kind;
    std::string_view token = text(span);
    switch (spec.kind) {
      case OperandKind::Reg: {
        int64_t number = -1;
        if (!register_number(token, number) || number >= kRegisters) {
          error(span.begin, fmt::format("a register r0..r{} for {}", kRegisters - 1, spec.name), token);
        }
        result.value = number;
        break;
      }
      case OperandKind::Imm: result.value = integer(span, spec.name); break;
      case OperandKind::FImm: result.value = f32_bits(span, spec.name); break;
      case OperandKind::Addr: result.addr = address(span, spec.name); break;
      default: {
        auto names = enum_names(spec.kind);
        auto match = std::find_if(names.begin(), names.end(), [&](const EnumName& e) { return e.name == token; });
        if (match != names.end()) {
          result.value = match->value;
        } else {
          std::string_view kind = operand_kind_name(spec.kind);
          std::string_view article = std::string_view("aeio").find(kind[0]) == std::string_view::npos ? "a" : "an";
          error(span.begin, fmt::format("{} {} ({}) for {}", article, kind, enum_name_list(spec.kind), spec.name), token);
        }
      }
    }
    return result;
  }

  int64_t f32_bits(Span span, std::string_view name) const {
    std::string_view token = text(span);
    std::string expected = fmt::format("an f32 value (e.g. 0.5, -1e-3, inf, nan) for {}", name);
    if (token.starts_with("nan(") && token.ends_with(")")) {
      int64_t bits = 0;
      std::string_view inner = token.substr(4, token.size() - 5);
      if (!inner.starts_with("0x") || !parse_integer(inner, bits) || bits > 0xffffffffLL ||
          !std::isnan(std::bit_cast<float>(static_cast<uint32_t>(bits)))) {
        error(span.begin, fmt::format("nan(0x<f32 NaN bits>) for {}", name), token);
      }
      return bits;
    }
    std::string_view digits = token.starts_with('+') ? token.substr(1) : token;
    float value = 0;
    auto [end, problem] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || problem != std::errc() || end != digits.data() + digits.size()) error(span.begin, expected, token);
    return std::bit_cast<uint32_t>(value);
  }

  // space[...], space@core[...] with [rN], [rN+imm], [rN-imm] or [imm] inside.
  Address address(Span span, std::string_view name) const {
    Address a;
    size_t pos = span.begin;
    auto skip = [&] {
      while (pos < span.end && is_space(line_[pos])) ++pos;
    };
    auto word = [&] {
      size_t begin = pos;
      while (pos < span.end && is_word(line_[pos]) && line_[pos] != '.') ++pos;
      return Span{begin, pos};
    };
    Span space = word();
    if (text(space) == "hbm") {
      a.space = Space::Hbm;
    } else if (text(space) == "l2") {
      a.space = Space::L2;
    } else if (text(space) == "spm") {
      a.space = Space::Spm;
    } else {
      error(span.begin, fmt::format("an address (hbm[...], l2[...], spm[...] or spm@N[...]) for {}", name),
            token_at(span.begin, span.end));
    }
    if (pos < span.end && line_[pos] == '@') {
      if (a.space != Space::Spm) error(pos, fmt::format("'[' after {} (only spm takes @core)", text(space)), "@");
      ++pos;
      Span core = word();
      int64_t number = -1;
      if (!parse_integer(text(core), number) || number < 0 || number >= kMaxCores) {
        error(core.begin, fmt::format("a core number 0..{} after 'spm@'", kMaxCores - 1), token_at(core.begin, span.end));
      }
      a.core = static_cast<int16_t>(number);
    }
    skip();
    if (pos >= span.end || line_[pos] != '[') error(pos, "'['", token_at(pos, span.end));
    ++pos;
    skip();
    Span first = word();
    int64_t reg = -1;
    if (register_number(text(first), reg)) {
      if (reg >= kRegisters) error(first.begin, fmt::format("a register r0..r{}", kRegisters - 1), text(first));
      a.reg = static_cast<int8_t>(reg);
      skip();
      if (pos < span.end && (line_[pos] == '+' || line_[pos] == '-')) {
        bool negative = line_[pos] == '-';
        ++pos;
        skip();
        Span offset = word();
        a.offset = signed_offset(offset, negative);
        skip();
      }
    } else {
      pos = first.begin;
      if (pos < span.end && (line_[pos] == '-' || line_[pos] == '+')) ++pos;
      word();
      a.offset = integer(Span{first.begin, pos}, "the address offset");
      skip();
    }
    if (pos >= span.end || line_[pos] != ']') error(pos, "']'", token_at(pos, span.end));
    ++pos;
    if (pos != span.end) error(pos, "the end of the address", token_at(pos, span.end));
    return a;
  }

  int64_t signed_offset(Span offset, bool negative) const {
    std::string_view token = text(offset);
    int64_t value = 0;
    if (!token.empty() && token[0] >= '0' && token[0] <= '9' &&
        parse_integer(fmt::format("{}{}", negative ? "-" : "", token), value)) {
      return value;
    }
    value = integer(offset, "the address offset");
    if (negative && value == std::numeric_limits<int64_t>::min()) {
      error(offset.begin, "an address offset within 64 bits", token);
    }
    return negative ? -value : value;
  }

  const std::string& source_;
  std::string_view line_;
  int line_number_ = 0;
  Program program_;
  int64_t current_core_ = -1;
  std::map<int64_t, int> started_;  // core -> line of its .core
  std::map<std::string, int64_t> equates_;
};

}  // namespace

Program assemble(std::string_view text, const std::string& source) { return Assembler(source).run(text); }

}  // namespace tessera::isa
