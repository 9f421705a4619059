// Tests of the centre crop + area resize: hand-derived taps and pixels, a brute-force box filter
// written from the definition, the float path, bad inputs, and the gaze crop mapping.
#include "egom2p/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace egom2p {
namespace {

// Overlap length of output pixel o ([o*src, (o+1)*src)) and source pixel s ([s*dst, (s+1)*dst)),
// computed directly from the definition (no taps).
int64_t Overlap(int64_t o, int64_t s, int64_t src, int64_t dst) {
  const int64_t lo = std::max(o * src, s * dst);
  const int64_t hi = std::min((o + 1) * src, (s + 1) * dst);
  return std::max<int64_t>(hi - lo, 0);
}

// Brute-force uint8 reference: every output pixel sums every crop pixel with its 2-D weight.
std::vector<uint8_t> BruteForceU8(const std::vector<uint8_t>& img, int h, int w, int ch, int size) {
  const int c = std::min(h, w), top = (h - c) / 2, left = (w - c) / 2;
  std::vector<uint8_t> out(static_cast<size_t>(size) * size * ch);
  for (int oy = 0; oy < size; ++oy)
    for (int ox = 0; ox < size; ++ox)
      for (int k = 0; k < ch; ++k) {
        int64_t acc = 0;
        for (int sy = 0; sy < c; ++sy)
          for (int sx = 0; sx < c; ++sx)
            acc += Overlap(oy, sy, c, size) * Overlap(ox, sx, c, size) *
                   img[((top + sy) * w + left + sx) * ch + k];
        const int64_t area = int64_t{c} * c;
        out[(oy * size + ox) * ch + k] = static_cast<uint8_t>((acc + area / 2) / area);
      }
  return out;
}

std::vector<uint8_t> Resize(const std::vector<uint8_t>& img, int h, int w, int ch, int size) {
  auto r = CenterCropResizer::Create(h, w, ch, size);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<uint8_t> out(r.value().output_elements());
  Status s = r.value().ResizeU8(img.data(), img.size(), out.data(), out.size());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(CropBox, CentredSquare) {
  auto landscape = ComputeCropBox(480, 640);
  ASSERT_TRUE(landscape.ok());
  EXPECT_EQ(landscape.value().top, 0);
  EXPECT_EQ(landscape.value().left, 80);
  EXPECT_EQ(landscape.value().side, 480);
  auto odd = ComputeCropBox(7, 4);  // (7 - 4) / 2 = 1
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd.value().top, 1);
  EXPECT_EQ(odd.value().left, 0);
  EXPECT_EQ(odd.value().side, 4);
  EXPECT_FALSE(ComputeCropBox(0, 5).ok());
  auto tight = ComputeCropBox(504, 896, 480);  // EgoM2P's HoloAssist crop
  ASSERT_TRUE(tight.ok());
  EXPECT_EQ(tight.value().top, 12);
  EXPECT_EQ(tight.value().left, 208);
  EXPECT_EQ(tight.value().side, 480);
  EXPECT_FALSE(ComputeCropBox(504, 896, 505).ok());
  EXPECT_FALSE(ComputeCropBox(504, 896, -1).ok());
}

TEST(AreaTaps, ThreeToTwoByHand) {
  // Scaled axis of length 6: outputs [0,3) [3,6); sources [0,2) [2,4) [4,6).
  auto r = ComputeAreaTaps(3, 2);
  ASSERT_TRUE(r.ok());
  const AreaTaps& t = r.value();
  ASSERT_EQ(t.taps_per_output, 2);
  EXPECT_EQ(t.index, (std::vector<int32_t>{0, 1, 1, 2}));
  EXPECT_EQ(t.weight, (std::vector<int64_t>{2, 1, 1, 2}));
}

TEST(AreaTaps, WeightsSumToSourceSizeAndIndicesStayInRange) {
  for (int src = 1; src <= 40; ++src)
    for (int dst = 1; dst <= 40; ++dst) {
      auto r = ComputeAreaTaps(src, dst);
      ASSERT_TRUE(r.ok());
      const AreaTaps& t = r.value();
      for (int i = 0; i < dst; ++i) {
        int64_t sum = 0;
        for (int k = 0; k < t.taps_per_output; ++k) {
          sum += t.weight[i * t.taps_per_output + k];
          ASSERT_GE(t.index[i * t.taps_per_output + k], 0);
          ASSERT_LT(t.index[i * t.taps_per_output + k], src);
        }
        ASSERT_EQ(sum, src) << src << "->" << dst << " output " << i;
      }
    }
  EXPECT_FALSE(ComputeAreaTaps(0, 3).ok());
}

TEST(CenterCropResize, TwoByTwoBlocksRoundHalfUp) {
  // 4x4 -> 2x2: each output is the mean of a 2x2 block, rounded half up.
  const std::vector<uint8_t> img = {0, 0, 1, 1,  //
                                    0, 1, 1, 2,  //
                                    0, 0, 2, 2,  //
                                    0, 1, 1, 2};
  // Blocks: {0,0,0,1}=0.25->0, {1,1,1,2}=1.25->1, {0,0,0,1}->0, {2,2,1,2}=1.75->2.
  EXPECT_EQ(Resize(img, 4, 4, 1, 2), (std::vector<uint8_t>{0, 1, 0, 2}));
  const std::vector<uint8_t> half = {0, 0, 1, 1};  // mean 0.5 rounds up
  EXPECT_EQ(Resize(half, 2, 2, 1, 1), (std::vector<uint8_t>{1}));
}

TEST(CenterCropResize, UpscaleBlendsNeighbours) {
  // 2 -> 3: output 1 straddles both sources equally: (0 + 255) / 2 = 127.5 -> 128.
  const std::vector<uint8_t> img = {0, 255, 0, 255};
  EXPECT_EQ(Resize(img, 2, 2, 1, 3), (std::vector<uint8_t>{0, 128, 255, 0, 128, 255, 0, 128, 255}));
  EXPECT_EQ(Resize({42}, 1, 1, 1, 3), std::vector<uint8_t>(9, 42));
}

TEST(CenterCropResize, IdentityOnTheCropOfANonSquareImage) {
  // 3x5, 2 channels: the crop is columns 1..3; size 3 is the identity on it.
  std::vector<uint8_t> img(3 * 5 * 2);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 7);
  const std::vector<uint8_t> out = Resize(img, 3, 5, 2, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(out[(y * 3 + x) * 2 + k], img[(y * 5 + x + 1) * 2 + k]);
}

TEST(CenterCropResize, MatchesBruteForceOnRandomSizes) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int h = 1 + gen() % 23, w = 1 + gen() % 23, ch = 1 + gen() % 3, size = 1 + gen() % 19;
    std::vector<uint8_t> img(static_cast<size_t>(h) * w * ch);
    for (auto& v : img) v = static_cast<uint8_t>(gen());
    ASSERT_EQ(Resize(img, h, w, ch, size), BruteForceU8(img, h, w, ch, size))
        << h << "x" << w << "x" << ch << " -> " << size;
  }
}

TEST(CenterCropResize, LargeCropsUse64BitSums) {
  // 255 * 3000^2 exceeds 2^31: a 32-bit sum would wrap. Constant stays constant; a half-white
  // image (left 1500 columns 255) averages to 255 on the left half of the output.
  const int side = 3000;
  std::vector<uint8_t> img(static_cast<size_t>(side) * side, 255);
  EXPECT_EQ(Resize(img, side, side, 1, 4), std::vector<uint8_t>(16, 255));
  for (int y = 0; y < side; ++y) std::fill_n(img.begin() + y * side + side / 2, side / 2, 0);
  const std::vector<uint8_t> out = Resize(img, side, side, 1, 2);
  EXPECT_EQ(out, (std::vector<uint8_t>{255, 0, 255, 0}));
}

TEST(CenterCropResize, FloatIsTheExactAreaMean) {
  // 6x6 -> 4: compare with the definition in long double (weights / 36 per axis pair).
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(0.f, 10.f);
  std::vector<float> img(36);
  for (auto& v : img) v = dist(gen);
  auto r = CenterCropResizer::Create(6, 6, 1, 4);
  ASSERT_TRUE(r.ok());
  std::vector<float> out(16);
  ASSERT_TRUE(r.value().ResizeF32(img.data(), img.size(), out.data(), out.size()).ok());
  for (int oy = 0; oy < 4; ++oy)
    for (int ox = 0; ox < 4; ++ox) {
      long double acc = 0;
      for (int sy = 0; sy < 6; ++sy)
        for (int sx = 0; sx < 6; ++sx)
          acc += Overlap(oy, sy, 6, 4) * Overlap(ox, sx, 6, 4) *
                 static_cast<long double>(img[sy * 6 + sx]);
      EXPECT_NEAR(out[oy * 4 + ox], static_cast<double>(acc / 36), 1e-5);
    }
}

TEST(CenterCropResize, FloatConstantStaysConstant) {
  std::vector<float> img(5 * 9, 2.5f);
  auto r = CenterCropResizer::Create(5, 9, 1, 7);
  ASSERT_TRUE(r.ok());
  std::vector<float> out(49);
  ASSERT_TRUE(r.value().ResizeF32(img.data(), img.size(), out.data(), out.size()).ok());
  for (float v : out) EXPECT_EQ(v, 2.5f);
}

TEST(CenterCropResize, TighterCropSide) {
  // 4x6 with crop_side 2: rows 1..2, columns 2..3; size 2 is the identity on them.
  std::vector<uint8_t> img(4 * 6);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i);
  auto r = CenterCropResizer::Create(4, 6, 1, 2, /*crop_side=*/2);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> out(4);
  ASSERT_TRUE(r.value().ResizeU8(img.data(), img.size(), out.data(), out.size()).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{8, 9, 14, 15}));
  EXPECT_FALSE(CenterCropResizer::Create(4, 6, 1, 2, /*crop_side=*/5).ok());
}

TEST(CenterCropResize, RejectsBadGeometryAndBuffers) {
  EXPECT_EQ(CenterCropResizer::Create(0, 4, 3, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(CenterCropResizer::Create(4, 4, 0, 2).ok());
  EXPECT_FALSE(CenterCropResizer::Create(4, 4, 3, 0).ok());
  auto r = CenterCropResizer::Create(4, 4, 3, 2);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> img(4 * 4 * 3), out(2 * 2 * 3);
  Status wrong_in = r.value().ResizeU8(img.data(), img.size() - 1, out.data(), out.size());
  EXPECT_EQ(wrong_in.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_in.message().find("4x4x3"), std::string::npos) << wrong_in.message();
  EXPECT_FALSE(r.value().ResizeU8(img.data(), img.size(), out.data(), out.size() + 1).ok());
  EXPECT_FALSE(r.value().ResizeU8(nullptr, img.size(), out.data(), out.size()).ok());
  CenterCropResizer uncreated;
  EXPECT_FALSE(uncreated.ResizeU8(img.data(), 0, out.data(), 0).ok());
}

TEST(Gaze, CropCornersAndRoundTrip) {
  // 480x640: crop left 80, side 480.
  const double px[] = {80, 0, 560, 480, 320, 240, -10, 700};
  double norm[8], back[8];
  const CropBox crop = ComputeCropBox(480, 640).value();
  ASSERT_TRUE(GazePxToCropNorm(px, 4, crop, 0.0, norm).ok());
  EXPECT_DOUBLE_EQ(norm[0], 0.0);
  EXPECT_DOUBLE_EQ(norm[1], 0.0);
  EXPECT_DOUBLE_EQ(norm[2], 1.0);
  EXPECT_DOUBLE_EQ(norm[3], 1.0);
  EXPECT_DOUBLE_EQ(norm[4], 0.5);
  EXPECT_DOUBLE_EQ(norm[5], 0.5);
  EXPECT_LT(norm[6], 0.0);  // outside the crop
  EXPECT_GT(norm[7], 1.0);
  ASSERT_TRUE(CropNormToGazePx(norm, 4, crop, 0.0, back).ok());
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(back[i], px[i], 1e-9);
}

TEST(Gaze, PixelCentreOffsetAndNaN) {
  // Pixel centres at integers (offset 0.5): the centre x = 80 of the crop's first column is half
  // a pixel inside the crop, 0.5 / 480.
  const double px[] = {80, std::nan("")};
  double norm[2];
  ASSERT_TRUE(GazePxToCropNorm(px, 1, ComputeCropBox(480, 640).value(), 0.5, norm).ok());
  EXPECT_DOUBLE_EQ(norm[0], 0.5 / 480);
  EXPECT_TRUE(std::isnan(norm[1]));
  EXPECT_FALSE(GazePxToCropNorm(px, 1, CropBox{}, 0.0, norm).ok());
}

TEST(Gaze, HoloAssistCropMatchesTheOfficialFormula) {
  // The official conversion of HoloAssist gaze: x' = (x - 208) / 480 (896 x 504, crop 480).
  const double px[] = {208, 12, 688, 492, 500, 300};
  double norm[6];
  ASSERT_TRUE(GazePxToCropNorm(px, 3, ComputeCropBox(504, 896, 480).value(), 0.0, norm).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(norm[2 * i], (px[2 * i] - 208) / 480);
    EXPECT_DOUBLE_EQ(norm[2 * i + 1], (px[2 * i + 1] - 12) / 480);
  }
}

}  // namespace
}  // namespace egom2p
