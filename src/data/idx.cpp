// Gzip IDX reader (see idx.h).
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "base/error.h"

namespace tessera {
namespace {

constexpr int kUnsignedByteType = 0x08;
constexpr int kMaxRank = 4;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to `size` bytes; returns how many were read (fewer only at the end of the data).
size_t read_some(gzFile file, const std::string& path, uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    int got = gzread(file, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail("IDX file {}: cannot decompress: {}", path, message);
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

void read_exact(gzFile file, const std::string& path, uint8_t* out, size_t size, const char* what) {
  size_t got = read_some(file, path, out, size);
  if (got != size) fail("IDX file {}: truncated in the {} ({} of {} bytes)", path, what, got, size);
}

}  // namespace

IdxArray read_idx_gz(const std::string& path, int expected_rank) {
  TS_ASSERT(expected_rank >= 1 && expected_rank <= kMaxRank);
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) fail("IDX file {}: cannot open", path);

  uint8_t magic[4];
  read_exact(file.get(), path, magic, 4, "magic number");
  if (magic[0] != 0 || magic[1] != 0) {
    fail("IDX file {}: bad magic 0x{:02x}{:02x}{:02x}{:02x} (expected 0x0000TTRR)", path, magic[0],
         magic[1], magic[2], magic[3]);
  }
  if (magic[2] != kUnsignedByteType) {
    fail("IDX file {}: element type 0x{:02x} is not supported (expected 0x08, unsigned byte)", path,
         magic[2]);
  }
  int rank = magic[3];
  if (rank != expected_rank) {
    fail("IDX file {}: rank {} but expected rank {} (magic 0x{:08x})", path, rank, expected_rank,
         0x800 + expected_rank);
  }

  IdxArray array;
  uint64_t total = 1;
  for (int d = 0; d < rank; ++d) {
    uint8_t be[4];
    read_exact(file.get(), path, be, 4, "dimensions");
    uint64_t dim =
        (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
    if (dim == 0) fail("IDX file {}: dimension {} is zero", path, d);
    total *= dim;
    if (total > (uint64_t{1} << 40))
      fail("IDX file {}: dimensions describe more than 2^40 bytes", path);
    array.dims.push_back(static_cast<int64_t>(dim));
  }

  array.data.resize(total);
  size_t got = read_some(file.get(), path, array.data.data(), total);
  if (got != total) {
    fail("IDX file {}: truncated data: {} bytes but the dimensions need {}", path, got, total);
  }
  uint8_t extra;
  if (read_some(file.get(), path, &extra, 1) != 0) {
    fail("IDX file {}: data longer than the dimensions say ({} bytes expected)", path, total);
  }
  return array;
}

}  // namespace tessera
