// The table of chip parameters and the code that reads a value of each type from text.
#include "arch/chip_params.h"
#include "base/edit_distance.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "base/error.h"

namespace tessera::arch {

namespace {

using Store = std::function<void(ChipSpec&, const ParamValue&)>;

ParamSpec text(std::string key, bool required, std::string doc, Store store) {
  ParamSpec spec;
  spec.key = std::move(key), spec.required = required, spec.doc = std::move(doc), spec.store = std::move(store);
  return spec;
}

// Numeric parameters are required when they have no default.
ParamSpec numeric(std::string key, ParamType type, Dimension dimension, std::string default_text, double min,
                  double max, std::string doc, Store store) {
  ParamSpec spec = text(std::move(key), default_text.empty(), std::move(doc), std::move(store));
  spec.type = type, spec.dimension = dimension, spec.default_text = std::move(default_text);
  spec.min = min, spec.max = max;
  return spec;
}

ParamSpec integer(std::string key, std::string default_text, double min, double max, std::string doc, Store store) {
  return numeric(std::move(key), ParamType::integer, Dimension::none, std::move(default_text), min, max,
                 std::move(doc), std::move(store));
}

ParamSpec number(std::string key, std::string default_text, double min, double max, std::string doc, Store store) {
  return numeric(std::move(key), ParamType::number, Dimension::none, std::move(default_text), min, max,
                 std::move(doc), std::move(store));
}

ParamSpec quantity(std::string key, Dimension dimension, std::string default_text, double min, double max,
                   std::string doc, Store store) {
  return numeric(std::move(key), ParamType::quantity, dimension, std::move(default_text), min, max, std::move(doc),
                 std::move(store));
}

// A choice (or list of choices) among the names of an enum's values; required without a default.
ParamSpec choice(std::string key, ParamType type, std::vector<std::string> choices, std::string default_text,
                 std::string doc, Store store) {
  ParamSpec spec = text(std::move(key), default_text.empty(), std::move(doc), std::move(store));
  spec.type = type, spec.choices = std::move(choices), spec.default_text = std::move(default_text);
  return spec;
}

template <typename Enum, size_t N>
std::vector<std::string> names_of(const std::array<Enum, N>& values, std::string_view (*name)(Enum)) {
  std::vector<std::string> names;
  for (Enum value : values) names.emplace_back(name(value));
  return names;
}

template <typename Enum, size_t N>
Enum enum_named(const std::array<Enum, N>& values, std::string_view (*name)(Enum), std::string_view word) {
  for (Enum value : values) {
    if (name(value) == word) return value;
  }
  TS_ASSERT(false);  // words are checked against the choices before they are stored
  return values[0];
}

constexpr double kGiB = 1024.0 * 1024 * 1024;

std::vector<ParamSpec> make_table() {
  std::vector<ParamSpec> t;
  t.push_back(text("name", true, "preset name: lower-case letters, digits, '.', '-', '_'",
                   [](ChipSpec& c, const ParamValue& v) {
                     bool valid = !v.text.empty() && std::all_of(v.text.begin(), v.text.end(), [](char ch) {
                       return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
                              ch == '_';
                     });
                     if (!valid) fail("'{}' is not a valid name (lower-case letters, digits, '.', '-', '_')", v.text);
                     c.name = v.text;
                   }));
  t.push_back(text("description", false, "one line shown by `tessera chips`",
                   [](ChipSpec& c, const ParamValue& v) { c.description = v.text; }));
  t.push_back(integer("cores", "", 1, 1e6, "cores (GPU: streaming multiprocessors)",
                      [](ChipSpec& c, const ParamValue& v) { c.cores = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("clock", Dimension::frequency, "", 1e6, 2e10, "clock of the matrix engines",
                       [](ChipSpec& c, const ParamValue& v) { c.clock_hz = v.number; }));
  t.push_back(quantity("launch_overhead", Dimension::duration, "0us", 0, 1, "fixed cost of launching one kernel",
                       [](ChipSpec& c, const ParamValue& v) { c.launch_overhead_s = v.number; }));
  t.push_back(quantity("gemm_call_overhead", Dimension::duration, "0us", 0, 1,
                       "fixed cost of one GEMM, convolution or attention call (0 = launch_overhead)",
                       [](ChipSpec& c, const ParamValue& v) { c.gemm_call_overhead_s = v.number; }));

  t.push_back(choice("matrix.kind", ParamType::choice, names_of(kMatrixKinds, matrix_kind_name), "",
                     "systolic: an R x C PE array; tensor_core: a throughput of MACs per cycle",
                     [](ChipSpec& c, const ParamValue& v) {
                       c.matrix.kind = enum_named(kMatrixKinds, matrix_kind_name, v.text);
                     }));
  t.push_back(integer("matrix.rows", "", 1, 4096, "systolic: PE rows; tensor_core: rows of the smallest MMA tile",
                      [](ChipSpec& c, const ParamValue& v) { c.matrix.rows = static_cast<int64_t>(v.number); }));
  t.push_back(integer("matrix.cols", "", 1, 4096,
                      "systolic: PE columns; tensor_core: columns of the smallest MMA tile",
                      [](ChipSpec& c, const ParamValue& v) { c.matrix.cols = static_cast<int64_t>(v.number); }));
  t.push_back(number("matrix.macs_per_cycle", "0", 0, 1e7,
                     "tensor_core: dense bf16/fp16 MACs per cycle per core (systolic: rows x cols, leave unset)",
                     [](ChipSpec& c, const ParamValue& v) { c.matrix.macs_per_cycle = v.number; }));
  t.push_back(choice("matrix.dataflow", ParamType::choice, names_of(kDataflows, dataflow_name), "ws",
                     "systolic: output, weight or input stationary",
                     [](ChipSpec& c, const ParamValue& v) {
                       c.matrix.dataflow = enum_named(kDataflows, dataflow_name, v.text);
                     }));
  t.push_back(choice("matrix.dtypes", ParamType::word_list, names_of(kMatrixDtypes, matrix_dtype_name),
                     "[bf16, fp16]", "input dtypes the matrix engine multiplies (fp32 accumulation); must include bf16",
                     [](ChipSpec& c, const ParamValue& v) {
                       c.matrix.dtypes.clear();
                       for (const std::string& word : v.words) {
                         c.matrix.dtypes.push_back(enum_named(kMatrixDtypes, matrix_dtype_name, word));
                       }
                     }));
  t.push_back(number("matrix.fp8_rate", "2", 0.25, 16, "fp8 MACs per bf16 MAC (when fp8 is in matrix.dtypes)",
                     [](ChipSpec& c, const ParamValue& v) { c.matrix.fp8_rate = v.number; }));
  t.push_back(number("matrix.sustained_rate", "1", 0.1, 1,
                     "tensor_core: share of the MAC rate held over long runs of MMAs (clock under load, issue gaps)",
                     [](ChipSpec& c, const ParamValue& v) { c.matrix.sustained_rate = v.number; }));
  t.push_back(integer("vector.lanes", "64", 1, 65536, "fp32 lanes of the vector engine per core",
                      [](ChipSpec& c, const ParamValue& v) { c.vector.lanes = static_cast<int64_t>(v.number); }));
  t.push_back(number("vector.ops_per_cycle", "2", 0.125, 64, "fp32 operations per lane per cycle (an FMA counts 2)",
                     [](ChipSpec& c, const ParamValue& v) { c.vector.ops_per_lane_cycle = v.number; }));
  t.push_back(quantity("scratchpad.size", Dimension::size, "", 1024, kGiB, "local scratchpad per core",
                       [](ChipSpec& c, const ParamValue& v) { c.scratchpad_bytes = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("scratchpad.bandwidth", Dimension::bandwidth, "", 1e6, 1e15, "scratchpad bandwidth per core",
                       [](ChipSpec& c, const ParamValue& v) { c.scratchpad_bytes_per_s = v.number; }));
  t.push_back(integer("dma.engines", "2", 1, 64, "DMA engines per core",
                      [](ChipSpec& c, const ParamValue& v) { c.dma_engines = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("l2.size", Dimension::size, "0B", 0, 64 * kGiB, "shared on-chip memory (0: none)",
                       [](ChipSpec& c, const ParamValue& v) { c.l2_bytes = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("l2.bandwidth", Dimension::bandwidth, "0B/s", 0, 1e16, "shared on-chip memory bandwidth, total",
                       [](ChipSpec& c, const ParamValue& v) { c.l2_bytes_per_s = v.number; }));
  t.push_back(quantity("hbm.capacity", Dimension::size, "", 1 << 20, 1024 * kGiB * 16, "off-chip memory",
                       [](ChipSpec& c, const ParamValue& v) { c.hbm_bytes = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("hbm.bandwidth", Dimension::bandwidth, "", 1e6, 1e16, "off-chip memory bandwidth",
                       [](ChipSpec& c, const ParamValue& v) { c.hbm_bytes_per_s = v.number; }));
  t.push_back(quantity("hbm.latency", Dimension::duration, "500ns", 0, 1e-4, "latency of one off-chip access",
                       [](ChipSpec& c, const ParamValue& v) { c.hbm_latency_s = v.number; }));
  t.push_back(number("hbm.efficiency", "1", 0.1, 1,
                     "share of hbm.bandwidth that streaming (memory-bound) kernels reach, as measured by a copy",
                     [](ChipSpec& c, const ParamValue& v) { c.hbm_efficiency = v.number; }));
  t.push_back(integer("links.count", "0", 0, 1024, "chip-to-chip links",
                      [](ChipSpec& c, const ParamValue& v) { c.links = static_cast<int64_t>(v.number); }));
  t.push_back(quantity("links.bandwidth", Dimension::bandwidth, "0B/s", 0, 1e14,
                       "per link, both directions together (as vendors quote it)",
                       [](ChipSpec& c, const ParamValue& v) { c.link_bytes_per_s = v.number; }));
  t.push_back(quantity("host_link.bandwidth", Dimension::bandwidth, "64GB/s", 1e6, 1e14,
                       "host <-> device copies, each direction (default: PCIe 5.0 x16)",
                       [](ChipSpec& c, const ParamValue& v) { c.host_link_bytes_per_s = v.number; }));
  return t;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : std::string(separator)) + word;
  return out;
}

std::string range_text(const ParamSpec& spec) {
  return fmt::format("{} to {}", format_quantity(spec.min, spec.dimension), format_quantity(spec.max, spec.dimension));
}

// "[a, b]" or "a,b" -> {"a", "b"}.
std::vector<std::string> split_list(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = trim(text.substr(1, text.size() - 2));
  std::vector<std::string> words;
  while (!text.empty()) {
    size_t comma = text.find(',');
    words.emplace_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return words;
}

ParamValue read_value(const ParamSpec& spec, std::string_view text) {
  ParamValue value;
  value.text = std::string(trim(text));
  switch (spec.type) {
    case ParamType::text: return value;
    case ParamType::integer:
    case ParamType::number:
    case ParamType::quantity:
      value.number = parse_in(value.text, spec.dimension);
      if (spec.type == ParamType::integer && value.number != std::floor(value.number)) {
        fail("'{}' is not a whole number", value.text);
      }
      if (spec.dimension == Dimension::size && value.number != std::floor(value.number)) {
        fail("'{}' is not a whole number of bytes", value.text);
      }
      if (value.number < spec.min || value.number > spec.max) {
        fail("'{}' is out of range ({})", value.text, range_text(spec));
      }
      return value;
    case ParamType::choice:
      if (std::find(spec.choices.begin(), spec.choices.end(), value.text) == spec.choices.end()) {
        fail("'{}' is not one of {}", value.text, join(spec.choices, ", "));
      }
      return value;
    case ParamType::word_list:
      value.words = split_list(value.text);
      if (value.words.empty()) fail("'{}' names none of {}", value.text, join(spec.choices, ", "));
      for (size_t i = 0; i < value.words.size(); ++i) {
        const std::string& word = value.words[i];
        if (std::find(spec.choices.begin(), spec.choices.end(), word) == spec.choices.end()) {
          fail("'{}' is not one of {}", word, join(spec.choices, ", "));
        }
        if (std::find(value.words.begin(), value.words.begin() + i, word) != value.words.begin() + i) {
          fail("'{}' is listed twice", word);
        }
      }
      return value;
  }
  return value;
}


}  // namespace

std::string ParamSpec::type_name() const {
  switch (type) {
    case ParamType::text: return "text";
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::quantity: return std::string(dimension_name(dimension));
    case ParamType::choice: return "one of " + join(choices, ", ");
    case ParamType::word_list: return "list of " + join(choices, ", ");
  }
  return "";
}

std::string ParamSpec::unit() const { return type == ParamType::quantity ? std::string(base_unit(dimension)) : ""; }

std::span<const ParamSpec> chip_params() {
  static const std::vector<ParamSpec> table = make_table();
  return table;
}

const ParamSpec* find_param(std::string_view key) {
  for (const ParamSpec& spec : chip_params()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string closest_param(std::string_view key) {
  const ParamSpec* best = nullptr;
  size_t best_distance = 0;
  for (const ParamSpec& spec : chip_params()) {
    size_t distance = edit_distance(key, spec.key);
    if (!best || distance < best_distance) best = &spec, best_distance = distance;
  }
  return best->key;
}

void set_param(ChipSpec& chip, std::string_view key, std::string_view value, const std::string& place) {
  const ParamSpec* spec = find_param(key);
  if (!spec) fail("{}: unknown key '{}' (did you mean '{}'?)", place, key, closest_param(key));
  try {
    spec->store(chip, read_value(*spec, value));
  } catch (const Error& error) {
    fail("{}: {}: {}", place, key, error.what());
  }
  chip.set_at[spec->key] = place;
}

void apply_override(ChipSpec& chip, std::string_view assignment) {
  size_t equals = assignment.find('=');
  std::string place = fmt::format("--set {}", assignment);
  if (equals == std::string_view::npos || trim(assignment.substr(0, equals)).empty()) {
    fail("{}: expected key=value, e.g. hbm.bandwidth=4TB/s", place);
  }
  set_param(chip, trim(assignment.substr(0, equals)), assignment.substr(equals + 1), place);
}

ChipSpec default_chip() {
  ChipSpec chip;
  for (const ParamSpec& spec : chip_params()) {
    if (!spec.required) spec.store(chip, read_value(spec, spec.default_text));
  }
  return chip;
}

std::string params_markdown() {
  std::string out = "| key | type | unit | default | doc |\n|---|---|---|---|---|\n";
  for (const ParamSpec& spec : chip_params()) {
    std::string default_text = spec.required ? "required" : spec.default_text.empty() ? "(empty)" : spec.default_text;
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", spec.key, spec.type_name(), spec.unit(), default_text,
                       spec.doc);
  }
  return out;
}

}  // namespace tessera::arch
