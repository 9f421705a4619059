// Tests of the .safetensors reader: a round trip of every supported dtype, metadata, and a clear
// error naming the file for each kind of truncated or corrupt file.
#include "egom2p/safetensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace egom2p {
namespace {

// Writes a file from a header text and a data section, as the format lays them out.
std::string WriteFile(const std::string& name, const std::string& header, const std::string& data,
                      int64_t header_length_override = -1) {
  const std::string path = ::testing::TempDir() + "/" + name;
  uint64_t n = header_length_override >= 0 ? header_length_override : header.size();
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += header + data;
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
  return path;
}

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

TEST(Safetensors, ReadsEveryDtypeAndMetadata) {
  const float f32[3] = {1.5f, -2.f, 3.25f};
  const uint16_t f16[2] = {0x3c00, 0xc000};  // 1.0, -2.0
  const int64_t i64[2] = {-5, 1LL << 40};
  const int32_t i32[1] = {-7};
  const uint8_t u8[4] = {0, 1, 254, 255};
  const uint8_t b[2] = {1, 0};
  const std::string data =
      Bytes(f32, 12) + Bytes(f16, 4) + Bytes(i64, 16) + Bytes(i32, 4) + Bytes(u8, 4) + Bytes(b, 2);
  // Keys deliberately not in data order: the reader returns data order.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("u":{"dtype":"U8","shape":[2,2],"data_offsets":[36,40]},)"
      R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
      R"("h":{"dtype":"F16","shape":[1,2],"data_offsets":[12,16]},)"
      R"("l":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},)"
      R"("i":{"dtype":"I32","shape":[],"data_offsets":[32,36]},)"
      R"("m":{"dtype":"BOOL","shape":[2],"data_offsets":[40,42]},)"
      R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[42,42]}}   )";  // trailing spaces
  const std::string path = WriteFile("all_dtypes.safetensors", header, data);
  auto r = LoadSafetensors(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SafetensorsFile& f = r.value();
  ASSERT_EQ(f.tensors.size(), 7u);
  EXPECT_EQ(f.tensors[0].name, "a");
  EXPECT_EQ(f.metadata.at("format"), "pt");
  const Tensor* a = f.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kFloat32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a->Data<float>()[2], 3.25f);
  EXPECT_EQ(f.Find("h")->Data<uint16_t>()[1], 0xc000);
  EXPECT_EQ(f.Find("l")->Data<int64_t>()[1], 1LL << 40);
  EXPECT_EQ(f.Find("i")->shape.size(), 0u);
  EXPECT_EQ(f.Find("i")->Data<int32_t>()[0], -7);
  EXPECT_EQ(f.Find("u")->Data<uint8_t>()[3], 255);
  EXPECT_EQ(f.Find("m")->dtype, DType::kBool);
  EXPECT_EQ(f.Find("e")->NumElements(), 0);
  EXPECT_EQ(f.Find("nope"), nullptr);
  std::remove(path.c_str());
}

// Expects a failure with `code` whose message names the file and contains `needle`.
void ExpectError(const std::string& path, StatusCode code, const std::string& needle) {
  auto r = LoadSafetensors(path);
  ASSERT_FALSE(r.ok()) << path;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

const std::string kOneTensor = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST(Safetensors, MissingFile) {
  ExpectError(::testing::TempDir() + "/absent.safetensors", StatusCode::kNotFound, "open");
}

TEST(Safetensors, TooShortForTheLength) {
  const std::string path = ::testing::TempDir() + "/short.safetensors";
  std::ofstream(path, std::ios::binary).write("abc", 3);
  ExpectError(path, StatusCode::kFailedPrecondition, "8-byte");
}

TEST(Safetensors, TruncatedData) {
  ExpectError(WriteFile("trunc.safetensors", kOneTensor, std::string(5, '\0')),
              StatusCode::kFailedPrecondition, "'x'");
}

TEST(Safetensors, TrailingBytes) {
  ExpectError(WriteFile("trailing.safetensors", kOneTensor, std::string(9, '\0')),
              StatusCode::kFailedPrecondition, "trailing");
}

TEST(Safetensors, HeaderLengthBeyondTheFile) {
  ExpectError(WriteFile("len.safetensors", kOneTensor, std::string(8, '\0'), 1000),
              StatusCode::kFailedPrecondition, "header length");
}

TEST(Safetensors, InvalidJson) {
  ExpectError(WriteFile("json.safetensors", R"({"x":{"dtype":"F32",)", ""),
              StatusCode::kFailedPrecondition, "JSON");
}

TEST(Safetensors, NotAnObjectHeader) {
  ExpectError(WriteFile("array.safetensors", "[1,2]", ""), StatusCode::kFailedPrecondition, "{");
}

TEST(Safetensors, ByteCountDisagreesWithShape) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  ExpectError(WriteFile("count.safetensors", header, std::string(8, '\0')),
              StatusCode::kFailedPrecondition, "needs 12 bytes");
}

TEST(Safetensors, OverlappingTensors) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  ExpectError(WriteFile("overlap.safetensors", header, std::string(8, '\0')),
              StatusCode::kFailedPrecondition, "overlaps");
}

TEST(Safetensors, BadFields) {
  ExpectError(
      WriteFile("neg.safetensors", R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                std::string(8, '\0')),
      StatusCode::kFailedPrecondition, "shape");
  ExpectError(
      WriteFile("nooff.safetensors", R"({"x":{"dtype":"F32","shape":[2]}})", std::string(8, '\0')),
      StatusCode::kFailedPrecondition, "data_offsets");
  ExpectError(WriteFile("meta.safetensors", R"({"__metadata__":{"k":1}})", ""),
              StatusCode::kFailedPrecondition, "metadata");
}

TEST(Safetensors, UnsupportedDtypeNamesIt) {
  const std::string header = R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
  ExpectError(WriteFile("bf16.safetensors", header, std::string(4, '\0')), StatusCode::kUnavailable,
              "BF16");
}

}  // namespace
}  // namespace egom2p
