// UTF-8 decoding and character classes (see unicode.h).
#include "data/unicode.h"

#include <algorithm>
#include <cstdint>
#include <span>

#include "data/unicode_tables.h"

namespace tessera {
namespace {

using unicode_tables::CodeRange;

bool in_ranges(std::span<const CodeRange> ranges, char32_t code_point) {
  auto after =
      std::upper_bound(ranges.begin(), ranges.end(), code_point,
                       [](char32_t cp, const CodeRange& range) { return cp < range.first; });
  return after != ranges.begin() && code_point <= std::prev(after)->last;
}

}  // namespace

Utf8Char decode_utf8(std::string_view text, size_t pos) {
  const Utf8Char invalid = {kInvalidCodePoint, 1};
  uint8_t lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) return {lead, 1};
  size_t length;
  char32_t code_point, minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return invalid;  // a continuation byte or 0xF8-0xFF
  }
  if (pos + length > text.size()) return invalid;
  for (size_t i = 1; i < length; ++i) {
    uint8_t next = static_cast<uint8_t>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return invalid;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return invalid;
  }
  return {code_point, length};
}

bool is_letter(char32_t code_point) { return in_ranges(unicode_tables::kLetters, code_point); }

bool is_number(char32_t code_point) { return in_ranges(unicode_tables::kNumbers, code_point); }

bool is_space(char32_t code_point) {
  if (code_point < 0x80) return code_point == ' ' || (code_point >= 0x09 && code_point <= 0x0D);
  switch (code_point) {
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return code_point >= 0x2000 && code_point <= 0x200A;
  }
}

}  // namespace tessera
