// Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes) read from the Debian
// package dataset-fashion-mnist, which installs the four original gzip IDX files.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistClasses = 10;
inline constexpr int64_t kFashionMnistPixels = 28 * 28;
// Mean and standard deviation of all training pixels after scaling to [0, 1] (computed over
// the 60000 training images; the test checks them). Normalising maps x to (x - mean) / std.
inline constexpr float kFashionMnistMean = 0.2860f;
inline constexpr float kFashionMnistStd = 0.3530f;

enum class Split { Train, Test };

struct ImageDataset {
  int64_t count = 0;            // N
  int64_t pixels = 0;           // rows * cols
  std::vector<float> images;    // (N, pixels), row-major pixels
  std::vector<int64_t> labels;  // (N), each in [0, kFashionMnistClasses)
};

// Loads one split (train: 60000 images, test: 10000) from `dir`. Pixels are scaled to [0, 1];
// with `normalize`, also standardised with kFashionMnistMean / kFashionMnistStd. A missing
// file is an Error naming its path and the Debian package to install.
ImageDataset load_fashion_mnist(Split split, bool normalize = false,
                                const std::string& dir = kFashionMnistDir);

struct ImageBatch {
  int64_t size = 0;             // B
  std::vector<float> images;    // (B, pixels)
  std::vector<int64_t> labels;  // (B)
};

// Copies the examples at `indices` (each in [0, N)) into one batch.
ImageBatch gather_images(const ImageDataset& dataset, std::span<const int64_t> indices);

}  // namespace tessera
