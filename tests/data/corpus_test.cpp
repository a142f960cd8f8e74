// Text corpora from Debian packages, their cleaning, the missing-package messages and the
// train/validation split.
#include "data/corpus.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

TEST(Corpus, KjvIsTheWholeBible) {
  std::string text = load_corpus("kjv");
  std::string first = "Genesis 1\n\n  1 In the beginning God created the heaven and the earth.\n";
  EXPECT_EQ(text.substr(0, first.size()), first);
  std::string last = "  21 The grace of our Lord Jesus Christ be with you all. Amen.\n";
  ASSERT_GT(text.size(), last.size());
  EXPECT_EQ(text.substr(text.size() - last.size()), last);
  EXPECT_NE(text.find("\nPsalms 119\n"), std::string::npos);
  EXPECT_GT(text.size(), 4'000'000u);
  EXPECT_LT(text.size(), 4'500'000u);
  EXPECT_EQ(load_kjv(), text);  // the extraction is deterministic
}

TEST(Corpus, FortunesAreCleanedText) {
  std::string text = load_corpus("fortunes");
  EXPECT_GT(text.size(), 2'000'000u);
  EXPECT_EQ(text.find('\b'), std::string::npos);
  EXPECT_EQ(text.find("\n%\n"), std::string::npos);
  EXPECT_NE(text.find("\n\n"), std::string::npos);
}

TEST(Corpus, FortuneFilesBecomeBlankLineSeparatedText) {
  auto dir = testing::fresh_dir("fortunes_small");
  testing::write_bytes(dir / "b", "second file\n%\n");
  testing::write_bytes(dir / "b.dat", "index");
  testing::write_bytes(dir / "a", "one\n%\ntwo _\bx and \xc3\xa9\b\xc3\xa8\n%\n100%\nlast");
  testing::write_bytes(dir / "a.dat", "index");
  testing::write_bytes(dir / "unindexed", "not a fortune file\n");
  EXPECT_EQ(load_fortunes(dir.string()),
            "one\n\ntwo x and \xc3\xa8\n\n100%\nlast\nsecond file\n\n");
}

TEST(Corpus, MissingPackagesAreNamed) {
  auto dir = testing::fresh_dir("corpus_missing");
  EXPECT_ERROR_WITH(load_kjv((dir / "bible").string()), "bible not found",
                    "install the Debian package bible-kjv (apt-get install bible-kjv)");
  EXPECT_ERROR_WITH(load_fortunes(dir.string()), "no fortune files in",
                    "install the Debian package fortunes (apt-get install fortunes)");
}

TEST(Corpus, BrokenBibleOutputIsRejected) {
  auto dir = testing::fresh_dir("corpus_broken_bible");
  std::string program = (dir / "bible").string();
  testing::write_bytes(program, "#!/bin/sh\necho 'Genesis 1'\necho '  1 In the beginning'\n");
  std::filesystem::permissions(program, std::filesystem::perms::owner_all);
  EXPECT_ERROR_WITH(load_kjv(program), "printed 1 verses, expected 31102");
  testing::write_bytes(program, "#!/bin/sh\necho 'Cannot open data file' >&2\nexit 3\n");
  EXPECT_ERROR_WITH(load_kjv(program), "failed (exit status 3)", "Cannot open data file");
}

TEST(Corpus, UnknownNameListsValidOnes) {
  EXPECT_ERROR_WITH(load_corpus("shakespeare"), "corpus 'shakespeare' is unknown",
                    "valid: kjv, fortunes");
  EXPECT_EQ(corpus_names(), (std::vector<std::string>{"kjv", "fortunes"}));
}

TEST(Corpus, SplitKeepsTheLastTenthForValidation) {
  std::string text(1000, 'a');
  TextSplit split = split_train_val(text);
  EXPECT_EQ(split.train.size(), 900u);
  EXPECT_EQ(split.val.size(), 100u);
  EXPECT_EQ(split.train + split.val, text);
}

TEST(Corpus, SplitDoesNotCutAUtf8Character) {
  // 9 ASCII bytes then "é" (2 bytes): the plain cut at byte 10 would fall inside it.
  std::string text = "abcdefghi\xc3\xa9";
  TextSplit split = split_train_val(text, 0.1);  // 11 - 1 = byte 10
  EXPECT_EQ(split.train, "abcdefghi\xc3\xa9");
  EXPECT_EQ(split.val, "");
  split = split_train_val(text, 0.2);  // byte 9, a character start
  EXPECT_EQ(split.train, "abcdefghi");
  EXPECT_EQ(split.val, "\xc3\xa9");
  EXPECT_ERROR_WITH(split_train_val(text, 1.0), "validation fraction 1 must be in (0, 1)");
}

}  // namespace
}  // namespace tessera
