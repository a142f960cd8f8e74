// Fashion-MNIST loading (see fashion_mnist.h).
#include "data/fashion_mnist.h"

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "data/idx.h"

namespace tessera {
namespace {

std::string require_file(const std::string& dir, const char* name) {
  std::string path = (std::filesystem::path(dir) / name).string();
  if (!std::filesystem::exists(path)) {
    fail(
        "Fashion-MNIST file {} not found: install the Debian package dataset-fashion-mnist "
        "(apt-get install dataset-fashion-mnist)",
        path);
  }
  return path;
}

}  // namespace

ImageDataset load_fashion_mnist(Split split, bool normalize, const std::string& dir) {
  bool train = split == Split::Train;
  std::string images_path =
      require_file(dir, train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz");
  std::string labels_path =
      require_file(dir, train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz");

  IdxArray images = read_idx_gz(images_path, 3);  // (N, 28, 28)
  IdxArray labels = read_idx_gz(labels_path, 1);  // (N)
  if (images.dims[1] * images.dims[2] != kFashionMnistPixels) {
    fail("Fashion-MNIST file {}: images are {}x{}, expected 28x28", images_path, images.dims[1],
         images.dims[2]);
  }
  if (images.dims[0] != labels.dims[0]) {
    fail("Fashion-MNIST files {} and {}: {} images but {} labels", images_path, labels_path,
         images.dims[0], labels.dims[0]);
  }

  ImageDataset dataset;
  dataset.count = images.dims[0];
  dataset.pixels = kFashionMnistPixels;
  float scale = 1.0f / 255.0f, shift = 0.0f;
  if (normalize) {  // (x / 255 - mean) / std
    scale /= kFashionMnistStd;
    shift = -kFashionMnistMean / kFashionMnistStd;
  }
  dataset.images.resize(images.data.size());
  for (size_t i = 0; i < images.data.size(); ++i) {
    dataset.images[i] = static_cast<float>(images.data[i]) * scale + shift;
  }
  dataset.labels.resize(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kFashionMnistClasses) {
      fail("Fashion-MNIST file {}: label {} at index {} is not a class in [0, {})", labels_path,
           labels.data[i], i, kFashionMnistClasses);
    }
    dataset.labels[i] = labels.data[i];
  }
  return dataset;
}

ImageBatch gather_images(const ImageDataset& dataset, std::span<const int64_t> indices) {
  ImageBatch batch;
  batch.size = static_cast<int64_t>(indices.size());
  batch.images.resize(indices.size() * dataset.pixels);
  batch.labels.resize(indices.size());
  for (size_t b = 0; b < indices.size(); ++b) {
    int64_t index = indices[b];
    TS_ASSERT(index >= 0 && index < dataset.count);
    std::copy_n(dataset.images.begin() + index * dataset.pixels, dataset.pixels,
                batch.images.begin() + b * dataset.pixels);
    batch.labels[b] = dataset.labels[index];
  }
  return batch;
}

}  // namespace tessera
