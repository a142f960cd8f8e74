// `tessera sim PROGRAM.bin --chip NAME`: runs a binary tile program on the simulated chip, with
// memories loaded from and dumped to files, and prints the instructions run and (unless
// --no-timing) the timing summary; --trace writes a Chrome trace.
// `tessera sim --topology FILE.csv --chip NAME`: SCALE-Sim topology layers as the compiler's
// GEMM programs through the timing model (compiler/topology_run.h).
#include <cstdio>
#include <memory>

#include "arch/chip_loader.h"
#include "base/atomic_file.h"
#include "base/error.h"
#include "cli/command.h"
#include "compiler/topology_run.h"
#include "isa/encoding.h"
#include "sim/chrome_trace.h"
#include "sim/simulator.h"
#include "sim/stats.h"

namespace tessera::cli {

namespace {

// "hbm", "l2", "spm" (core 0) or "spm@N" in `option`'s text `text`.
sim::Memory& parse_memory(sim::MachineMemory& memory, std::string_view space, const std::string& option,
                          const std::string& text) {
  if (space == "hbm") return memory.hbm();
  if (space == "l2") return memory.l2();
  if (space == "spm") return memory.spm(0);
  if (space.starts_with("spm@")) {
    std::string core_text(space.substr(4));
    char* end = nullptr;
    long core = std::strtol(core_text.c_str(), &end, 10);
    if (!core_text.empty() && *end == '\0' && core >= 0 && core < memory.cores()) return memory.spm(static_cast<int>(core));
    fail("{} {}: {} is not a core of the chip (0..{})", option, text, space, memory.cores() - 1);
  }
  fail("{} {}: memory '{}' is not hbm, l2, spm or spm@N", option, text, space);
}

int64_t parse_number(std::string_view field, const std::string& what, const std::string& option,
                     const std::string& text) {
  std::string s(field);
  char* end = nullptr;
  long long value = std::strtoll(s.c_str(), &end, 0);
  if (s.empty() || *end != '\0' || value < 0) fail("{} {}: {} '{}' is not a non-negative integer", option, text, what, s);
  return value;
}

// The fields of "A:B:C...", exactly `count` of them (the last may hold ':').
std::vector<std::string_view> split_fields(const std::string& text, size_t count, const std::string& option,
                                           const char* form) {
  std::vector<std::string_view> fields;
  std::string_view rest = text;
  while (fields.size() + 1 < count) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) fail("{} {}: expected {}", option, text, form);
    fields.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  fields.push_back(rest);
  if (fields.back().empty()) fail("{} {}: expected {}", option, text, form);
  return fields;
}

void check_range(const sim::Memory& memory, int64_t addr, int64_t bytes, const std::string& option,
                 const std::string& text) {
  if (addr > memory.size_bytes() || bytes > memory.size_bytes() - addr)
    fail("{} {}: bytes [{:#x}, {:#x}) are outside the {}-byte {}", option, text, addr, addr + bytes,
         memory.size_bytes(), memory.name());
}

void load(sim::MachineMemory& memory, const std::string& text) {
  auto f = split_fields(text, 3, "--load", "SPACE:ADDR:FILE");
  sim::Memory& m = parse_memory(memory, f[0], "--load", text);
  int64_t addr = parse_number(f[1], "address", "--load", text);
  std::string bytes = read_file_bytes(std::string(f[2]));
  check_range(m, addr, static_cast<int64_t>(bytes.size()), "--load", text);
  m.write(addr, bytes.data(), static_cast<int64_t>(bytes.size()));
}

void dump(sim::MachineMemory& memory, const std::string& text) {
  auto f = split_fields(text, 4, "--dump", "SPACE:ADDR:BYTES:FILE");
  sim::Memory& m = parse_memory(memory, f[0], "--dump", text);
  int64_t addr = parse_number(f[1], "address", "--dump", text);
  int64_t count = parse_number(f[2], "byte count", "--dump", text);
  check_range(m, addr, count, "--dump", text);
  std::string bytes(static_cast<size_t>(count), '\0');
  m.read(addr, bytes.data(), count);
  write_file_atomic(std::string(f[3]), bytes);
}

struct Options {
  std::string program, chip, trace, topology;
  std::vector<std::string> overrides, loads, dumps;
  bool no_timing = false, ideal_bandwidth = false;
  int64_t max_instructions = sim::SimOptions{}.max_instructions;
};

void run_program(const Options& o) {
  arch::ChipSpec chip = arch::load_chip(o.chip, o.overrides);
  if (o.no_timing && !o.trace.empty()) fail("--trace {}: a trace needs timing; drop --no-timing", o.trace);
  isa::Program program = isa::decode_program(read_file_bytes(o.program), o.program);
  sim::Simulator simulator(chip);
  for (const std::string& text : o.loads) load(simulator.memory(), text);

  sim::TimingModel timing(chip, sim::TimingOptions{o.ideal_bandwidth});
  sim::Stats stats(chip);
  sim::ChromeTrace trace(chip);
  sim::SimOptions options;
  options.max_instructions = o.max_instructions;
  if (!o.no_timing) {
    options.timing = &timing;
    options.observers.push_back(&stats);
    if (!o.trace.empty()) options.observers.push_back(&trace);
  }
  sim::SimResult result = simulator.run(program, options);

  for (const std::string& text : o.dumps) dump(simulator.memory(), text);
  if (!o.trace.empty()) trace.write(o.trace);
  std::printf("%s on %s: %zu core%s, %lld instructions run (scalar %lld, dma %lld, matrix %lld, vector %lld)\n",
              o.program.c_str(), chip.name.c_str(), program.cores.size(), program.cores.size() == 1 ? "" : "s",
              static_cast<long long>(result.total_instructions()), static_cast<long long>(result.instructions[0]),
              static_cast<long long>(result.instructions[1]), static_cast<long long>(result.instructions[2]),
              static_cast<long long>(result.instructions[3]));
  if (o.no_timing)
    std::printf("functional run (--no-timing): values only, no timing\n");
  else
    std::printf("%s", stats.summary().c_str());
}

const CommandRegistrar kSim("sim", "run a tile program (or a SCALE-Sim topology) on a simulated chip", [](CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("program", o->program, "binary tile program (tessera asm output)");
  app.add_option("--chip", o->chip, "a preset name or a chip YAML file")->required();
  app.add_option("--set", o->overrides, "override a chip parameter, e.g. hbm.bandwidth=4TB/s")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--trace", o->trace, "write a Chrome trace (chrome://tracing, Perfetto) to this file");
  app.add_flag("--no-timing", o->no_timing, "functional run only: values, no cycles");
  app.add_flag("--ideal-bandwidth", o->ideal_bandwidth, "memories move bytes in no time (SCALE-Sim's compute model)");
  app.add_option("--load", o->loads, "SPACE:ADDR:FILE: copy FILE into memory before the run (hbm, l2, spm@N)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--dump", o->dumps, "SPACE:ADDR:BYTES:FILE: write memory to FILE after the run")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--max-instructions", o->max_instructions, "stop with an error after this many instructions")
      ->check(CLI::PositiveNumber);
  app.add_option("--topology", o->topology, "SCALE-Sim topology CSV: run its layers instead of a program");
  return [o] {
    if (!o->topology.empty()) {
      if (!o->program.empty()) fail("sim: give a program or --topology {}, not both", o->topology);
      arch::ChipSpec chip = arch::load_chip(o->chip, o->overrides);
      std::printf("%s", compiler::run_topology(o->topology, chip, sim::TimingOptions{o->ideal_bandwidth}).c_str());
      return;
    }
    if (o->program.empty()) fail("sim: give a program file (or --topology FILE.csv)");
    run_program(*o);
  };
});

}  // namespace

}  // namespace tessera::cli
