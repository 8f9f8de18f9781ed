// SPDX-License-Identifier: Apache-2.0
// Tests for SecretCipher: sealing round trips, tamper detection, and the key file's creation and mode.
#include "tarn/secrets/secret_cipher.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tarn/base/crypto.hpp"

namespace tarn::secrets {
namespace {

class SecretCipherTest : public ::testing::Test {
 protected:
  SecretCipherTest() {
    dir_ = std::filesystem::temp_directory_path() / ("tarn-cipher-" + RandomHex(8));
    std::filesystem::create_directories(dir_);
  }
  ~SecretCipherTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretCipherTest, SealsAndOpens) {
  auto cipher = SecretCipher::FromKey(std::string(32, 'k'));
  ASSERT_TRUE(cipher.has_value());
  for (std::string plaintext :
       {std::string(), std::string("hunter2"), std::string("\0\x01\xff", 3), std::string(128 * 1024, 'x')}) {
    auto sealed = (*cipher)->Seal(plaintext, "scope\0key");
    ASSERT_TRUE(sealed.has_value());
    EXPECT_EQ(sealed->size(), plaintext.size() + 1 + 12 + 16);
    if (plaintext.size() >= 4) {
      EXPECT_EQ(sealed->find(plaintext), std::string::npos);
    }
    auto opened = (*cipher)->Open(*sealed, "scope\0key");
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, plaintext);
  }
  // Random nonces: the same value seals differently each time.
  EXPECT_NE(*(*cipher)->Seal("same", "ad"), *(*cipher)->Seal("same", "ad"));
}

TEST_F(SecretCipherTest, RejectsTamperingOtherDataAndOtherKeys) {
  auto cipher = SecretCipher::FromKey(std::string(32, 'k'));
  auto other = SecretCipher::FromKey(std::string(32, 'o'));
  ASSERT_TRUE(cipher.has_value() && other.has_value());
  std::string sealed = *(*cipher)->Seal("secret value", "a");
  EXPECT_EQ((*cipher)->Open(sealed, "b").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ((*other)->Open(sealed, "a").status().code(), ErrorCode::kCorruptData);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_EQ((*cipher)->Open(flipped, "a").status().code(), ErrorCode::kCorruptData) << i;
  }
  EXPECT_EQ((*cipher)->Open(sealed.substr(0, 20), "a").status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(SecretCipher::FromKey("short").status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(SecretCipherTest, CreatesTheKeyFileOnceWithMode0600) {
  std::string path = (dir_ / "secrets.key").string();
  auto first = SecretCipher::LoadOrCreate(path);
  ASSERT_TRUE(first.has_value()) << first.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string sealed = *(*first)->Seal("value", "ad");
  // A restart loads the same key.
  auto second = SecretCipher::LoadOrCreate(path);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*(*second)->Open(sealed, "ad"), "value");
  // No temp files are left behind.
  int num_files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++num_files;
  EXPECT_EQ(num_files, 1);
}

TEST_F(SecretCipherTest, RefusesAGarbledKeyFile) {
  std::string path = (dir_ / "bad.key").string();
  std::ofstream(path) << "not base64!\n";
  EXPECT_EQ(SecretCipher::LoadOrCreate(path).status().code(), ErrorCode::kCorruptData);
  std::ofstream(path, std::ios::trunc) << Base64Encode("sixteen byte key") << "\n";
  EXPECT_EQ(SecretCipher::LoadOrCreate(path).status().code(), ErrorCode::kCorruptData);
  EXPECT_EQ(SecretCipher::LoadOrCreate((dir_ / "missing-dir" / "x.key").string()).status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace tarn::secrets
