// `tessera eval`: loss and accuracy of a checkpoint on its dataset's evaluation split.
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "cli/chip_run_monitor.h"
#include "cli/command.h"
#include "tensor/ops.h"
#include "train/saved_model.h"
#include "train/trainer.h"

namespace tessera::cli {

namespace {

const CommandRegistrar kEval("eval", "evaluate a checkpoint (loss, accuracy)", [](CLI::App& app) {
  struct Options {
    std::string checkpoint, device = "cpu", data_dir = "data", text, trace;
    int64_t batch = 8, batches = 0;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--checkpoint", o->checkpoint, "checkpoint directory or folder")->required();
  app.add_option("--device", o->device, "backend")->capture_default_str();
  app.add_option("--batch", o->batch, "examples per batch")->capture_default_str();
  app.add_option("--batches", o->batches, "evaluation batches (0 = all)")->capture_default_str();
  app.add_option("--data-dir", o->data_dir, "cache of prepared token files")->capture_default_str();
  app.add_option("--trace", o->trace, "write a Chrome/Perfetto trace of the last batch (chip devices)");
  app.add_option("--text", o->text, "instead of the dataset: the loss of predicting this text's tokens (GPT)");
  return [o] {
    SavedModel saved = load_saved_model(o->checkpoint, o->device);
    if (!o->text.empty()) {
      if (!saved.tokenizer) fail("--text needs a GPT checkpoint; '{}' holds a {} model", o->checkpoint, saved.state.at("model").get<std::string>());
      std::vector<int32_t> ids = saved.tokenizer->encode(o->text);
      if (ids.size() < 2) fail("--text must have at least 2 tokens, got {}", ids.size());
      std::vector<int64_t> inputs(ids.begin(), ids.end() - 1), targets(ids.begin() + 1, ids.end());
      int64_t T = static_cast<int64_t>(inputs.size());
      NoGradGuard no_grad;
      Tensor logits = saved.model->forward(Tensor::from_ints(inputs, {1, T}, DType::I64, o->device));
      float loss = cross_entropy(reshape(logits, {T, -1}), Tensor::from_ints(targets, {T}, DType::I64, o->device)).item();
      std::string ids_text;
      for (size_t i = 0; i < ids.size(); ++i) ids_text += (i ? "," : "") + std::to_string(ids[i]);
      std::printf("tokens %s\nloss %.6f over %lld predictions\n", ids_text.c_str(), loss, static_cast<long long>(T));
      return;
    }
    DataOptions data;
    data.dataset = saved.state.at("dataset").get<std::string>();
    data.seq = saved.state.value("seq", int64_t{64});
    data.batch = o->batch;
    data.device = o->device;
    data.data_dir = o->data_dir;
    if (saved.tokenizer) data.tokenizer = saved.state["tokenizer"].at("kind").get<std::string>();
    auto dataset = open_training_data(data, saved.state.value("tokenizer", nlohmann::json()));
    std::unique_ptr<ChipRunMonitor> monitor = ChipRunMonitor::attach(o->device, o->trace);
    int64_t batches = o->batches > 0 ? std::min(o->batches, dataset->eval_batch_count()) : dataset->eval_batch_count();
    StepHooks hooks;
    if (monitor) hooks = monitor->hooks(batches - 1);
    EvalResult r = evaluate(*saved.model, *dataset, o->batches, monitor ? &hooks : nullptr);
    std::printf("%s: %s\n", saved.folder.c_str(), saved.model->describe().c_str());
    std::printf("eval loss %.4f, accuracy %.2f %% over %lld %s", r.loss, 100.0 * r.accuracy,
                static_cast<long long>(r.items), dataset->item_unit());
    if (saved.tokenizer) std::printf(", perplexity %.2f", std::exp(r.loss));
    std::printf("\n");
    if (monitor) monitor->print(dataset->item_unit(), true);
  };
});

}  // namespace

}  // namespace tessera::cli
