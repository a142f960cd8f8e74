// Rebuilding a model from a checkpoint, and text generation (see saved_model.h).
#include "train/saved_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "tensor/ops.h"
#include "train/checkpoint.h"

namespace tessera {

SavedModel load_saved_model(const std::string& path, const std::string& device) {
  SavedModel saved;
  if (std::filesystem::exists(path + "/latest")) {
    saved.folder = *latest_checkpoint(path);
  } else if (std::filesystem::exists(path + "/model.safetensors")) {
    saved.folder = path;
  } else {
    fail("'{}' is neither a checkpoint directory (no 'latest' file) nor a checkpoint folder (no model.safetensors)", path);
  }
  saved.state = read_trainer_state(saved.folder);
  ModelOptions options;
  options.device = device;
  if (saved.state.contains("tokenizer")) {
    saved.tokenizer = tokenizer_from_json(saved.state["tokenizer"]);
    options.vocab_size = saved.tokenizer->vocab_size();
  }
  saved.model = create_model(saved.state.at("model").get<std::string>(), options);
  load_checkpoint(saved.folder, *saved.model, nullptr);
  saved.model->train(false);
  return saved;
}

std::vector<int32_t> generate(Model& model, std::vector<int32_t> ids, int64_t count, float temperature,
                              int64_t top_k, uint64_t seed, int64_t block_size) {
  if (!(temperature > 0.0f)) fail("--temperature must be positive, got {}", temperature);
  if (ids.empty()) fail("generation needs a prompt of at least one token");
  NoGradGuard no_grad;
  Generator gen{seed, 0};
  std::vector<int32_t> generated;
  for (int64_t i = 0; i < count; ++i) {
    int64_t start = std::max<int64_t>(0, static_cast<int64_t>(ids.size()) - block_size);
    std::vector<int64_t> window(ids.begin() + start, ids.end());
    int64_t T = static_cast<int64_t>(window.size());
    Tensor logits = model.forward(Tensor::from_ints(window, {1, T}, DType::I64, model.parameters()[0].device()));
    std::vector<float> last = slice(reshape(logits, {T, -1}), 0, T - 1, T).to_floats();
    std::vector<int32_t> order(last.size());
    for (size_t v = 0; v < order.size(); ++v) order[v] = static_cast<int32_t>(v);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return last[a] > last[b] || (last[a] == last[b] && a < b); });
    size_t keep = top_k > 0 ? std::min<size_t>(static_cast<size_t>(top_k), order.size()) : order.size();
    std::vector<double> weights(keep);
    double total = 0.0;
    for (size_t j = 0; j < keep; ++j) total += weights[j] = std::exp((last[order[j]] - last[order[0]]) / temperature);
    double pick = random_uniform(gen.seed, gen.take(1)) * total;
    size_t chosen = 0;
    for (double acc = weights[0]; acc < pick && chosen + 1 < keep; acc += weights[++chosen]) {
    }
    ids.push_back(order[chosen]);
    generated.push_back(order[chosen]);
  }
  return generated;
}

}  // namespace tessera
