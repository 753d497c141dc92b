#include "server/web_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace custodian {

namespace {

constexpr size_t kMaxFiles = 64;
constexpr uintmax_t kMaxBytes = 16u << 20;

// The media type of a file the UI is built into; empty for any other.
std::string_view MediaType(const std::filesystem::path& name) {
  const std::string ext = name.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return {};
}

}  // namespace

Result<WebFiles> WebFiles::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("--web " + dir + ": no such directory (build the UI: see web/README.md)");
  }
  WebFiles out;
  uintmax_t total = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file()) return Status::InvalidArgument("--web " + dir + ": " + name + " is not a regular file");
    const std::string_view type = MediaType(entry.path());
    if (type.empty()) {
      return Status::InvalidArgument("--web " + dir + ": " + name + " is not a file type the UI is built into");
    }
    if (out.files_.size() == kMaxFiles) return Status::InvalidArgument("--web " + dir + ": more than 64 files");
    total += entry.file_size();
    if (total > kMaxBytes) return Status::InvalidArgument("--web " + dir + ": more than 16 MiB of files");
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in && !in.eof()) return Status::IoError("--web " + dir + ": cannot read " + name);
    http::Response r;
    r.content_type = std::string(type);
    r.body = bytes.str();
    r.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"},
                 {"X-Frame-Options", "DENY"},
                 {"Cross-Origin-Opener-Policy", "same-origin"}};
    out.files_.emplace("/" + name, std::move(r));
  }
  if (ec) return Status::IoError("--web " + dir + ": " + ec.message());
  if (!out.files_.contains("/index.html")) return Status::InvalidArgument("--web " + dir + ": no index.html");
  return out;
}

const http::Response* WebFiles::Find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace custodian
