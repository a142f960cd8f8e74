// The chip parameters: one table declares every key of a chip file with its type, unit,
// default and a one-line doc, and how it is stored in ChipSpec. Values are set by key from
// text, so the same path serves YAML files and `--set key=value` overrides.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/chip.h"
#include "arch/units.h"

namespace tessera::arch {

enum class ParamType {
  text,       // any string
  integer,    // a whole plain number
  number,     // a plain number
  quantity,   // a number with a unit of the parameter's dimension
  choice,     // one of `choices`
  word_list,  // a list of distinct `choices`: "[bf16, fp8]" or "bf16,fp8"
};

// A value read from text, ready to store.
struct ParamValue {
  std::string text;                // as written
  double number = 0;               // integer, number, quantity (in the base unit)
  std::vector<std::string> words;  // choice (one word), word_list
};

struct ParamSpec {
  std::string key;  // dotted path in the YAML file, e.g. "hbm.bandwidth"
  ParamType type = ParamType::text;
  Dimension dimension = Dimension::none;  // quantity only
  bool required = false;
  std::string default_text;               // as it would be written in a file (not required)
  double min = 0, max = 0;                // allowed range in the base unit (numeric types)
  std::vector<std::string> choices;       // choice, word_list
  std::string doc;
  std::function<void(ChipSpec&, const ParamValue&)> store;  // may throw Error with a reason

  std::string type_name() const;  // "integer", "size", "one of systolic|tensor_core", ...
  std::string unit() const;       // the unit of a plain number: "bytes", "bytes/s", "Hz", "s" or ""
};

// Every parameter, in the order of the docs.
std::span<const ParamSpec> chip_params();

// The parameter named `key`, or nullptr.
const ParamSpec* find_param(std::string_view key);

// The valid key nearest to `key` by edit distance (for "did you mean" hints).
std::string closest_param(std::string_view key);

// Reads `value` for `key` and stores it in `chip`, recording `place` in chip.set_at. Throws
// Error "<place>: unknown key 'K' (did you mean 'L'?)" or "<place>: K: <what is wrong>".
void set_param(ChipSpec& chip, std::string_view key, std::string_view value, const std::string& place);

// Applies one "key=value" override (the text of a `--set` option), naming "--set <text>" in
// errors.
void apply_override(ChipSpec& chip, std::string_view assignment);

// A chip with every default applied and no required key set.
ChipSpec default_chip();

// The parameter table as Markdown (the output of `tessera chips --params`).
std::string params_markdown();

}  // namespace tessera::arch
