// SPDX-License-Identifier: Apache-2.0
// AES-256-GCM sealing with OpenSSL EVP, and the key file's creation and loading.
#include "tarn/secrets/secret_cipher.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "tarn/base/crypto.hpp"
#include "tarn/base/logging.hpp"

namespace tarn::secrets {
namespace {

constexpr unsigned char kFormatVersion = 1;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxKeyFileBytes = 1024;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

const unsigned char* Bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }
unsigned char* MutableBytes(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }

Status ErrnoError(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIoError, "cannot {} secret key file {}: {}", what, path, std::strerror(errno));
}

// Closes a file descriptor on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<std::string> ReadKeyFile(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat", path);
  if ((st.st_mode & 077) != 0) {
    TARN_LOG_WARN("secret key file {} is accessible by group or others (mode {:o}); it should be 0600", path,
                  st.st_mode & 0777);
  }
  std::string text(kMaxKeyFileBytes, '\0');
  ssize_t n = ::read(fd.get(), text.data(), text.size());
  if (n < 0) return ErrnoError("read", path);
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  auto key = Base64Decode(text);
  if (!key.has_value() || key->size() != SecretCipher::kKeyBytes) {
    return Error(ErrorCode::kCorruptData, "secret key file {} does not hold a base64 256-bit key", path);
  }
  return std::move(key).value();
}

// Writes a new key to a temp file and links it into place; returns false when another process won the race.
Result<bool> CreateKeyFile(const std::string& path) {
  std::string temp = path + ".tmp-" + RandomHex(8);
  std::string text = Base64Encode(RandomBytes(SecretCipher::kKeyBytes)) + "\n";
  {
    FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return ErrnoError("create", temp);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0) {
      Status error = ErrnoError("write", temp);
      ::unlink(temp.c_str());
      return error;
    }
  }
  int linked = ::link(temp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return false;
    errno = link_errno;
    return ErrnoError("create", path);
  }
  std::string directory = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (directory.empty()) directory = ".";
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
  return true;
}

}  // namespace

Result<std::unique_ptr<SecretCipher>> SecretCipher::LoadOrCreate(const std::string& key_path) {
  if (::access(key_path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return ErrnoError("access", key_path);
    TARN_ASSIGN_OR_RETURN(bool created, CreateKeyFile(key_path));
    if (created) TARN_LOG_INFO("created secret key file {}", key_path);
  }
  TARN_ASSIGN_OR_RETURN(std::string key, ReadKeyFile(key_path));
  return std::unique_ptr<SecretCipher>(new SecretCipher(std::move(key)));
}

Result<std::unique_ptr<SecretCipher>> SecretCipher::FromKey(std::string key) {
  if (key.size() != kKeyBytes) {
    return Error(ErrorCode::kInvalidParameterValue, "a secret key must be {} bytes, got {}", kKeyBytes, key.size());
  }
  return std::unique_ptr<SecretCipher>(new SecretCipher(std::move(key)));
}

SecretCipher::~SecretCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<std::string> SecretCipher::Seal(std::string_view plaintext, std::string_view associated_data) const {
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) return Error(ErrorCode::kInternal, "EVP_CIPHER_CTX_new failed");
  std::string nonce = RandomBytes(kNonceBytes);
  std::string sealed;
  sealed.reserve(1 + kNonceBytes + plaintext.size() + kTagBytes);
  sealed.push_back(static_cast<char>(kFormatVersion));
  sealed += nonce;
  std::string ciphertext(plaintext.size() + 16, '\0');
  int length = 0;
  int total = 0;
  if (EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) != 1 ||
      EVP_EncryptInit_ex(context.get(), nullptr, nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(context.get(), MutableBytes(ciphertext), &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return Error(ErrorCode::kInternal, "AES-256-GCM encryption failed");
  }
  total = length;
  if (EVP_EncryptFinal_ex(context.get(), MutableBytes(ciphertext) + total, &length) != 1) {
    return Error(ErrorCode::kInternal, "AES-256-GCM encryption failed");
  }
  total += length;
  ciphertext.resize(static_cast<size_t>(total));
  std::string tag(kTagBytes, '\0');
  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1) {
    return Error(ErrorCode::kInternal, "AES-256-GCM tag retrieval failed");
  }
  sealed += ciphertext;
  sealed += tag;
  OPENSSL_cleanse(ciphertext.data(), ciphertext.size());
  return sealed;
}

Result<std::string> SecretCipher::Open(std::string_view sealed, std::string_view associated_data) const {
  if (sealed.size() < 1 + kNonceBytes + kTagBytes || static_cast<unsigned char>(sealed[0]) != kFormatVersion) {
    return Error(ErrorCode::kCorruptData, "sealed secret value is truncated or of an unknown version");
  }
  std::string_view nonce = sealed.substr(1, kNonceBytes);
  std::string_view ciphertext = sealed.substr(1 + kNonceBytes, sealed.size() - 1 - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) return Error(ErrorCode::kInternal, "EVP_CIPHER_CTX_new failed");
  std::string plaintext(ciphertext.size() + 16, '\0');
  int length = 0;
  if (EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) != 1 ||
      EVP_DecryptInit_ex(context.get(), nullptr, nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(context.get(), MutableBytes(plaintext), &length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1) {
    return Error(ErrorCode::kInternal, "AES-256-GCM decryption failed");
  }
  int total = length;
  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(context.get(), MutableBytes(plaintext) + total, &length) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Error(ErrorCode::kCorruptData, "sealed secret value failed authentication");
  }
  total += length;
  plaintext.resize(static_cast<size_t>(total));
  return plaintext;
}

}  // namespace tarn::secrets
