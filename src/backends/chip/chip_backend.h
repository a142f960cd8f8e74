// chip:<preset>: a backend that runs kernels as tile programs on the simulated chip of a preset
// in configs/chips ("chip:t1", "chip:h20", ...), in the shape of a GPU runtime kept simple.
//
// - The backend runs on a runtime::Device (runtime/device.h). allocate() reserves the tensor's
//   bytes in the device's HBM allocator, so that capacity is accounted and a model too large
//   for the chip fails there ("device 'chip:t1': out of memory: ..."), and the tensor lives at
//   that address of the simulator's HBM, which is host memory too (host_addressable), so that
//   kernels the chip does not run fall back to the CPU (dispatch.h) on the same bytes. A launch
//   (chip_launch.h) hands its program the operands where they lie when it can, and stages the
//   others (strided views, other dtypes) into a per-launch workspace above every allocation
//   (untimed: on the chip a layout change would be a kernel of its own); it launches the
//   kernel's program on the device's default stream (runtime/launch.h) and copies back the
//   results that could not be written in place. Matmul passes its operands as they are and
//   runs the compiler's GEMM (compiler/gemm_lowering.h: transposes, bf16 rounding, batches,
//   accumulation and the output dtype on the chip), its programs cached by kernel
//   (gemm_programs()); the elementwise passes' programs are cached by plan
//   (elementwise_programs()) and the other kernels' by builder and arguments (programs()).
//   Operand addresses are part of those keys: a training step allocates its tensors at the
//   same addresses every step, so its programs repeat.
// - The simulated time and statistics of every launch are the runtime's totals (totals,
//   summary, runtime/run_report.h). Each launch also costs the chip's launch overhead.
// - A preset's parameters can be overridden before its backend is first used
//   (set_chip_overrides, `tessera train --set`).
// - Kernels run on the chip (supports() says exactly these): matmul (f32 or bf16: bf16 inputs,
//   f32 accumulation on the matrix engine); in f32 and bf16 (bf16 tiles loaded as they are and
//   widened by vconvert on the chip, bf16 results rounded by vconvert): copy, fill, affine, binary (any
//   broadcast; a row-broadcast or scalar b is read once per tile, other broadcasts are staged
//   expanded), unary, unary_backward (relu, gelu), reduce (sum, max), softmax, log_softmax and
//   layer_norm with their backwards (whole rows per tile; layer_norm_backward's weight and bias
//   gradients are column sums by reduce_program), sgd_momentum, scatter_along, sum_squares
//   (a compensated double-f32 sum, sum_squares_program.h) and its multi-tensor sum_squares_many,
//   scale_many (chip_kernels_foreach.cpp), dropout_mask (vrandom draws at
//   base/random.h's counters, compared with p on the chip) and the fused bias_gelu with its
//   backward (chip_kernels_fused.cpp); and in f32: adamw and its multi-tensor adamw_many
//   (bias corrections computed on the host and loaded as constants), cross_entropy with its
//   backward (one tile holds whole rows, so the vocabulary must fit the scratchpad; the target
//   logit is a vgather and the one-hot a vscatter_add at host-computed, tile-relative row
//   offsets) and reduce_max (whole rows too: the first arg-max is the max of is_max * (n - j)).
//   A whole row that cannot fit the scratchpad is an error naming the kernel and the bytes.
//   Also attention with its backward (f32 and bf16, flash-style, chip_kernels_attention.cpp),
//   conv2d, max_pool2d and embedding with their backwards (f32 and bf16), and the fused
//   add_layer_norm with its backward (f32, chip_kernels_fused.cpp). Called
//   directly, the other kernels run the reference loops on the host, as the CPU fallback would.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arch/chip.h"
#include "compiler/elementwise_cache.h"
#include "compiler/gemm_cache.h"
#include "compiler/program_cache.h"
#include "compiler/tile_program.h"
#include "backends/cpu/reference_backend.h"
#include "isa/isa.h"
#include "runtime/device.h"
#include "runtime/launch.h"

namespace tessera {

// What the launches so far took on the simulated chip.
struct ChipTotals {
  int64_t launches = 0;
  double seconds = 0;          // simulated, launch overheads included
  double flops = 0;
  int64_t hbm_bytes = 0;       // read + written by the programs
  int64_t staged_bytes = 0;    // copied into and out of the launches' workspace
  std::map<std::string, double> seconds_by_kernel;
};

class ChipBackend : public ReferenceBackend {
 public:
  explicit ChipBackend(const std::string& preset);
  // A backend of its own for `preset` with `overrides` ("key=value", arch/chip_loader.h),
  // outside the registry.
  ChipBackend(const std::string& preset, const std::vector<std::string>& overrides);
  std::string name() const override;
  bool supports(Kernel kernel, DType dtype) const override;
  std::shared_ptr<void> allocate(size_t bytes) override;

  void copy(const View& src, const View& dst) override;
  void fill(const View& dst, double value) override;
  void binary(BinaryOp op, const View& a, const View& b, const View& out) override;
  void unary(UnaryOp op, const View& x, const View& out) override;
  void unary_backward(UnaryOp op, const View& x, const View& grad_out, const View& grad_in) override;
  void affine(const View& x, const View& out, float scale, float shift) override;
  void reduce(ReduceOp op, const View& x, const View& out, int64_t outer, int64_t n, int64_t inner) override;
  void matmul(const View& a, const View& b, const View& out, const MatmulArgs& args) override;
  void reduce_max(const View& x, const View& out, const View& indices, int64_t outer, int64_t n,
                  int64_t inner) override;
  void cross_entropy(const View& logits, const View& targets, const View& losses, const View& lse) override;
  void cross_entropy_backward(const View& logits, const View& targets, const View& lse, const View& dlosses,
                              const View& dlogits) override;
  void adamw(const View& param, const View& grad, const View& m, const View& v, const AdamWArgs& args) override;
  // Causal attention (f32 or bf16): flash-style programs, compiler/attention_program.h.
  void attention(const View& q, const View& k, const View& v, const View& out, const View& lse, float scale) override;
  void attention_backward(const View& q, const View& k, const View& v, const View& out, const View& lse,
                          const View& dout, const View& dq, const View& dk, const View& dv, float scale) override;
  void conv2d(const View& x, const View& weight, const View& bias, const View& y, const Conv2dArgs& args) override;
  void conv2d_backward(const View& x, const View& weight, const View& dy, const View& dx, const View& dweight,
                       const View& dbias, const Conv2dArgs& args) override;
  void max_pool2d(const View& x, const View& y, const View& indices, int64_t kernel, int64_t stride) override;
  void max_pool2d_backward(const View& dy, const View& indices, const View& dx) override;
  void embedding(const View& ids, const View& table, const View& out) override;
  void embedding_backward(const View& ids, const View& dout, const View& dtable) override;
  // chip_kernels_fused.cpp
  void bias_gelu(const View& x, const View& bias, const View& y) override;
  void bias_gelu_backward(const View& x, const View& bias, const View& dy, const View& dx, const View& dbias) override;
  void add_layer_norm(const View& x, const View& r, const View& weight, const View& bias, const View& s,
                      const View& y, const View& mean, const View& rstd, float eps) override;
  void add_layer_norm_backward(const View& dy, const View& ds, const View& s, const View& weight, const View& mean,
                               const View& rstd, const View& dx, const View& dweight, const View& dbias) override;
  // Row-wise, reduction and optimizer kernels, f32 and bf16 (chip_kernels_rowops.cpp).
  void scatter_along(const View& values, const View& indices, const View& out, int64_t outer, int64_t n,
                     int64_t inner) override;
  void softmax(const View& x, const View& y) override;
  void softmax_backward(const View& y, const View& dy, const View& dx) override;
  void log_softmax(const View& x, const View& y) override;
  void log_softmax_backward(const View& y, const View& dy, const View& dx) override;
  void layer_norm(const View& x, const View& weight, const View& bias, const View& y, const View& mean,
                  const View& rstd, float eps) override;
  void layer_norm_backward(const View& dy, const View& x, const View& weight, const View& mean, const View& rstd,
                           const View& dx, const View& dweight, const View& dbias) override;
  void sgd_momentum(const View& param, const View& grad, const View& velocity, float lr, float momentum,
                    float weight_decay) override;
  double sum_squares(const View& x) override;
  // Multi-tensor kernels, one launch for the list (chip_kernels_foreach.cpp): the sum of squares
  // of every view by one sum_squares_program over all of them; scale_many as one elementwise
  // program over the views as segments of one row (one launch per dtype among them);
  // adamw_many as adamw's program over the tensors as segments (one launch per distinct
  // AdamWArgs). Every view is read and written where it lies.
  double sum_squares_many(std::span<const View> xs) override;
  void scale_many(std::span<const View> xs, std::span<const View> outs, float factor) override;
  void adamw_many(std::span<const View> params, std::span<const View> grads, std::span<const View> ms,
                  std::span<const View> vs, std::span<const AdamWArgs> args) override;
  // vrandom draws, compared with p on the vector engine (chip_kernels_dropout.cpp).
  void dropout_mask(const View& mask, float p, uint64_t seed, uint64_t counter) override;

  const arch::ChipSpec& chip() const { return device_->chip(); }
  runtime::Device& device() { return *device_; }
  const compiler::GemmProgramCache& gemm_programs() const { return gemm_programs_; }
  const compiler::ElementwiseProgramCache& elementwise_programs() const { return elementwise_programs_; }
  // The programs of the other kernels (attention, conv, pooling, embedding, reduce, scatter_along).
  const compiler::ProgramCache& programs() const { return programs_; }
  ChipTotals totals() const;
  double simulated_seconds() const { return totals().seconds; }
  void reset_totals();
  // Launches, simulated time, achieved FLOP/s and HBM traffic, and the time per kernel.
  std::string summary() const;

 private:
  class Launch;  // one kernel launch: lock, operands, run, copy-back (chip_launch.h)
  // How a launch uses bytes of HBM that it takes in place.
  enum class Use { Read, Write, Update };
  // The HBM of one launch: its workspace, placed downwards from the top of the HBM and above
  // every allocation (floor), and the byte ranges it uses in place.
  struct Staging {
    struct Range {
      int64_t start = 0, end = 0;
      Use use = Use::Read;
    };
    int64_t next = 0, floor = 0;
    std::vector<Range> in_place;
  };
  Staging new_staging() const;
  // The HBM address of [host, host + bytes) when it lies in this chip's HBM, else nothing.
  std::optional<int64_t> hbm_address(const void* host, int64_t bytes) const;
  // The HBM address of [host, host + bytes) for a launch to use in place as `use`, recorded; or
  // nothing when the bytes are not in HBM or overlap bytes used in place in a way that
  // conflicts (anything with an update, reads with writes).
  std::optional<int64_t> in_place(Staging& hbm, const void* host, int64_t bytes, Use use);
  // Makes the bytes [start, end), read in place, updated in place instead; false when they are
  // not one range read in place or another range overlaps them.
  bool read_becomes_update(Staging& hbm, int64_t start, int64_t end);
  // Reads operands in place where it can, else stages them (copies into the workspace).
  int64_t stage(Staging& hbm, const void* host, int64_t bytes);
  int64_t place_staged(Staging& hbm, int64_t bytes);  // room in the workspace
  void write_staged(int64_t hbm_addr, const void* host, int64_t bytes);
  void write_staged_as(int64_t hbm_addr, const View& v, DType dtype);  // v packed row-major, as dtype
  int64_t stage_f32(Staging& hbm, const View& v);  // packed row-major, as f32
  void fetch(void* host, int64_t hbm_addr, int64_t bytes);
  int64_t stage_as(Staging& hbm, const View& v, DType dtype);      // packed row-major, as dtype
  void fetch_as(const View& dst, int64_t hbm_addr, DType dtype);  // a packed dtype array into dst
  // Cross-entropy plans' slots 1 and 2 (Col): each row's target as an i32 index into its tile
  // (a target < 0, an ignored row, points at the row's start) and 1 or 0 for whether it counts.
  void stage_targets(Launch& launch, compiler::ElementwisePlan& p, const View& targets);
  // accs[k] (cols, one dtype) += the column sums of array k of the f32 (accs.size(), rows, cols)
  // at addr, on the chip: the accumulators packed end to end, one reduction that adds into them
  // as it stores.
  void add_column_sums(Launch& launch, int64_t addr, int64_t rows, int64_t cols, std::span<const View> accs);
  // Runs reduce_program (compiler/tile_program.h) in `launch`, its program from programs_.
  void run_reduce(Launch& launch, isa::ReduceFn fn, int64_t x_addr, int64_t out_addr, int64_t outer, int64_t n,
                  int64_t inner, DType x_dtype = DType::F32, DType out_dtype = DType::F32, bool accumulate = false);
  // Launches a program on the device's default stream, named by the kernel (its fingerprint
  // given when it comes from a program cache).
  void run(Kernel kernel, const isa::Program& program, const runtime::KernelArguments& arguments = {},
           const std::optional<sim::ProgramFingerprint>& fingerprint = std::nullopt);
  // An operand as a plan input: a narrower float packed in its own dtype (the program widens it
  // on the chip), anything else through stage_f32.
  compiler::ElementwisePlan::Input stage_input(Staging& hbm, const View& v, compiler::ElementwisePlan::Layout layout);
  // A result stored in dst's dtype, packed row-major, into `dst` (any strides).
  void fetch_as_is(const View& dst, int64_t hbm_addr);
  // The elements of v (any dtype and strides), as they are, in row-major order of its shape.
  static void pack_as_is(const View& v, uint8_t* out);
  // The "cannot run" error of a whole-row kernel whose single row does not fit the scratchpad.
  void require_rows_fit(Kernel kernel, const compiler::ElementwisePlan& plan, DType dtype) const;

  ChipBackend(std::string preset, std::shared_ptr<runtime::Device> device);

  std::string preset_;
  std::shared_ptr<runtime::Device> device_;  // shared with the deleters of allocations
  // One launch at a time (the simulator's memories are shared), and no allocation during one
  // (its workspace lies above every allocation).
  std::mutex launch_mutex_;
  bool check_operands_ = false;  // TESSERA_CHECK_OPERANDS (chip_launch.h)
  mutable std::mutex staged_mutex_;
  int64_t staged_bytes_ = 0;
  compiler::GemmProgramCache gemm_programs_;
  compiler::ElementwiseProgramCache elementwise_programs_;
  compiler::ProgramCache programs_;
};

// Overrides ("key=value", arch/chip_loader.h) for the chip behind `device` ("chip:<preset>"),
// applied when its backend is created; an Error when the device is no chip preset or its
// backend is already in use.
void set_chip_overrides(const std::string& device, const std::vector<std::string>& overrides);

// The chip backend behind a device name, or nullptr when the device is no chip.
ChipBackend* chip_backend(const std::string& device);

}  // namespace tessera
