// Fashion-MNIST from the Debian package: sizes, class balance, scaling, normalisation constants,
// the missing-file message, and batch gathering.
#include "data/fashion_mnist.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

std::array<int64_t, kFashionMnistClasses> histogram(const ImageDataset& dataset) {
  std::array<int64_t, kFashionMnistClasses> counts{};
  for (int64_t label : dataset.labels) ++counts.at(label);
  return counts;
}

TEST(FashionMnist, TrainSplitLoadsBalancedAndScaled) {
  ImageDataset train = load_fashion_mnist(Split::Train);
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(train.pixels, 784);
  ASSERT_EQ(train.images.size(), 60000u * 784u);
  ASSERT_EQ(train.labels.size(), 60000u);
  for (int64_t count : histogram(train)) EXPECT_EQ(count, 6000);

  double sum = 0, sum_sq = 0;
  float low = 1, high = 0;
  for (float x : train.images) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
    low = std::min(low, x);
    high = std::max(high, x);
  }
  EXPECT_EQ(low, 0.0f);
  EXPECT_EQ(high, 1.0f);
  double mean = sum / train.images.size();
  double std_dev = std::sqrt(sum_sq / train.images.size() - mean * mean);
  EXPECT_NEAR(mean, kFashionMnistMean, 5e-5);
  EXPECT_NEAR(std_dev, kFashionMnistStd, 5e-5);
}

TEST(FashionMnist, TestSplitLoadsBalanced) {
  ImageDataset test = load_fashion_mnist(Split::Test);
  EXPECT_EQ(test.count, 10000);
  for (int64_t count : histogram(test)) EXPECT_EQ(count, 1000);
  // The first test image is an ankle boot (class 9), as in the original release.
  EXPECT_EQ(test.labels[0], 9);
}

TEST(FashionMnist, NormalizedIsAffineMapOfScaled) {
  ImageDataset scaled = load_fashion_mnist(Split::Test);
  ImageDataset normalized = load_fashion_mnist(Split::Test, /*normalize=*/true);
  ASSERT_EQ(scaled.images.size(), normalized.images.size());
  for (size_t i = 0; i < scaled.images.size(); i += 997) {
    EXPECT_NEAR(normalized.images[i], (scaled.images[i] - kFashionMnistMean) / kFashionMnistStd,
                1e-5);
  }
  EXPECT_EQ(normalized.labels, scaled.labels);
}

TEST(FashionMnist, MissingFilesNameThePackage) {
  std::string dir = testing::fresh_dir("fashion_missing").string();
  EXPECT_ERROR_WITH(load_fashion_mnist(Split::Train, false, dir),
                    "train-images-idx3-ubyte.gz not found",
                    "apt-get install dataset-fashion-mnist");
}

TEST(FashionMnist, GatherCopiesRowsAndLabels) {
  ImageDataset dataset;
  dataset.count = 3;
  dataset.pixels = 2;
  dataset.images = {0, 1, 10, 11, 20, 21};  // (3, 2)
  dataset.labels = {4, 5, 6};
  std::vector<int64_t> indices = {2, 0, 2};
  ImageBatch batch = gather_images(dataset, indices);
  EXPECT_EQ(batch.size, 3);
  EXPECT_EQ(batch.images, (std::vector<float>{20, 21, 0, 1, 20, 21}));
  EXPECT_EQ(batch.labels, (std::vector<int64_t>{6, 4, 6}));
}

}  // namespace
}  // namespace tessera
