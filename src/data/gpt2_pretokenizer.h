// GPT-2 pre-tokenisation: the text is cut into pieces by the pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out by hand: at each position the first alternative that matches wins, each one
// greedy. Bytes that are not valid UTF-8 count as "other" characters, so any byte string is
// cut into pieces that concatenate back to it.
#pragma once
#include <string_view>
#include <vector>

namespace tessera {

// Views into `text`, in order, covering it exactly.
std::vector<std::string_view> gpt2_pretokenize(std::string_view text);

}  // namespace tessera
