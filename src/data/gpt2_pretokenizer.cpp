// GPT-2 pre-tokenisation by hand (see gpt2_pretokenizer.h).
#include "data/gpt2_pretokenizer.h"

#include "data/unicode.h"

namespace tessera {
namespace {

enum class CharClass { Letter, Number, Space, Other };

CharClass classify(char32_t code_point) {
  if (code_point == kInvalidCodePoint) return CharClass::Other;
  if (is_letter(code_point)) return CharClass::Letter;
  if (is_number(code_point)) return CharClass::Number;
  if (is_space(code_point)) return CharClass::Space;
  return CharClass::Other;
}

// A decoded character: where it starts and its class.
struct Char {
  size_t offset;
  CharClass cls;
};

// Length in bytes of the contraction ('s 't 're 've 'm 'll 'd) at `pos`, or 0.
size_t contraction_length(std::string_view text, size_t pos) {
  if (text[pos] != '\'') return 0;
  std::string_view rest = text.substr(pos + 1);
  for (std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
    if (rest.starts_with(suffix)) return 1 + suffix.size();
  }
  return 0;
}

}  // namespace

std::vector<std::string_view> gpt2_pretokenize(std::string_view text) {
  std::vector<Char> chars;
  for (size_t pos = 0; pos < text.size();) {
    Utf8Char c = decode_utf8(text, pos);
    chars.push_back({pos, classify(c.code_point)});
    pos += c.length;
  }
  size_t n = chars.size();
  auto offset = [&](size_t i) { return i < n ? chars[i].offset : text.size(); };
  auto run_end = [&](size_t i, CharClass cls) {  // first index >= i not of class `cls`
    while (i < n && chars[i].cls == cls) ++i;
    return i;
  };

  std::vector<std::string_view> pieces;
  size_t i = 0;
  while (i < n) {
    size_t start = i, end;
    if (size_t length = contraction_length(text, chars[i].offset); length > 0) {
      end = i + length;  // contractions are ASCII: one character per byte
    } else {
      // " ?X+" for X in letters, numbers, other: an optional literal space, then a run.
      size_t body = (text[chars[i].offset] == ' ' && i + 1 < n) ? i + 1 : i;
      CharClass cls = chars[body].cls;
      if (cls != CharClass::Space) {
        end = run_end(body, cls);
      } else {
        // White space: "\s+(?!\S)" keeps the run's last character for the next piece when a
        // non-space follows and the run is longer than one; otherwise "\s+" takes it all.
        end = run_end(i, CharClass::Space);
        if (end < n && end - i > 1) --end;
      }
    }
    pieces.push_back(text.substr(offset(start), offset(end) - offset(start)));
    i = end;
  }
  return pieces;
}

}  // namespace tessera
