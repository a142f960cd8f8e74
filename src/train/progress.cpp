// Progress reporting (see progress.h).
#include "train/progress.h"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace tessera {

namespace {
std::string duration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  return fmt::format("{}m{:02}s", s / 60, s % 60);
}
}  // namespace

Progress::Progress(int64_t first_step, int64_t total_steps, const char* unit, bool quiet)
    : first_step_(first_step), total_steps_(total_steps), unit_(unit), quiet_(quiet),
      tty_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::items_per_second() const { return items_ / std::max(1e-9, seconds()); }

void Progress::update(int64_t step, float loss, float lr, int64_t items) {
  items_ += items;
  if (quiet_) return;
  int64_t done = step + 1 - first_step_, remaining = total_steps_ - step - 1;
  double eta = done > 0 ? seconds() / done * remaining : 0.0;
  int width = 24;
  int filled = static_cast<int>(width * (step + 1) / std::max<int64_t>(1, total_steps_));
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  std::string line = fmt::format("[{}] step {}/{}  loss {:.4f}  lr {:.2e}  {:.0f} {}/s  ETA {}", bar, step + 1,
                                 total_steps_, loss, lr, items_per_second(), unit_, duration(eta));
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    line_open_ = true;
  } else {
    int64_t every = std::max<int64_t>(1, total_steps_ / 20);
    if ((step + 1) % every == 0 || step + 1 == total_steps_ || step == first_step_)
      std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::message(const std::string& line) {
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

void Progress::finish() {
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
}

}  // namespace tessera
