// Text corpora for language models, read from Debian packages:
//   "kjv":      the King James Bible (packages bible-kjv and bible-kjv-text), about 4.3 MB of
//               ASCII. The text is stored compressed in /usr/lib/bible.data, so it is extracted
//               by running the package's reader, /usr/bin/bible, once over Genesis 1:1 to
//               Revelation 22:21 with a fixed line width: chapter headings ("Genesis 1") and one
//               line per verse ("  1 In the beginning ..."). All 31102 verses are checked.
//   "fortunes": every indexed file of /usr/share/games/fortunes (packages fortunes and
//               fortunes-min), in file-name order, about 2.6 MB of UTF-8. The '%' lines that
//               separate the cookies become blank lines; overstrike sequences (x BACKSPACE y)
//               keep only the final character.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

inline constexpr const char* kBibleProgram = "/usr/bin/bible";
inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";
inline constexpr int kKjvVerses = 31102;

// The names load_corpus accepts.
std::vector<std::string> corpus_names();
// The whole text of a named corpus; an Error names the Debian package to install, or lists the
// valid names.
std::string load_corpus(std::string_view name);

std::string load_kjv(const std::string& program = kBibleProgram);
std::string load_fortunes(const std::string& dir = kFortunesDir);

struct TextSplit {
  std::string train;
  std::string val;
};
// The last `val_fraction` of the bytes become the validation text; the cut moves forward to the
// start of a UTF-8 character so that neither part holds half a character.
TextSplit split_train_val(std::string_view text, double val_fraction = 0.1);

}  // namespace tessera
