// The progress line of a training run: step, loss, throughput and ETA, redrawn in place on a
// terminal and printed every few steps otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace tessera {

class Progress {
 public:
  Progress(int64_t first_step, int64_t total_steps, const char* unit, bool quiet);
  // After step `step` (0-based) processed `items` tokens/images with this loss.
  void update(int64_t step, float loss, float lr, int64_t items);
  void message(const std::string& line);  // a line that is not overwritten
  void finish();
  double seconds() const;
  double items_per_second() const;

 private:
  int64_t first_step_, total_steps_;
  const char* unit_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t items_ = 0;
  bool line_open_ = false;
};

}  // namespace tessera
