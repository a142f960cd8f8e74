// The Unicode facts GPT-2 pre-tokenisation needs: UTF-8 decoding and the classes letter (general
// category L), number (N) and white space (as JavaScript's \s: the pattern's reference
// implementation is the npm package gpt-3-encoder).
#pragma once
#include <cstddef>
#include <string_view>

namespace tessera {

struct Utf8Char {
  char32_t code_point;  // kInvalidCodePoint for a byte that does not start a valid sequence
  size_t length;        // bytes consumed: 1-4 (1 for an invalid byte)
};
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// Decodes the character starting at text[pos] (pos < text.size()). Overlong forms, surrogates,
// values above U+10FFFF and truncated sequences are invalid.
Utf8Char decode_utf8(std::string_view text, size_t pos);

bool is_letter(char32_t code_point);  // \p{L}
bool is_number(char32_t code_point);  // \p{N}
// \s: U+0009-000D, U+0020, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F,
// U+3000, U+FEFF.
bool is_space(char32_t code_point);

}  // namespace tessera
