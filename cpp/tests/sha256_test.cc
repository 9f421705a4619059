// Tests of SHA-256: the FIPS 180-4 / NIST example vectors, incremental updates across block
// boundaries, and files (including a missing one).
#include "egom2p/sha256.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace egom2p {
namespace {

std::string Hex(const std::string& message) {
  return Sha256BufferHex(message.data(), message.size());
}

TEST(Sha256, NistShortMessages) {
  EXPECT_EQ(Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
          "nopqrlmnopqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, NistMillionA) {
  EXPECT_EQ(Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShotForEveryChunkSize) {
  std::vector<uint8_t> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 300u}) {
    const std::string expected = Sha256BufferHex(data.data(), length);
    for (size_t chunk = 1; chunk <= 70; ++chunk) {
      Sha256 hasher;
      for (size_t pos = 0; pos < length; pos += chunk) {
        hasher.Update(data.data() + pos, std::min(chunk, length - pos));
      }
      ASSERT_EQ(DigestToHex(hasher.Finish()), expected)
          << "length " << length << " chunk " << chunk;
    }
  }
}

TEST(Sha256, FinishResetsTheHasher) {
  Sha256 hasher;
  hasher.Update("abc", 3);
  hasher.Finish();
  EXPECT_EQ(DigestToHex(hasher.Finish()), Hex(""));
}

TEST(Sha256, FileMatchesBuffer) {
  const std::string path = ::testing::TempDir() + "/sha256_test_file.bin";
  std::string content(3 * (1 << 20) + 17, '\0');  // spans several read chunks
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i % 251);
  std::ofstream(path, std::ios::binary).write(content.data(), content.size());
  auto r = Sha256FileHex(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value(), Hex(content));
  std::remove(path.c_str());
}

TEST(Sha256, MissingFileIsNotFoundNamingIt) {
  auto r = Sha256FileHex("/nonexistent/dir/weights.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/weights.onnx"), std::string::npos);
}

TEST(Sha256, DirectoryIsAnError) {
  auto r = Sha256FileHex(::testing::TempDir());
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace egom2p
