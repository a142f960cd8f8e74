// The chip backend's program caches over training steps on one batch (what `tessera bench`
// runs): after the first step every program of gpt-mini and of the CNN comes from a cache; no
// program builder runs again.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/chip/chip_backend.h"
#include "base/random.h"
#include "nn/model.h"
#include "nn/optimizer.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace tessera {
namespace {

struct CacheCounts {
  int64_t misses = 0, hits = 0;  // of all three program caches
  int64_t other_misses = 0, other_hits = 0;  // of programs(): attention, conv, pooling, embedding, ...
};

CacheCounts counts(const ChipBackend& chip) {
  const compiler::ProgramCache& other = chip.programs();
  return {other.misses() + chip.gemm_programs().misses() + chip.elementwise_programs().misses(),
          other.hits() + chip.gemm_programs().hits() + chip.elementwise_programs().hits(), other.misses(),
          other.hits()};
}

// Trains `model` for `steps` steps on one synthetic batch on chip:t1; `after_step` sees each
// step's counts and loss.
void train_on_one_batch(const std::string& model_name, int64_t batch, int64_t seq, int steps,
                        const std::function<void(int step, const CacheCounts&, float loss)>& after_step) {
  const std::string device = "chip:t1";
  ModelOptions mo;
  mo.device = device;
  mo.vocab_size = 73;
  std::unique_ptr<Model> model = create_model(model_name, mo);
  Generator gen{7, 0};
  Tensor inputs, targets;
  if (model->input_kind() == InputKind::Tokens) {
    std::vector<int64_t> ids(static_cast<size_t>(batch * (seq + 1)));
    for (auto& id : ids) id = static_cast<int64_t>(random_bits(gen.seed, gen.take(1)) % 73);
    inputs = Tensor::from_ints(std::vector<int64_t>(ids.begin(), ids.begin() + batch * seq), {batch, seq},
                               DType::I64, device);
    targets = Tensor::from_ints(std::vector<int64_t>(ids.begin() + batch, ids.end()), {batch * seq}, DType::I64,
                                device);
  } else {
    inputs = Tensor::uniform({batch, 1, 28, 28}, gen, 0.0f, 1.0f, DType::F32, device);
    std::vector<int64_t> labels(static_cast<size_t>(batch));
    for (auto& l : labels) l = static_cast<int64_t>(random_bits(gen.seed, gen.take(1)) % 10);
    targets = Tensor::from_ints(labels, {batch}, DType::I64, device);
  }
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  ChipBackend& chip = *chip_backend(device);
  // Strict dispatch: a kernel the chip lacks is an error, not a CPU fallback.
  struct StrictDispatch {
    StrictDispatch() { set_strict_dispatch(true); }
    ~StrictDispatch() { set_strict_dispatch(false); }
  } strict;
  for (int step = 0; step < steps; ++step) {
    Tensor logits = model->forward(inputs);
    Tensor loss = cross_entropy(reshape(logits, {-1, logits.size(-1)}), targets);
    loss.backward();
    optimizer.step();
    optimizer.zero_grad();
    float value = loss.item();  // waits for the step
    after_step(step, counts(chip), value);
  }
}

TEST(ChipProgramCache, AfterTheFirstStepNoProgramIsBuiltAgain) {
  struct Run {
    const char* model;
    int64_t batch, seq;
  };
  for (const Run& run : {Run{"gpt-mini", 2, 32}, Run{"cnn", 16, 0}}) {
    SCOPED_TRACE(run.model);
    CacheCounts before = counts(*chip_backend("chip:t1")), first, previous;
    std::vector<float> losses;
    train_on_one_batch(run.model, run.batch, run.seq, 3, [&](int step, const CacheCounts& c, float loss) {
      losses.push_back(loss);
      if (step == 0) {
        first = previous = c;
        EXPECT_GT(c.other_misses, before.other_misses);  // the model's kernels do use programs()
        return;
      }
      EXPECT_EQ(c.misses, first.misses) << "a program was built again in step " << step + 1;
      // Every launch of such a kernel hits: as many as the first step's misses and hits.
      EXPECT_EQ(c.other_hits - previous.other_hits, first.other_misses + first.other_hits - before.other_misses -
                                                        before.other_hits);
      previous = c;
    });
    EXPECT_LT(losses.back(), losses.front());  // it learns the batch
  }
}

}  // namespace
}  // namespace tessera
