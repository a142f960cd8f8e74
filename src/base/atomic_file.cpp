// Atomic file replacement with POSIX calls (see atomic_file.h).
#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/error.h"

namespace tessera {
namespace {

// Writes all of `size` bytes, retrying after interruptions and partial writes. Returns false
// with errno set on failure.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// The folder holding `path` ("." for a bare file name).
std::string folder_of(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

void write_file_atomic(const std::string& path, std::span<const ByteRange> pieces) {
  std::string temporary = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail("cannot write {}: open {}: {}", path, temporary, std::strerror(errno));

  // Every failure from here on removes the temporary before reporting.
  auto give_up = [&](const char* step, int error) {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    fail("cannot write {}: {} {}: {}", path, step, temporary, std::strerror(error));
  };
  for (const ByteRange& piece : pieces)
    if (!write_all(fd, static_cast<const char*>(piece.data), piece.size)) give_up("write", errno);
  if (::fsync(fd) != 0) give_up("fsync", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) give_up("close", errno);
  if (::rename(temporary.c_str(), path.c_str()) != 0) give_up("rename", errno);

  // Make the rename itself durable.
  std::string folder = folder_of(path);
  int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) fail("cannot write {}: open folder {}: {}", path, folder, std::strerror(errno));
  int synced = ::fsync(dir_fd);
  int error = errno;
  ::close(dir_fd);
  if (synced != 0) fail("cannot write {}: fsync folder {}: {}", path, folder, std::strerror(error));
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  ByteRange piece{bytes.data(), bytes.size()};
  write_file_atomic(path, std::span<const ByteRange>(&piece, 1));
}

std::string read_file_bytes(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot read {}: {}", path, std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    fail("cannot read {}: {}", path, std::strerror(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    fail("cannot read {}: {}", path, std::strerror(EISDIR));
  }
  // Read straight into a buffer of the file's size; once it is full, a small probe finds the
  // end of the file (or whatever was appended meanwhile).
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  char probe[4096];
  while (true) {
    bool full = done == bytes.size();
    ssize_t n = full ? ::read(fd, probe, sizeof probe)
                     : ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      fail("cannot read {}: {}", path, std::strerror(error));
    }
    if (n == 0) break;
    if (full) bytes.append(probe, static_cast<size_t>(n));
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  ::close(fd);
  return bytes;
}

}  // namespace tessera
