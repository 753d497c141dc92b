#include "cluster/cluster_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/base64.h"
#include "storage/permissions.h"

namespace custodian::cluster {
namespace {

// Begins as every Custodian key file does (IsCustodianKeyFile: no --out
// writes over it), and differs from a master key's header.
constexpr char kHeader[] = "CUSTODIAN KEY v1 cluster";

void AppendLength(std::string& out, size_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
}

}  // namespace

ClusterKey::ClusterKey(std::string key) : key_(std::make_shared<const crypto::HmacSha256Key>(std::move(key))) {}

Result<ClusterKey> ClusterKey::Load(const std::string& path) {
  Result<std::string> text = ReadOwnerOnlyFile(path, "cluster key file");
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string header, body;
  std::getline(in, header);
  std::getline(in, body);
  Result<std::string> key = header == kHeader ? Base64Decode(body) : Status::InvalidArgument("no header");
  if (!key.ok() || key->size() != kClusterKeyBytes) {
    return Status::InvalidArgument("the file " + path +
                                   " holds no cluster key (make one with custodian keys new-cluster --out FILE and "
                                   "copy it to every node)");
  }
  return ClusterKey(std::move(*key));
}

Status ClusterKey::Create(const std::string& path) {
  // O_EXCL: never over an existing file, nor through a link, even when two
  // runs race.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::Conflict(path + " exists: a cluster key is never written over (every node holds a copy)");
    }
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  const std::string text = std::string(kHeader) + "\n" + Base64Encode(crypto::RandomBytes(kClusterKeyBytes)) + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int error = errno;
  written = ::close(fd) == 0 && written;
  if (!written) {
    ::unlink(path.c_str());
    return Status::IoError("cannot write " + path + ": " + std::strerror(error));
  }
  // The name durable too.
  const std::string dir = std::filesystem::path(path).parent_path().empty()
                              ? std::string(".")
                              : std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::string ClusterKey::Tag(std::string_view purpose, std::string_view context, std::string_view bytes) const {
  // Lengths first, so that no purpose, context and bytes run into each other.
  std::string input;
  input.reserve(8 + purpose.size() + context.size() + bytes.size());
  AppendLength(input, purpose.size());
  input += purpose;
  AppendLength(input, context.size());
  input += context;
  input += bytes;
  return key_->Mac(input);
}

std::string ClusterKey::Seal(std::string_view purpose, std::string_view context, std::string_view bytes) const {
  std::string out(bytes);
  out += Tag(purpose, context, bytes);
  return out;
}

Result<std::string_view> ClusterKey::Open(std::string_view purpose, std::string_view context,
                                          std::string_view message) const {
  if (message.size() < kClusterTagBytes) {
    return Status::Corruption("not a message of this cluster's nodes (too short to carry their tag)");
  }
  const std::string_view bytes = message.substr(0, message.size() - kClusterTagBytes);
  if (!crypto::ConstantTimeEqual(Tag(purpose, context, bytes), message.substr(bytes.size()))) {
    return Status::Corruption("not a message of this cluster's nodes (its tag does not verify under the "
                                    "cluster key)");
  }
  return bytes;
}

}  // namespace custodian::cluster
