// Atomic file replacement: write a temporary file beside the target, fsync it, rename it over
// the target. A reader sees the old file or the new one, never a partial one.
#pragma once
#include <string>
#include <string_view>

namespace tessera {

// Error naming `path` if any step fails (the temporary file is removed then).
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace tessera
