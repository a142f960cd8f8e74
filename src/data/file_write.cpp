// Atomic file replacement (see file_write.h).
#include "data/file_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"

namespace tessera {

void write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write {}: {}", path, std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t wrote = write(fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      int code = errno;
      close(fd);
      unlink(temp.c_str());
      fail("cannot write {}: {}", path, std::strerror(code));
    }
    done += static_cast<size_t>(wrote);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int code = errno;
    unlink(temp.c_str());
    fail("cannot write {}: {}", path, std::strerror(code));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int code = errno;
    unlink(temp.c_str());
    fail("cannot write {}: rename failed: {}", path, std::strerror(code));
  }
}

}  // namespace tessera
