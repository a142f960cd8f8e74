// Whole-file writes that either fully replace the target or leave it untouched, and whole-file
// reads with a clear error.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace tessera {

// A run of bytes to write (not owned).
struct ByteRange {
  const void* data = nullptr;
  size_t size = 0;
};

// Writes the pieces, in order, to `path` atomically: they go to `<path>.tmp.<pid>` in the same
// folder, which is fsync'ed and renamed over `path`; then the folder is fsync'ed. A reader sees
// the old file or the new one, never a mix. On any failure the temporary is removed and an
// Error names the path, the step that failed and the system's reason.
void write_file_atomic(const std::string& path, std::span<const ByteRange> pieces);
void write_file_atomic(const std::string& path, std::string_view bytes);

// The whole content of a file, or an Error naming the path and the system's reason.
std::string read_file_bytes(const std::string& path);

}  // namespace tessera
