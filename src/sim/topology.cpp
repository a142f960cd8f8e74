// Topology CSV reading.
#include "sim/topology.h"

#include <algorithm>
#include <charconv>

#include "base/atomic_file.h"
#include "base/error.h"

namespace tessera::sim {

namespace {

const std::vector<std::string> kConvColumns = {"IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                               "Channels",     "Num Filter",  "Strides"};
const std::vector<std::string> kGemmColumns = {"M", "N", "K"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The fields of a line; the comma that ends a row does not start another field.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    size_t comma = line.find(',', at);
    out.push_back(trim(line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at)));
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<TopologyLayer> parse_topology(std::string_view text, const std::string& path) {
  std::vector<TopologyLayer> layers;
  const std::vector<std::string>* columns = nullptr;
  bool conv = false;
  int line_number = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    std::vector<std::string_view> f = fields(line);
    if (!columns) {  // the header
      if (f.size() == kConvColumns.size() + 1) {
        columns = &kConvColumns, conv = true;
      } else if (f.size() == kGemmColumns.size() + 1) {
        columns = &kGemmColumns;
      } else {
        fail("{}:{}: the header has {} columns; a topology has 8 (Layer name, {}) or 4 (Layer name, {})", path,
             line_number, f.size(), join(kConvColumns), join(kGemmColumns));
      }
      continue;
    }
    if (f.size() != columns->size() + 1) {
      fail("{}:{}: expected {} columns (Layer name, {}) as the header says, got {}", path, line_number,
           columns->size() + 1, join(*columns), f.size());
    }
    if (f[0].empty()) fail("{}:{}: the layer name is empty", path, line_number);
    std::vector<int64_t> v;
    for (size_t i = 1; i < f.size(); ++i) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), value);
      if (ec != std::errc() || ptr != f[i].data() + f[i].size() || value <= 0) {
        fail("{}:{}: {}: '{}' is not a positive whole number", path, line_number, (*columns)[i - 1], f[i]);
      }
      v.push_back(value);
    }
    TopologyLayer layer{std::string(f[0]), {}, line_number};
    if (conv) {
      try {
        layer.gemm = arch::conv_as_gemm({v[0], v[1], v[2], v[3], v[4], v[5], v[6]});
      } catch (const Error& e) {
        fail("{}:{}: layer {}: {}", path, line_number, layer.name, e.what());
      }
    } else {
      layer.gemm = {v[0], v[1], v[2]};
    }
    layers.push_back(layer);
  }
  if (layers.empty()) fail("{}: no layers (a header line, then one line per layer)", path);
  return layers;
}

std::vector<TopologyLayer> read_topology(const std::string& path) { return parse_topology(read_file_bytes(path), path); }

}  // namespace tessera::sim
