// Text corpora from Debian packages (see corpus.h).
#include "data/corpus.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

struct CorpusEntry {
  const char* name;
  std::string (*load)();
};

const CorpusEntry kCorpora[] = {
    {"kjv", [] { return load_kjv(); }},
    {"fortunes", [] { return load_fortunes(); }},
};

bool is_continuation_byte(char byte) { return (static_cast<uint8_t>(byte) & 0xC0) == 0x80; }

// Runs `command` through the shell and returns its standard output; Error on a non-zero exit.
std::string run_command(const std::string& command, const std::string& what) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) fail("{}: cannot start '{}'", what, command);
  std::string output;
  char buffer[1 << 16];
  size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("{}: '{}' failed (exit status {}): {}", what, command,
         status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status), output.substr(0, 200));
  }
  return output;
}

// A fortune file with '%' separator lines turned blank and overstrikes resolved.
std::string clean_fortunes(std::string_view raw) {
  std::string text;
  text.reserve(raw.size());
  size_t line_start = 0;
  for (char c : raw) {
    if (c == '\b') {  // drop the previous character (all its UTF-8 bytes)
      while (text.size() > line_start && is_continuation_byte(text.back())) text.pop_back();
      if (text.size() > line_start) text.pop_back();
      continue;
    }
    text.push_back(c);
    if (c == '\n') {
      if (text.size() - line_start == 2 && text[line_start] == '%') text.erase(line_start, 1);
      line_start = text.size();
    }
  }
  return text;
}

}  // namespace

std::vector<std::string> corpus_names() {
  std::vector<std::string> names;
  for (const CorpusEntry& entry : kCorpora) names.emplace_back(entry.name);
  return names;
}

std::string load_corpus(std::string_view name) {
  for (const CorpusEntry& entry : kCorpora) {
    if (name == entry.name) return entry.load();
  }
  std::string valid;
  for (const CorpusEntry& entry : kCorpora)
    valid += (valid.empty() ? "" : ", ") + std::string(entry.name);
  fail("corpus '{}' is unknown (valid: {})", name, valid);
}

std::string load_kjv(const std::string& program) {
  if (!fs::exists(program)) {
    fail(
        "KJV corpus: {} not found: install the Debian package bible-kjv (apt-get install "
        "bible-kjv)",
        program);
  }
  if (program.find('\'') != std::string::npos) {
    fail("KJV corpus: program path {} must not contain a single quote", program);
  }
  // -l1000: one line per verse whatever the terminal width; stdin closed: no interactive prompt.
  std::string text =
      run_command("'" + program + "' -l1000 gen1:1-rev22:21 </dev/null 2>&1", "KJV corpus");
  std::istringstream lines(text);
  std::string line;
  int verses = 0;
  while (std::getline(lines, line)) {
    size_t first = line.find_first_not_of(' ');  // verse lines: "  12 text"
    if (first != 0 && first != std::string::npos &&
        std::isdigit(static_cast<unsigned char>(line[first]))) {
      ++verses;
    }
  }
  if (verses != kKjvVerses) {
    fail(
        "KJV corpus: {} printed {} verses, expected {} (is the Debian package bible-kjv-text "
        "complete?)",
        program, verses, kKjvVerses);
  }
  if (!text.empty() && text.front() == '\n') text.erase(0, 1);
  return text;
}

std::string load_fortunes(const std::string& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      fs::path path = entry.path();
      // A fortune file is the text beside its strfile index "<name>.dat".
      if (entry.is_regular_file() && path.extension() != ".dat" &&
          fs::exists(path.string() + ".dat")) {
        files.push_back(path);
      }
    }
  }
  if (files.empty()) {
    fail(
        "fortunes corpus: no fortune files in {}: install the Debian package fortunes "
        "(apt-get install fortunes)",
        dir);
  }
  std::sort(files.begin(), files.end());
  std::string text;
  for (const fs::path& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("fortunes corpus: cannot read {}", path.string());
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text += clean_fortunes(raw);
    if (!text.empty() && text.back() != '\n') text.push_back('\n');
  }
  return text;
}

TextSplit split_train_val(std::string_view text, double val_fraction) {
  if (!(val_fraction > 0.0 && val_fraction < 1.0)) {
    fail("train/val split: validation fraction {} must be in (0, 1)", val_fraction);
  }
  size_t cut = text.size() - static_cast<size_t>(static_cast<double>(text.size()) * val_fraction);
  while (cut < text.size() && is_continuation_byte(text[cut])) ++cut;
  return {std::string(text.substr(0, cut)), std::string(text.substr(cut))};
}

}  // namespace tessera
