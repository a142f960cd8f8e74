// Copies, launches, streams and events on the device timeline: bytes round-trip, copies
// overlap kernels on other streams, kernels serialise on the cores, events order streams.
#include <gtest/gtest.h>

#include <numeric>

#include "common/error_text.h"
#include "runtime/launch.h"
#include "runtime/memcpy.h"
#include "runtime_test_util.h"

namespace tessera::runtime::test {
namespace {

using tessera::testing::error_text;

TEST(MemcpyTest, BytesRoundTripThroughHbmAtTheHostLinkBandwidth) {
  Device device("chip:t1", small_t1("64MiB"));
  std::vector<uint8_t> sent(1'000'003), back(sent.size());
  std::iota(sent.begin(), sent.end(), uint8_t{7});
  int64_t bytes = static_cast<int64_t>(sent.size());
  device.allocate(1000);  // the buffer does not start at 0
  int64_t addr = device.allocate(bytes);
  CopyRecord in = memcpy_to_device(device.default_stream(), addr, sent.data(), bytes);
  CopyRecord out = memcpy_to_host(device.default_stream(), back.data(), addr, bytes);
  EXPECT_EQ(sent, back);
  double seconds = static_cast<double>(bytes) / 64e9;  // t1 keeps the default, PCIe 5.0 x16
  EXPECT_DOUBLE_EQ(device.chip().host_link_bytes_per_s, 64e9);
  EXPECT_DOUBLE_EQ(in.start_seconds, 0);
  EXPECT_NEAR(in.end_seconds, seconds, 1e-15);
  EXPECT_DOUBLE_EQ(out.start_seconds, in.end_seconds);  // in order on the stream
  EXPECT_NEAR(device.synchronize(), 2 * seconds, 1e-15);
  DeviceTotals t = device.totals();
  EXPECT_EQ(t.copies, 2);
  EXPECT_EQ(t.copy_bytes, 2 * bytes);
}

TEST(MemcpyTest, ACopyOutsideEveryAllocationIsRefused) {
  Device device("chip:t1", small_t1());
  int64_t addr = device.allocate(512);
  std::vector<uint8_t> data(600);
  EXPECT_EQ(error_text([&] { memcpy_to_device(device.default_stream(), addr, data.data(), 600); }),
            "device 'chip:t1': memcpy_to_device of 600 bytes at HBM address 0x0 is outside every allocation");
  EXPECT_EQ(error_text([&] { memcpy_to_host(device.default_stream(), data.data(), addr + 4096, 8); }),
            "device 'chip:t1': memcpy_to_host of 8 bytes at HBM address 0x1000 is outside every allocation");
}

TEST(LaunchTest, ALaunchTakesItsProgramTimeAndTheLaunchOverhead) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 128);
  LaunchRecord a = launch(program, device.default_stream(), "gemm");
  EXPECT_DOUBLE_EQ(a.start_seconds, 0);
  EXPECT_GT(a.program_seconds, 0);
  EXPECT_DOUBLE_EQ(a.end_seconds, device.chip().launch_overhead_s + a.program_seconds);
  LaunchRecord b = launch(program, device.default_stream(), "gemm");
  EXPECT_DOUBLE_EQ(b.start_seconds, a.end_seconds);
  DeviceTotals t = device.totals();
  EXPECT_EQ(t.launches, 2);
  EXPECT_EQ(t.kernels["gemm"].calls, 2);
  EXPECT_NEAR(t.kernels["gemm"].seconds, b.end_seconds, 1e-15);
  EXPECT_DOUBLE_EQ(t.overhead_seconds, 2 * device.chip().launch_overhead_s);
  EXPECT_DOUBLE_EQ(t.matrix_flops, 2 * 2.0 * 128 * 128 * 128);
  EXPECT_GT(t.hbm_bytes, 0);
}

TEST(StreamTest, KernelsOnTwoStreamsTakeTheCoresOneAtATime) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 128);
  Stream s1(device), s2(device);
  LaunchRecord a = launch(program, s1, "gemm"), b = launch(program, s2, "gemm");
  EXPECT_DOUBLE_EQ(b.start_seconds, a.end_seconds);
  EXPECT_DOUBLE_EQ(s1.ready_seconds(), a.end_seconds);
  EXPECT_DOUBLE_EQ(device.synchronize(), b.end_seconds);
}

TEST(StreamTest, ACopyOnOneStreamOverlapsAKernelOnAnother) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 256);
  std::vector<uint8_t> data(8 << 20);
  int64_t buffer = device.allocate(static_cast<int64_t>(data.size()));
  Stream copies(device), compute(device);
  CopyRecord copy = memcpy_to_device(copies, buffer, data.data(), static_cast<int64_t>(data.size()));
  LaunchRecord kernel = launch(program, compute, "gemm");
  double copy_s = copy.end_seconds - copy.start_seconds, kernel_s = kernel.end_seconds - kernel.start_seconds;
  EXPECT_DOUBLE_EQ(kernel.start_seconds, 0);
  EXPECT_DOUBLE_EQ(device.synchronize(), std::max(copy_s, kernel_s));
  EXPECT_LT(device.synchronize(), copy_s + kernel_s);
  // On one stream the same work runs one after the other.
  Device serial("chip:t1", small_t1("64MiB"));
  isa::Program again = gemm_on(serial, 256);
  int64_t serial_buffer = serial.allocate(static_cast<int64_t>(data.size()));
  memcpy_to_device(serial.default_stream(), serial_buffer, data.data(), static_cast<int64_t>(data.size()));
  launch(again, serial.default_stream(), "gemm");
  EXPECT_NEAR(serial.synchronize(), copy_s + kernel_s, 1e-15);
}

TEST(EventTest, AWaitedEventOrdersWorkAcrossStreams) {
  Device device("chip:t1", small_t1("64MiB"));
  isa::Program program = gemm_on(device, 128);
  std::vector<uint8_t> data(4 << 20);
  int64_t buffer = device.allocate(static_cast<int64_t>(data.size()));
  Stream copies(device), compute(device);
  Event copied;
  CopyRecord copy = memcpy_to_device(copies, buffer, data.data(), static_cast<int64_t>(data.size()));
  record(copied, copies);
  EXPECT_DOUBLE_EQ(synchronize(copied), copy.end_seconds);
  stream_wait_event(compute, copied);
  LaunchRecord kernel = launch(program, compute, "gemm");
  EXPECT_DOUBLE_EQ(kernel.start_seconds, copy.end_seconds);  // not at 0, where the cores were free
  Event before, after;
  record(before, compute);
  LaunchRecord next = launch(program, compute, "gemm");
  record(after, compute);
  EXPECT_DOUBLE_EQ(elapsed_seconds(before, after), next.end_seconds - next.start_seconds);
  EXPECT_DOUBLE_EQ(device.synchronize(), next.end_seconds);
}

TEST(EventTest, AnUnrecordedEventIsRefused) {
  Device device("chip:t1", small_t1());
  Event never, recorded;
  record(recorded, device.default_stream());
  EXPECT_EQ(error_text([&] { synchronize(never); }), "event synchronize: the event was never recorded on a stream");
  EXPECT_EQ(error_text([&] { stream_wait_event(device.default_stream(), never); }),
            "stream_wait_event: the event was never recorded on a stream");
  EXPECT_EQ(error_text([&] { elapsed_seconds(recorded, never); }),
            "elapsed_seconds: the end event was never recorded on a stream");
}

}  // namespace
}  // namespace tessera::runtime::test
