// The HTTP/1.1 server in front of the Api (Boost.Asio and Beast; both stay in
// server.cc). Sessions only do I/O: each reads a request under a header limit
// and a body limit, with a read timeout, hands it to the Api (HandleAsync):
// an append of up to 64 KiB is checked and queued on the I/O thread and
// answered when the log's group commit is durable, with no thread waiting
// for it; every other request runs on a pool of workers. The answer is
// written with a write timeout. Keep-alive, and a
// limit on open connections. A request that cannot be parsed gets a 400 with
// a JSON body and the connection is closed; the server stays up.
//
// Stop() is graceful: the listener closes at once (new connections are
// refused), requests in flight are answered, idle connections are closed,
// and Stop returns once every session has ended (or after `drain_timeout`).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace custodian {

class Api;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int io_threads = 2;
  int workers = 64;  // queries handled at once (and appends larger than 64 KiB)
  size_t header_limit = 16 * 1024;
  size_t body_limit = 8 * 1024 * 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds read_timeout{30'000};   // to receive a whole request
  std::chrono::milliseconds write_timeout{30'000};  // to send a whole response
  std::chrono::milliseconds drain_timeout{10'000};
  std::string tls_cert, tls_key;  // PEM files: both, for HTTPS
};

class Server {
 public:
  // Binds and starts serving. InvalidArgument for a bad address or TLS files;
  // Unavailable when the address is in use.
  static Result<std::unique_ptr<Server>> Start(Api& api, const ServerOptions& options);
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
  virtual bool tls() const = 0;
  // Graceful stop (see above). Idempotent.
  virtual void Stop() = 0;
  // Blocks until Stop was called and has finished.
  virtual void Wait() = 0;
};

}  // namespace custodian
