// Streams and events: timelines in simulated seconds, as GPU programmers know them.
//
// - A Stream is an in-order queue of work on one device: each launch or copy on it starts after
//   the one before it ends (and, for a launch, when the chip's cores are free; for a copy, when
//   the copy engine is free: see launch.h and memcpy.h). Work on different streams overlaps
//   where the resources allow: a copy on one stream runs while a kernel runs on another.
// - An Event marks a point of a stream's timeline: record(event, stream) captures when the
//   work queued so far on the stream ends; stream_wait_event makes later work on a stream start
//   no earlier than that point.
// The simulator computes results when work is queued, so nothing here blocks the host: the
// "synchronize" functions return the simulated time at which the work ends.
#pragma once

namespace tessera::runtime {

class Device;

class Stream {
 public:
  explicit Stream(Device& device) : device_(&device) {}
  Device& device() const { return *device_; }
  // When the work queued so far on this stream ends (simulated seconds from the device's start).
  double ready_seconds() const { return ready_s_; }
  // Work queued after this starts no earlier than `seconds`.
  void wait_until(double seconds);

 private:
  Device* device_;
  double ready_s_ = 0;
};

struct Event {
  bool recorded = false;
  double seconds = 0;  // the point of the timeline it marks, once recorded
};

void record(Event& event, const Stream& stream);
void stream_wait_event(Stream& stream, const Event& event);
// Seconds from `start` to `end`; both must have been recorded.
double elapsed_seconds(const Event& start, const Event& end);
// When the work before the event ends, in simulated seconds; the event must have been recorded.
double synchronize(const Event& event);

}  // namespace tessera::runtime
