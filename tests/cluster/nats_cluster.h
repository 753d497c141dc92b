// A real three-server NATS JetStream cluster on loopback for the cluster
// tests: Debian's nats-server, each server in its own directory with its own
// ports, started, killed (-9) and restarted by the test. Without nats-server
// the test says so and exits with kSkipped, which ctest reports as skipped.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_key.h"
#include "core/base64.h"
#include "core/rules.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian::testing {

// A node's store as `custodian serve --cluster` opens one: the log's rules
// on, a replica of the log of record, created when missing.
inline EventLogOptions NodeStoreOptions() {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.rules = CheckRules;
  options.replica = true;
  return options;
}

inline constexpr int kSkipped = 77;  // SKIP_RETURN_CODE in tests/CMakeLists.txt
inline constexpr char kNatsServer[] = "/usr/sbin/nats-server";

inline void SkipWithoutNats() {
  if (!std::filesystem::exists(kNatsServer)) {
    std::fprintf(stderr, "SKIPPED: %s is not installed (apt-get install nats-server; tools/install-deps.sh does)\n",
                 kNatsServer);
    std::exit(kSkipped);
  }
}

// A loopback port nobody listens on right now, for a server the test starts
// (and may restart on it). Drawn at random below Linux's ephemeral range
// (32768-60999): a port the kernel hands out for "any port" goes to the next
// asker too, another cluster test running at the same time or an outgoing
// connection taking it before a killed server is restarted on it.
inline int FreePort() {
  static std::mutex mu;
  static std::set<int> given;  // never twice in one process
  static std::mt19937 pick(std::random_device{}());
  std::lock_guard lk(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = std::uniform_int_distribution<int>(20000, 32000)(pick);
    if (given.contains(port)) continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (free) {
      given.insert(port);
      return port;
    }
  }
  FAIL("no free loopback port between 20000 and 32000 after 1000 tries");
  return 0;
}

// One HTTP/1.0 request to http://127.0.0.1:port/path, the answer's body;
// empty when nothing answers. `headers`: more header lines, each ending in \r\n.
inline std::string HttpRequest(int port, const std::string& method, const std::string& path,
                               const std::string& body = "", const std::string& headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + headers +
                            (body.empty() ? "" : "Content-Type: application/json\r\nContent-Length: " +
                                                     std::to_string(body.size()) + "\r\n") +
                            "\r\n" + body;
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const size_t at = out.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : out.substr(at + 4);
}

// GET http://127.0.0.1:port/path, the body; empty when nothing answers.
inline std::string HttpGet(int port, const std::string& path) { return HttpRequest(port, "GET", path); }

class NatsCluster {
 public:
  // `authorization`: a nats-server authorization block for clients (e.g.
  // `authorization { user: node, password: "..." }`), empty: none.
  explicit NatsCluster(int size = 3, std::string authorization = "")
      : servers_(size), authorization_(std::move(authorization)) {
    SkipWithoutNats();
    REQUIRE(cluster::ClusterKey::Create(cluster_key_file()).ok());
    for (int i = 0; i < size; ++i) {
      servers_[i].name = "n" + std::to_string(i + 1);
      servers_[i].client = FreePort();
      servers_[i].route = FreePort();
      servers_[i].http = FreePort();
    }
    for (int i = 0; i < size; ++i) Start(i);
  }
  ~NatsCluster() {
    for (int i = 0; i < static_cast<int>(servers_.size()); ++i) Kill(i, SIGTERM);
  }

  // The key this cluster's nodes share (cluster/cluster_key.h): its file, and the key.
  std::string cluster_key_file() const { return tmp_.Sub("cluster.key"); }
  cluster::ClusterKey cluster_key() const {
    Result<cluster::ClusterKey> key = cluster::ClusterKey::Load(cluster_key_file());
    REQUIRE(key.ok());
    return *key;
  }

  std::vector<std::string> urls() const {
    std::vector<std::string> u;
    for (const Server& s : servers_) u.push_back("nats://127.0.0.1:" + std::to_string(s.client));
    return u;
  }
  int size() const { return static_cast<int>(servers_.size()); }
  int IndexOf(const std::string& name) const {
    for (int i = 0; i < size(); ++i) {
      if (servers_[i].name == name) return i;
    }
    return -1;
  }
  int http_port(int i) const { return servers_[i].http; }

  void Start(int i) {
    Server& s = servers_[i];
    const std::string dir = tmp_.Sub(s.name);
    std::filesystem::create_directories(dir);
    std::string routes;
    for (const Server& o : servers_) routes += "    nats-route://127.0.0.1:" + std::to_string(o.route) + "\n";
    const std::string conf = dir + "/nats.conf";
    std::ofstream(conf) << "server_name: " << s.name << "\n"
                        << "listen: 127.0.0.1:" << s.client << "\n"
                        << "http: 127.0.0.1:" << s.http << "\n"
                        << "max_payload: 8MB\n"
                        << authorization_ << "\n"
                        << "jetstream { store_dir: \"" << dir << "/js\" }\n"
                        << "cluster {\n  name: custodian-test\n  listen: 127.0.0.1:" << s.route << "\n  routes: [\n"
                        << routes << "  ]\n}\n";
    const std::string log = dir + "/nats.log";
    std::fflush(nullptr);  // nothing buffered here is written twice by the child
    s.pid = ::fork();
    if (s.pid == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::dup2(2, 1);
      ::execl(kNatsServer, kNatsServer, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    REQUIRE(s.pid > 0);
  }
  void Kill(int i, int sig) {
    Server& s = servers_[i];
    if (s.pid <= 0) return;
    ::kill(s.pid, sig);
    int status = 0;
    ::waitpid(s.pid, &status, 0);
    s.pid = 0;
  }

  // The last sequence this server's own copy of `stream` holds (monitoring
  // endpoint /jsz); -1 when it does not answer or holds no copy.
  long long LastSeqOn(int i, const std::string& stream) const {
    const std::string body = HttpGet(servers_[i].http, "/jsz?streams=true");
    const size_t at = body.find("\"name\": \"" + stream + "\"");
    if (at == std::string::npos) return -1;
    const size_t last = body.find("\"last_seq\":", at);
    if (last == std::string::npos) return -1;
    return std::atoll(body.c_str() + last + 11);
  }

 private:
  struct Server {
    std::string name;
    int client = 0, route = 0, http = 0;
    pid_t pid = 0;
  };
  TempDir tmp_;
  std::vector<Server> servers_;
  std::string authorization_;
};

// One etcd server on loopback (Debian's etcd-server), for the writer's lease.
// `auth_token_ttl`: seconds an unused sign-in token lasts (etcd's default: 300).
// With `cert_file` and `key_file` (PEM), it serves clients over https only.
class Etcd {
 public:
  static constexpr char kBinary[] = "/usr/bin/etcd";
  explicit Etcd(int auth_token_ttl = 300, const std::string& cert_file = "", const std::string& key_file = "")
      : scheme_(cert_file.empty() ? "http" : "https") {
    if (!std::filesystem::exists(kBinary)) {
      std::fprintf(stderr, "SKIPPED: %s is not installed (apt-get install etcd-server; tools/install-deps.sh does)\n",
                   kBinary);
      std::exit(kSkipped);
    }
    client_ = FreePort();
    const int peer = FreePort();
    const std::string c = endpoint(), p = "http://127.0.0.1:" + std::to_string(peer);
    const std::string data = tmp_.Sub("etcd"), log = tmp_.Sub("etcd.log");
    std::vector<std::string> args = {kBinary, "--name", "e1", "--data-dir", data, "--listen-client-urls", c,
                                     "--advertise-client-urls", c, "--listen-peer-urls", p,
                                     "--initial-advertise-peer-urls", p, "--initial-cluster", "e1=" + p,
                                     "--auth-token-ttl", std::to_string(auth_token_ttl)};
    if (!cert_file.empty()) args.insert(args.end(), {"--cert-file", cert_file, "--key-file", key_file});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::dup2(2, 1);
      ::execv(kBinary, argv.data());
      ::_exit(127);
    }
    // Ready when it serves clients: over http, its /health says so; over
    // https (which this file's client does not speak), its log does.
    auto ready = [&] {
      if (cert_file.empty()) return HttpGet(client_, "/health").find("true") != std::string::npos;
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return text.find("ready to serve client requests") != std::string::npos;
    };
    for (int i = 0; i < 100 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~Etcd() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::string endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(client_); }

  // Turns authentication on, as an operator would (etcdctl user add, role
  // grant-permission, auth enable): `user` (password `password`) may read and
  // write every key under `prefix`; "intruder" (password "intruder-pw") may
  // sign in but write nothing; "root" (password `root_password`) is etcd's
  // administrator. Over http only.
  void EnableAuth(const std::string& root_password, const std::string& user, const std::string& password,
                  const std::string& prefix) {
    REQUIRE(scheme_ == "http");
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    const std::vector<std::pair<std::string, std::string>> calls = {
        {"/v3/auth/role/add", R"({"name":"root"})"},
        {"/v3/auth/user/add", R"({"name":"root","password":")" + root_password + "\"}"},
        {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
        {"/v3/auth/role/add", R"({"name":"custodian"})"},
        {"/v3/auth/role/grant", R"({"name":"custodian","perm":{"permType":"READWRITE","key":")" +
                                    Base64Encode(prefix) + R"(","range_end":")" + Base64Encode(end) + "\"}}"},
        {"/v3/auth/user/add", R"({"name":")" + user + R"(","password":")" + password + "\"}"},
        {"/v3/auth/user/grant", R"({"user":")" + user + R"(","role":"custodian"})"},
        {"/v3/auth/user/add", R"({"name":"intruder","password":"intruder-pw"})"},
        {"/v3/auth/enable", "{}"},
    };
    for (const auto& [path, body] : calls) {
      const std::string answer = HttpRequest(client_, "POST", path, body);
      INFO(path << " " << body << " -> " << answer);
      REQUIRE(answer.find("\"header\"") != std::string::npos);  // etcd's answers carry a header; errors do not
    }
  }
  // The value of `key` as `root` (password `root_password`) reads it; "" when absent.
  // Deletes `key` by hand, as anyone with the right to write it could (an
  // etcd without authentication).
  void Delete(const std::string& key) const {
    const std::string answer =
        HttpRequest(client_, "POST", "/v3/kv/deleterange", R"({"key":")" + Base64Encode(key) + "\"}");
    INFO(answer);
    REQUIRE(answer.find("\"deleted\":\"1\"") != std::string::npos);
  }

  std::string Get(const std::string& key, const std::string& root_password) const {
    REQUIRE(scheme_ == "http");
    const std::string signin =
        HttpRequest(client_, "POST", "/v3/auth/authenticate", R"({"name":"root","password":")" + root_password + "\"}");
    const size_t at = signin.find("\"token\":\"");
    REQUIRE(at != std::string::npos);
    const std::string token = signin.substr(at + 9, signin.find('"', at + 9) - at - 9);
    const std::string range = HttpRequest(client_, "POST", "/v3/kv/range", R"({"key":")" + Base64Encode(key) + "\"}",
                                          "Authorization: " + token + "\r\n");
    const size_t v = range.find("\"value\":\"");
    if (v == std::string::npos) return "";
    Result<std::string> value = Base64Decode(range.substr(v + 9, range.find('"', v + 9) - v - 9));
    REQUIRE(value.ok());
    return *value;
  }

 private:
  TempDir tmp_;
  std::string scheme_;
  int client_ = 0;
  pid_t pid_ = 0;
};

}  // namespace custodian::testing
