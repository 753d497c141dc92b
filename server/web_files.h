// The web UI's built files (web/, built by `npm run build`), served by the
// API at "/" and "/<file>" with a strict Content-Security-Policy. They are
// read once, when the server starts, into memory: a request can only name a
// file that was there then, so no request path ever reaches the filesystem.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/http.h"

namespace custodian {

class WebFiles {
 public:
  WebFiles() = default;
  // Every regular file directly in `dir` (index.html, app.js, app.css, ...),
  // at most 64 files of at most 16 MiB in all. InvalidArgument, saying which,
  // when `dir` is missing, has no index.html, holds a file of a type the UI
  // does not use, or is too large.
  static Result<WebFiles> Load(const std::string& dir);

  bool empty() const { return files_.empty(); }
  size_t size() const { return files_.size(); }
  // The response for GET `path` ("/" is index.html), or nullptr when no such
  // file was loaded.
  const http::Response* Find(std::string_view path) const;

  // The Content-Security-Policy every file is served with: the UI's own
  // scripts, styles and API only; no inline script, no framing, no forms
  // posted elsewhere.
  static constexpr char kContentSecurityPolicy[] =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
      "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

 private:
  std::map<std::string, http::Response, std::less<>> files_;  // "/app.js" -> its response
};

}  // namespace custodian
