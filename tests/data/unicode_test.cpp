// UTF-8 decoding and the letter / number / space classes of GPT-2 pre-tokenisation.
#include "data/unicode.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(Unicode, DecodesValidSequences) {
  EXPECT_EQ(decode_utf8("A", 0).code_point, U'A');
  Utf8Char e = decode_utf8("\xc3\xa9", 0);
  EXPECT_EQ(e.code_point, U'\u00E9');
  EXPECT_EQ(e.length, 2u);
  Utf8Char zhong = decode_utf8("x\xe4\xb8\xad", 1);
  EXPECT_EQ(zhong.code_point, U'\u4E2D');
  EXPECT_EQ(zhong.length, 3u);
  Utf8Char smile = decode_utf8("\xf0\x9f\x98\x80", 0);
  EXPECT_EQ(smile.code_point, U'\U0001F600');
  EXPECT_EQ(smile.length, 4u);
}

TEST(Unicode, RejectsInvalidSequencesOneByteAtATime) {
  for (std::string bad : {"\x80", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xe4\xb8", "\xc3(", "\xff"}) {
    Utf8Char c = decode_utf8(bad, 0);
    EXPECT_EQ(c.code_point, kInvalidCodePoint) << bad;
    EXPECT_EQ(c.length, 1u);
  }
}

TEST(Unicode, LettersAcrossScripts) {
  for (char32_t cp : {U'A', U'z', U'\u00E9', U'\u00DF', U'\u03A9', U'\u03C9', U'\u0416', U'\u0436',
                      U'\u05D0', U'\u0627', U'\u0928', U'\u4E2D', U'\u3042', U'\u30A2', U'\uAC00',
                      U'\u00AA', U'\U00020000'}) {
    EXPECT_TRUE(is_letter(cp)) << std::hex << static_cast<uint32_t>(cp);
    EXPECT_FALSE(is_number(cp));
  }
  // Combining marks (Mn, Mc) are not letters: the Devanagari vowel sign splits Hindi words.
  for (char32_t cp : {U'0', U' ', U'_', U'\'', U'\u0301', U'\u093E', U'\u3002', U'\U0001F600',
                      U'\u00D7', U'\u20AC'}) {
    EXPECT_FALSE(is_letter(cp)) << std::hex << static_cast<uint32_t>(cp);
  }
}

TEST(Unicode, NumbersIncludeOtherDigitsAndFractions) {
  for (char32_t cp : {U'0', U'9', U'\u00B2', U'\u00BD', U'\u0663', U'\u0969', U'\u216B', U'\u2460',
                      U'\uFF15', U'\u3007'}) {
    EXPECT_TRUE(is_number(cp)) << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_FALSE(is_number(U'a'));
  EXPECT_FALSE(is_number(U'\u4E00'));  // CJK "one" is a letter
}

TEST(Unicode, SpacesAsJavaScriptSees) {
  for (char32_t cp :
       {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u00A0', U'\u1680', U'\u2000', U'\u200A',
        U'\u2028', U'\u2029', U'\u202F', U'\u205F', U'\u3000', U'\uFEFF'}) {
    EXPECT_TRUE(is_space(cp)) << std::hex << static_cast<uint32_t>(cp);
  }
  for (char32_t cp : {U'\u0085', U'\u200B', U'\u001C', U'a', U'\u180E'}) {
    EXPECT_FALSE(is_space(cp)) << std::hex << static_cast<uint32_t>(cp);
  }
}

}  // namespace
}  // namespace tessera
