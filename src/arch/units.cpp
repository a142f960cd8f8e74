// Parsing and printing of sizes, bandwidths, frequencies and durations.
#include "arch/units.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "base/error.h"

namespace tessera::arch {

namespace {

struct Unit {
  std::string_view text;
  Dimension dimension;
  double factor;        // base units per one of this unit, for units at least as large as the base
  double divisor = 1;   // for smaller units: one of this unit is 1 / divisor base units
};

constexpr double kKi = 1024.0;
constexpr std::array<Unit, 26> kUnits = {{
    {"B", Dimension::size, 1},
    {"KB", Dimension::size, 1e3},
    {"MB", Dimension::size, 1e6},
    {"GB", Dimension::size, 1e9},
    {"TB", Dimension::size, 1e12},
    {"KiB", Dimension::size, kKi},
    {"MiB", Dimension::size, kKi * kKi},
    {"GiB", Dimension::size, kKi * kKi * kKi},
    {"TiB", Dimension::size, kKi * kKi * kKi * kKi},
    {"B/s", Dimension::bandwidth, 1},
    {"KB/s", Dimension::bandwidth, 1e3},
    {"MB/s", Dimension::bandwidth, 1e6},
    {"GB/s", Dimension::bandwidth, 1e9},
    {"TB/s", Dimension::bandwidth, 1e12},
    {"KiB/s", Dimension::bandwidth, kKi},
    {"MiB/s", Dimension::bandwidth, kKi * kKi},
    {"GiB/s", Dimension::bandwidth, kKi * kKi * kKi},
    {"TiB/s", Dimension::bandwidth, kKi * kKi * kKi * kKi},
    {"Hz", Dimension::frequency, 1},
    {"kHz", Dimension::frequency, 1e3},
    {"MHz", Dimension::frequency, 1e6},
    {"GHz", Dimension::frequency, 1e9},
    {"s", Dimension::duration, 1},
    {"ms", Dimension::duration, 1, 1e3},
    {"us", Dimension::duration, 1, 1e6},
    {"ns", Dimension::duration, 1, 1e9},
}};

constexpr std::string_view kValidUnits =
    "B KB MB GB TB KiB MiB GiB TiB, each also with /s; Hz kHz MHz GHz; s ms us ns";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string_view example(Dimension dimension) {
  switch (dimension) {
    case Dimension::none: return "32";
    case Dimension::size: return "64MiB";
    case Dimension::bandwidth: return "3.2TB/s";
    case Dimension::frequency: return "1.6GHz";
    case Dimension::duration: return "21us";
  }
  return "";
}

// `value` printed in the largest of `units` (ascending factors) that it reaches.
std::string in_largest_unit(double value, std::initializer_list<Unit> units) {
  Unit chosen = *units.begin();
  for (const Unit& unit : units) {
    if (std::fabs(value) >= unit.factor) chosen = unit;
  }
  return fmt::format("{:.4g} {}", value / chosen.factor, chosen.text);
}

// The value in the largest power (0..4) of `step` that it reaches, if that has at most two
// decimals: "1.5" for 1.5 MiB in steps of 1024; nullopt when it has more.
std::optional<std::string> exact_in_largest(double value, double step, const std::array<std::string_view, 5>& names) {
  int power = 0;
  while (power < 4 && value >= std::pow(step, power + 1)) ++power;
  double unit = std::pow(step, power);
  if (std::fmod(value * 100, unit) != 0) return std::nullopt;
  return fmt::format("{:g} {}", value / unit, names[power]);
}

std::string format_size(double bytes) {
  static constexpr std::array<std::string_view, 5> kDecimal = {"B", "KB", "MB", "GB", "TB"};
  static constexpr std::array<std::string_view, 5> kBinary = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (auto binary = exact_in_largest(bytes, kKi, kBinary)) return *binary;
  if (auto decimal = exact_in_largest(bytes, 1e3, kDecimal)) return *decimal;
  return in_largest_unit(bytes, {{"B", Dimension::size, 1}, {"KB", Dimension::size, 1e3}, {"MB", Dimension::size, 1e6},
                                 {"GB", Dimension::size, 1e9}, {"TB", Dimension::size, 1e12}});
}

}  // namespace

std::string_view dimension_name(Dimension dimension) {
  switch (dimension) {
    case Dimension::none: return "plain number";
    case Dimension::size: return "size";
    case Dimension::bandwidth: return "bandwidth";
    case Dimension::frequency: return "frequency";
    case Dimension::duration: return "duration";
  }
  return "";
}

std::string_view base_unit(Dimension dimension) {
  switch (dimension) {
    case Dimension::none: return "";
    case Dimension::size: return "bytes";
    case Dimension::bandwidth: return "bytes/s";
    case Dimension::frequency: return "Hz";
    case Dimension::duration: return "s";
  }
  return "";
}

Quantity parse_quantity(std::string_view text) {
  std::string_view body = trim(text);
  bool starts_numeric = !body.empty() && (std::isdigit(static_cast<unsigned char>(body.front())) ||
                                          body.front() == '-' || body.front() == '.');
  double value = 0;
  auto [end, status] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (!starts_numeric || status != std::errc() || !std::isfinite(value)) {
    fail("'{}' is not a number with an optional unit", text);
  }
  std::string_view unit_text = trim(std::string_view(end, body.data() + body.size() - end));
  if (unit_text.empty()) return {value, Dimension::none};
  for (const Unit& unit : kUnits) {
    if (unit.text == unit_text) return {value * unit.factor / unit.divisor, unit.dimension};
  }
  fail("'{}' has an unknown unit '{}' (valid: {})", text, unit_text, kValidUnits);
}

double parse_in(std::string_view text, Dimension dimension) {
  Quantity quantity = parse_quantity(text);
  if (quantity.dimension == dimension || quantity.dimension == Dimension::none) return quantity.value;
  if (dimension == Dimension::none) {
    fail("'{}' is a {}, expected a plain number such as {}", text, dimension_name(quantity.dimension),
         example(dimension));
  }
  fail("'{}' is a {}, expected a {} such as {}", text, dimension_name(quantity.dimension), dimension_name(dimension),
       example(dimension));
}

std::string format_quantity(double value, Dimension dimension) {
  switch (dimension) {
    case Dimension::none: return fmt::format("{:.12g}", value);
    case Dimension::size: return format_size(value);
    case Dimension::bandwidth:
      return in_largest_unit(value, {{"B/s", dimension, 1}, {"KB/s", dimension, 1e3}, {"MB/s", dimension, 1e6},
                                     {"GB/s", dimension, 1e9}, {"TB/s", dimension, 1e12}});
    case Dimension::frequency:
      return in_largest_unit(value, {{"Hz", dimension, 1}, {"kHz", dimension, 1e3}, {"MHz", dimension, 1e6},
                                     {"GHz", dimension, 1e9}});
    case Dimension::duration:
      if (value == 0) return "0 s";
      return in_largest_unit(value, {{"ns", dimension, 1e-9}, {"us", dimension, 1e-6}, {"ms", dimension, 1e-3},
                                     {"s", dimension, 1}});
  }
  return "";
}

}  // namespace tessera::arch
