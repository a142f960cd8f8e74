// Stream timelines and events (see stream.h).
#include "runtime/stream.h"

#include <algorithm>

#include "base/error.h"

namespace tessera::runtime {

void Stream::wait_until(double seconds) { ready_s_ = std::max(ready_s_, seconds); }

void record(Event& event, const Stream& stream) {
  event.recorded = true;
  event.seconds = stream.ready_seconds();
}

void stream_wait_event(Stream& stream, const Event& event) {
  if (!event.recorded) fail("stream_wait_event: the event was never recorded on a stream");
  stream.wait_until(event.seconds);
}

double elapsed_seconds(const Event& start, const Event& end) {
  if (!start.recorded || !end.recorded)
    fail("elapsed_seconds: the {} event was never recorded on a stream", start.recorded ? "end" : "start");
  return end.seconds - start.seconds;
}

double synchronize(const Event& event) {
  if (!event.recorded) fail("event synchronize: the event was never recorded on a stream");
  return event.seconds;
}

}  // namespace tessera::runtime
