// Physical quantities written as text in chip files and options: sizes ("1.5MiB", "96GB"),
// bandwidths ("3.2TB/s"), frequencies ("1.6GHz"), durations ("21us") and plain numbers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::arch {

// What a quantity measures; each has a base unit that a plain number is read in.
enum class Dimension {
  none,       // a plain number
  size,       // bytes:   B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024)
  bandwidth,  // bytes/s: the size units followed by "/s"
  frequency,  // Hz:      Hz, kHz, MHz, GHz
  duration,   // seconds: s, ms, us, ns
};

std::string_view dimension_name(Dimension dimension);  // "size", "bandwidth", ...
std::string_view base_unit(Dimension dimension);       // "bytes", "bytes/s", "Hz", "s", ""

struct Quantity {
  double value = 0;  // in the base unit of `dimension`
  Dimension dimension = Dimension::none;
};

// Reads "<number>[ ]<unit>" or a plain number (dimension none). Throws Error naming the text
// and the valid units when the number or the unit is not understood.
Quantity parse_quantity(std::string_view text);

// Reads a quantity of the given dimension, in its base unit; a plain number is taken in the
// base unit. Throws Error when the text has another dimension ("'3.2TB' is a size, expected a
// bandwidth such as 3.2TB/s") or cannot be read.
double parse_in(std::string_view text, Dimension dimension);

// Human-readable text of a value in its base unit: "1.5 MiB", "96 GB", "3.2 TB/s", "1.6 GHz",
// "21 us". Sizes use binary units when they are exact in them and decimal units otherwise.
std::string format_quantity(double value, Dimension dimension);

}  // namespace tessera::arch
