#include "storage/permissions.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

namespace custodian {
namespace fs = std::filesystem;

namespace {

constexpr mode_t kGroupAndOthers = S_IRWXG | S_IRWXO;

// Calls visit(path, st) for `dir` and everything under it, without following links.
Status Walk(const fs::path& dir, const std::function<Status(const fs::path&, const struct stat&)>& visit) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no store at " + dir.string());
    return Status::IoError("cannot look at " + dir.string() + ": " + std::strerror(errno));
  }
  CUSTODIAN_RETURN_IF_ERROR(visit(dir, st));
  if (!S_ISDIR(st.st_mode)) return Status::Ok();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_symlink(ec)) continue;
    CUSTODIAN_RETURN_IF_ERROR(Walk(it->path(), visit));
  }
  if (ec) return Status::IoError("cannot list " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::vector<LoosePath>> FindLooseStorePaths(const std::string& dir) {
  std::vector<LoosePath> loose;
  Status s = Walk(dir, [&](const fs::path& p, const struct stat& st) {
    if ((st.st_mode & kGroupAndOthers) != 0 && !S_ISLNK(st.st_mode)) {
      loose.push_back({p.string(), static_cast<mode_t>(st.st_mode & 07777)});
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return loose;
}

Result<std::vector<LoosePath>> TightenStorePermissions(const std::string& dir) {
  std::vector<LoosePath> changed;
  Status s = Walk(dir, [&](const fs::path& p, const struct stat& st) {
    if ((st.st_mode & kGroupAndOthers) == 0 || S_ISLNK(st.st_mode)) return Status::Ok();
    if (::chmod(p.c_str(), st.st_mode & 07700) != 0) {
      return Status::IoError("cannot change the mode of " + p.string() + ": " + std::strerror(errno));
    }
    changed.push_back({p.string(), static_cast<mode_t>(st.st_mode & 07777)});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return changed;
}

Result<std::string> ReadOwnerOnlyFile(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no " + what + " at " + path);
    return Status::IoError("cannot look at the " + what + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("the " + what + " " + path + " is not a file");
  if ((st.st_mode & kGroupAndOthers) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::FailedPrecondition("the " + what + " " + path + " can be read by other accounts (mode " + mode +
                                      "); make it owner-only with chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return Status::IoError("cannot read the " + what + " " + path);
  return text;
}

}  // namespace custodian
