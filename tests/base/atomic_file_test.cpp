// Atomic writes: content, no temporary left behind, and an untouched target on failure.
#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "base/error.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system's temporary folder, removed at the end of the test.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = fs::temp_directory_path() /
              ("tessera_atomic_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override {
    fs::permissions(folder_, fs::perms::owner_all);
    fs::remove_all(folder_);
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder_))
      names.push_back(entry.path().filename().string());
    return names;
  }
  fs::path folder_;
};

TEST_F(AtomicFileTest, WritesContentAndLeavesNoTemporary) {
  std::string path = (folder_ / "weights.bin").string();
  std::string content("header\0binary\xff", 14);
  write_file_atomic(path, content);
  EXPECT_EQ(read_file_bytes(path), content);
  EXPECT_EQ(entries(), std::vector<std::string>{"weights.bin"});

  // Replacing an existing file, from several pieces.
  std::string big(300000, 'x');  // larger than one read chunk
  const char tail[] = {1, 2, 3};
  ByteRange pieces[] = {{big.data(), big.size()}, {tail, sizeof tail}, {nullptr, 0}};
  write_file_atomic(path, pieces);
  EXPECT_EQ(read_file_bytes(path), big + std::string(tail, 3));
  EXPECT_EQ(entries(), std::vector<std::string>{"weights.bin"});

  write_file_atomic(path, "");
  EXPECT_EQ(read_file_bytes(path), "");
}

TEST_F(AtomicFileTest, UnwritableFolderLeavesTargetUntouched) {
  std::string path = (folder_ / "model.safetensors").string();
  write_file_atomic(path, "old content");
  fs::permissions(folder_, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                               fs::perms::group_exec | fs::perms::others_read |
                               fs::perms::others_exec);
  // The superuser ignores folder permissions, so the attempt runs in a child process that has
  // given them up (as "nobody") when needed; it prints the error and exits 0 if one is thrown.
  EXPECT_EXIT(
      {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) std::exit(3);
        try {
          write_file_atomic(path, "new content");
        } catch (const Error& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::exit(0);
        }
        std::exit(1);
      },
      ::testing::ExitedWithCode(0),
      "cannot write .*/model.safetensors: open .*/model.safetensors.tmp.[0-9]+: "
      "Permission denied");
  EXPECT_EQ(read_file_bytes(path), "old content");
  EXPECT_EQ(entries(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(AtomicFileTest, FailedRenameRemovesTheTemporary) {
  // The target is a non-empty folder: the temporary is written, the rename fails.
  fs::path target = folder_ / "checkpoint";
  fs::create_directories(target / "inside");
  try {
    write_file_atomic(target.string(), "data");
    FAIL() << "wrote over a folder";
  } catch (const Error& e) {
    std::string message = e.what();
    std::string start = "cannot write " + target.string() + ": rename " + target.string() + ".tmp.";
    EXPECT_EQ(message.rfind(start, 0), 0u) << message;
    EXPECT_NE(message.find("Is a directory"), std::string::npos) << message;
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"checkpoint"});
  EXPECT_TRUE(fs::is_directory(target / "inside"));
}

TEST_F(AtomicFileTest, ReadErrorsNameThePath) {
  std::string missing = (folder_ / "missing.bin").string();
  try {
    read_file_bytes(missing);
    FAIL() << "read a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + missing + ": No such file or directory");
  }
  try {
    read_file_bytes(folder_.string());
    FAIL() << "read a folder";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + folder_.string() + ": Is a directory");
  }
}

TEST_F(AtomicFileTest, MissingFolderIsReported) {
  std::string path = (folder_ / "no_such_folder" / "out.bin").string();
  EXPECT_THROW(
      {
        try {
          write_file_atomic(path, "x");
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos);
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace tessera
