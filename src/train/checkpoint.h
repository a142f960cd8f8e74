// Checkpoints. A checkpoint is a folder step-NNNNNNNN/ inside the checkpoint directory with:
//   model.safetensors    the weights, named as the model's parameters (for GPT models: the
//                        Hugging Face GPT-2 names and layout, so PyTorch code loads them)
//   trainer.safetensors  the optimiser state tensors, and in its metadata the step, the
//                        generator and data positions, the options and the tokenizer (JSON)
// Each file is written atomically (temporary file, fsync, rename); the folder is complete
// before the file `latest` (written atomically too) names it. Loading checks every tensor's
// name, dtype and shape before copying anything into the model, so a truncated or corrupted
// checkpoint is refused whole, with an error naming the file.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "nn/model.h"
#include "nn/optimizer.h"

namespace tessera {

// Writes step-NNNNNNNN/ and points `latest` at it; keeps the two most recent checkpoints.
// Returns the folder written.
std::string save_checkpoint(const std::string& dir, int64_t step, const Model& model,
                            const Optimizer& optimizer, const nlohmann::json& trainer_state);

// The folder named by `dir`/latest, or nullopt when there is none (Error if it is unreadable
// or names a missing folder).
std::optional<std::string> latest_checkpoint(const std::string& dir);

// The trainer state JSON stored in a checkpoint folder (validated).
nlohmann::json read_trainer_state(const std::string& folder);

// Loads weights (and, when given, the optimiser state) from a checkpoint folder.
void load_checkpoint(const std::string& folder, Model& model, Optimizer* optimizer);

// Loads weights from a safetensors file into the model. Accepts the Hugging Face GPT-2
// naming (optionally prefixed "transformer.", with lm_head.weight and the attn.bias /
// attn.masked_bias buffers ignored). Every parameter must be present with its exact shape.
void load_weights(const std::string& path, Model& model);
// Writes the model's parameters to a safetensors file.
void save_weights(const std::string& path, const Model& model);

}  // namespace tessera
