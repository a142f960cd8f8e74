// Binary encoder and decoder (see encoding.h): one loop over the table's operand kinds, no
// per-opcode code.
#include "isa/encoding.h"

#include <fmt/format.h>

#include "base/error.h"
#include "isa/operands.h"

namespace tessera::isa {

namespace {

// Bytes an operand of `kind` takes.
size_t encoded_size(OperandKind kind) {
  switch (kind) {
    case OperandKind::Imm: return 8;
    case OperandKind::FImm: return 4;
    case OperandKind::Addr: return 12;
    default: return 1;
  }
}

void put(std::string& out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  size_t offset() const { return offset_; }
  size_t left() const { return bytes_.size() - offset_; }

  // The next `size` bytes as an unsigned little-endian number; `what` names them when the
  // input ends first.
  uint64_t take(size_t size, std::string_view what) {
    if (left() < size) {
      fail_at(offset_, "truncated: expected {} ({} bytes), found {} bytes before the end", what, size, left());
    }
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value |= uint64_t(uint8_t(bytes_[offset_ + i])) << (8 * i);
    offset_ += size;
    return value;
  }

  template <typename... Args>
  [[noreturn]] void fail_at(size_t offset, fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}: byte {}: {}", source_, offset, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  std::string_view bytes_;
  const std::string& source_;
  size_t offset_ = 0;
};

Operand read_operand(Reader& in, const OperandSpec& spec) {
  Operand operand;
  operand.kind = spec.kind;
  std::string what = fmt::format("operand {} ({})", spec.name, operand_kind_name(spec.kind));
  switch (spec.kind) {
    case OperandKind::Imm: operand.value = static_cast<int64_t>(in.take(8, what)); break;
    case OperandKind::FImm: operand.value = static_cast<int64_t>(in.take(4, what)); break;
    case OperandKind::Addr:
      operand.addr.space = static_cast<Space>(in.take(1, what));
      operand.addr.core = static_cast<int16_t>(in.take(2, what));
      operand.addr.reg = static_cast<int8_t>(in.take(1, what));
      operand.addr.offset = static_cast<int64_t>(in.take(8, what));
      break;
    default: operand.value = static_cast<int64_t>(in.take(1, what)); break;
  }
  return operand;
}

Instruction read_instruction(Reader& in) {
  size_t start = in.offset();
  uint64_t code = in.take(1, "an opcode");
  if (code >= static_cast<uint64_t>(Opcode::Count)) {
    in.fail_at(start, "unknown opcode {} (valid opcodes are 0..{})", code, static_cast<int>(Opcode::Count) - 1);
  }
  Instruction inst;
  inst.op = static_cast<Opcode>(code);
  const OpcodeInfo& info = opcode_info(inst.op);
  for (const OperandSpec& spec : info.operands) {
    size_t at = in.offset();
    inst.operands.push_back(read_operand(in, spec));
    std::string problem = operand_problem(inst.operands.back(), spec.kind);
    if (!problem.empty()) in.fail_at(at, "{} operand {}: {}", info.mnemonic, spec.name, problem);
  }
  return inst;
}

}  // namespace

std::string encode_program(const Program& program) {
  if (program.cores.size() > static_cast<size_t>(kMaxCores)) {
    fail("encode: the program has {} cores, more than {}", program.cores.size(), kMaxCores);
  }
  std::string out;
  put(out, kProgramMagic, 4);
  put(out, kProgramVersion, 4);
  put(out, program.cores.size(), 4);
  for (size_t core = 0; core < program.cores.size(); ++core) {
    const std::vector<Instruction>& stream = program.cores[core];
    if (stream.size() > 0xffffffffULL) fail("encode: core {} has more than 2^32 - 1 instructions", core);
    put(out, stream.size(), 4);
    for (size_t index = 0; index < stream.size(); ++index) {
      const Instruction& inst = stream[index];
      TS_ASSERT(inst.op < Opcode::Count);
      const OpcodeInfo& info = opcode_info(inst.op);
      if (inst.operands.size() != info.operands.size()) {
        fail("encode: core {}, instruction {}: {} takes {} operands, found {}", core, index, info.mnemonic,
             info.operands.size(), inst.operands.size());
      }
      out.push_back(static_cast<char>(inst.op));
      for (size_t i = 0; i < info.operands.size(); ++i) {
        const OperandSpec& spec = info.operands[i];
        const Operand& operand = inst.operands[i];
        std::string problem = operand_problem(operand, spec.kind);
        if (!problem.empty()) {
          fail("encode: core {}, instruction {}: {} operand {}: {}", core, index, info.mnemonic, spec.name, problem);
        }
        if (spec.kind == OperandKind::Addr) {
          put(out, static_cast<uint64_t>(operand.addr.space), 1);
          put(out, static_cast<uint16_t>(operand.addr.core), 2);
          put(out, static_cast<uint8_t>(operand.addr.reg), 1);
          put(out, static_cast<uint64_t>(operand.addr.offset), 8);
        } else {
          put(out, static_cast<uint64_t>(operand.value), encoded_size(spec.kind));
        }
      }
    }
  }
  return out;
}

Program decode_program(std::string_view bytes, const std::string& source) {
  Reader in(bytes, source);
  uint64_t magic = in.take(4, "the magic number");
  if (magic != kProgramMagic) {
    in.fail_at(0, "bad magic number {:#010x}: not a Tessera program (expected {:#010x})", magic, kProgramMagic);
  }
  uint64_t version = in.take(4, "the format version");
  if (version != kProgramVersion) {
    in.fail_at(4, "unsupported format version {} (this build reads version {})", version, kProgramVersion);
  }
  uint64_t cores = in.take(4, "the core count");
  if (cores > static_cast<uint64_t>(kMaxCores)) in.fail_at(8, "core count {} exceeds {}", cores, kMaxCores);
  Program program;
  program.cores.resize(cores);
  for (uint64_t core = 0; core < cores; ++core) {
    size_t at = in.offset();
    uint64_t count = in.take(4, fmt::format("the instruction count of core {}", core));
    if (count > in.left()) {  // every instruction takes at least one byte
      in.fail_at(at, "truncated: core {} claims {} instructions but only {} bytes follow", core, count, in.left());
    }
    std::vector<Instruction>& stream = program.cores[core];
    stream.reserve(count);
    for (uint64_t i = 0; i < count; ++i) stream.push_back(read_instruction(in));
  }
  if (in.left() != 0) in.fail_at(in.offset(), "{} trailing bytes after the last core", in.left());
  return program;
}

}  // namespace tessera::isa
