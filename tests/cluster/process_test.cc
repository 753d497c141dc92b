// Whole `custodian serve --cluster` processes: two candidate writers with a
// lease in a real etcd, over a real three-server NATS cluster; the writer
// process is killed with -9 in the middle of a load of appends (forwarded by
// a node in this process), the other takes over, and every acknowledged
// append is in the log exactly once, on every node, with the same root.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cluster/jetstream.h"
#include "cluster/node.h"
#include "core/rules.h"
#include "core/time.h"
#include "storage/event_log.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/test_util.h"
#include "tests/tls_certificate.h"

namespace custodian {
namespace {

using testing::NatsCluster;
using testing::TempDir;

const std::string kCli = std::string(CUSTODIAN_BIN_DIR) + "/custodian";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One `custodian serve` node in a process of its own.
struct ServeProcess {
  std::string dir, out;
  pid_t pid = 0;
  int port = 0;
  // `more`: further arguments of serve.
  ServeProcess(const TempDir& tmp, const std::string& name, const NatsCluster& nats, const std::string& etcd,
               const std::vector<std::string>& more = {})
      : dir(tmp.Sub(name)), out(tmp.Sub(name + ".out")) {
    std::string servers;
    for (const std::string& u : nats.urls()) servers += (servers.empty() ? "" : ",") + u;
    std::vector<std::string> args = {kCli,      "--data",  dir,     "serve", "--listen", "127.0.0.1:0", "--cluster",
                                     servers,   "--partition-writer", "--lease", etcd, "--cluster-key",
                                     nats.cluster_key_file()};
    args.insert(args.end(), more.begin(), more.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid = ::fork();
    if (pid == 0) {
      FILE* f = std::freopen(out.c_str(), "w", stdout);
      (void)f;
      ::dup2(1, 2);
      ::execv(kCli.c_str(), argv.data());
      ::_exit(127);
    }
    REQUIRE(pid > 0);
    for (int i = 0; i < 300 && Slurp(out).find("of the cluster") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(Slurp(out));
    REQUIRE(Slurp(out).find("of the cluster") != std::string::npos);
    const std::string text = Slurp(out);
    const size_t at = text.find("on http://127.0.0.1:");
    REQUIRE(at != std::string::npos);
    port = std::atoi(text.c_str() + at + std::string("on http://127.0.0.1:").size());
  }
  // Its place in the cluster, as /healthz says it.
  std::string Role() const {
    const std::string h = testing::HttpGet(port, "/healthz");
    const size_t at = h.find("\"role\":\"");
    return at == std::string::npos ? h : h.substr(at + 8, h.find('"', at + 8) - at - 8);
  }
  void Kill(int sig) {
    if (pid <= 0) return;
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = 0;
  }
  ~ServeProcess() { Kill(SIGTERM); }
};

Event Registered(const std::string& customer) {
  return testing::EventBy(customer, "customer.registered", "staff-1", R"({"name":"Acme"})");
}

TEST_CASE("the writer process killed with -9 mid-load: the other candidate takes over, every acknowledged append once",
          "[cluster][process]") {
  NatsCluster nats;
  testing::Etcd etcd;
  TempDir tmp;
  ServeProcess a(tmp, "node-a", nats, etcd.endpoint());
  ServeProcess b(tmp, "node-b", nats, etcd.endpoint());

  // This process is a follower node: its appends go to whichever process writes.
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.Sub("here"), testing::NodeStoreOptions());
  REQUIRE(log.ok());
  cluster::JetStreamOptions jo;
  jo.servers = nats.urls();
  Result<std::unique_ptr<cluster::JetStream>> js = cluster::JetStream::Connect(jo);
  REQUIRE(js.ok());
  cluster::NodeOptions no;
  no.key = nats.cluster_key();
  no.forward_timeout = std::chrono::seconds(60);
  Result<std::unique_ptr<cluster::Node>> here = cluster::Node::Start(**log, **js, no);
  REQUIRE(here.ok());
  Event joined = testing::EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"account_executive"})");
  Result<AppendResult> first = (*log)->Append("staff-1", {joined});
  INFO(first.status().ToString());
  REQUIRE(first.ok());

  // Who writes: the lease's key in etcd names the holder's store.
  std::mutex mu;
  std::vector<EventId> acknowledged;
  std::atomic<int> refused{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string customer = "customer-" + std::to_string(t) + "-" + std::to_string(i);
        Event e = Registered(customer);
        Result<AppendResult> r = (*log)->Append(customer, {e}, ExpectedVersion::NoStream());
        if (r.ok()) {
          std::lock_guard lk(mu);
          acknowledged.push_back(e.id);
        } else {
          ++refused;
        }
      }
    });
  }
  auto acked = [&] {
    std::lock_guard lk(mu);
    return acknowledged.size();
  };
  auto wait_for_more = [&](size_t than) {
    for (int i = 0; i < 600 && acked() < than + 20; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return acked() >= than + 20;
  };
  REQUIRE(wait_for_more(0));
  // One of the two candidates writes, and /healthz says which.
  std::string ra, rb;
  for (int i = 0; i < 100; ++i) {
    ra = a.Role();
    rb = b.Role();
    if ((ra == "writer") != (rb == "writer")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(((ra == "writer" && rb == "candidate") || (ra == "candidate" && rb == "writer")));
  // Both candidates die with -9, one after the other, while the clients
  // append: whichever writes dies at some point. The first death of a writer
  // hands the role to the other (after the lease's 6 s); a new, empty node
  // takes it after the second.
  const size_t before_kill = acked();
  a.Kill(SIGKILL);
  INFO("node-b: " << Slurp(b.out));
  CHECK(wait_for_more(before_kill));
  const size_t before_second = acked();
  b.Kill(SIGKILL);
  ServeProcess c(tmp, "node-c", nats, etcd.endpoint());
  CHECK(wait_for_more(before_second));
  CHECK(c.Role() == "writer");  // the only one left
  stop = true;
  for (auto& th : clients) th.join();

  Result<uint64_t> last = (*js)->LastSequence();
  REQUIRE(last.ok());
  REQUIRE((*here)->AwaitSequence(*last, std::chrono::seconds(60)));
  // Every acknowledged append exactly once, positions dense.
  Result<std::vector<Event>> all = (*log)->ReadAll(Position(0), 10'000'000);
  REQUIRE(all.ok());
  std::set<EventId> ids;
  for (size_t i = 0; i < all->size(); ++i) {
    CHECK((*all)[i].position.value() == i);
    CHECK(ids.insert((*all)[i].id).second);
  }
  for (const EventId& id : acknowledged) CHECK(ids.count(id) == 1);
  UNSCOPED_INFO("acknowledged " << acknowledged.size() << ", refused " << refused.load() << ", in the log "
                                << all->size());
  VerifyReport report = (*log)->Verify();
  INFO(report.problem);
  CHECK(report.ok);

  // The new node holds the same log.
  c.Kill(SIGTERM);
  here->reset();
  EventLogOptions plain;
  plain.replica = true;
  Result<std::unique_ptr<EventLog>> theirs = EventLog::Open(c.dir, plain);
  REQUIRE(theirs.ok());
  Result<TreeHead> h1 = (*log)->Head(), h2 = (*theirs)->Head();
  REQUIRE(h1.ok());
  REQUIRE(h2.ok());
  CHECK(h2->size == h1->size);
  CHECK(HexOf(h2->root) == HexOf(h1->root));
}

TEST_CASE("serve against an etcd with authentication on: without --lease-credentials, or with a wrong password, the "
          "candidate says why and its health is degraded, with them it writes, and the password is in no output",
          "[cluster][process]") {
  const std::string root_password = "root-pw-51aa", password = "node-pw-77e0-not-for-logs";
  NatsCluster nats;
  testing::Etcd etcd;
  etcd.EnableAuth(root_password, "node", password, "/custodian/");
  TempDir tmp;
  const std::string creds = tmp.Sub("lease.creds");
  std::ofstream(creds) << "node:" << password << "\n";
  std::filesystem::permissions(creds, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);

  {
    ServeProcess refused(tmp, "node-a", nats, etcd.endpoint());
    for (int i = 0; i < 200 && Slurp(refused.out).find("etcd refuses this node") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(Slurp(refused.out));
    CHECK_THAT(Slurp(refused.out), Catch::Contains("etcd refuses this node the writer's lease") &&
                                       Catch::Contains("--lease-credentials"));
    const std::string health = testing::HttpGet(refused.port, "/healthz");
    CHECK_THAT(health, Catch::Contains("\"lease_problem\"") && Catch::Contains("degraded"));
    CHECK(refused.Role() == "candidate");
  }
  {
    const std::string wrong = tmp.Sub("wrong.creds");
    std::ofstream(wrong) << "node:not-" << password << "\n";
    std::filesystem::permissions(wrong, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    ServeProcess refused(tmp, "node-w", nats, etcd.endpoint(), {"--lease-credentials", wrong});
    for (int i = 0; i < 200 && Slurp(refused.out).find("etcd refuses this node") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(Slurp(refused.out));
    CHECK_THAT(Slurp(refused.out), Catch::Contains("refused the user and password in " + wrong));
    CHECK(Slurp(refused.out).find(password) == std::string::npos);
  }
  ServeProcess signed_in(tmp, "node-b", nats, etcd.endpoint(), {"--lease-credentials", creds});
  for (int i = 0; i < 300 && signed_in.Role() != "writer"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(Slurp(signed_in.out));
  CHECK(signed_in.Role() == "writer");
  CHECK(etcd.Get("/custodian/CUSTODIAN/writer", root_password) == signed_in.dir);
  CHECK(Slurp(signed_in.out).find("etcd refuses") == std::string::npos);
  CHECK(Slurp(signed_in.out).find(password) == std::string::npos);
}

TEST_CASE("serve over NATS servers and an etcd that speak TLS: refused without --cluster-ca, saying so, and a node "
          "with --cluster-ca and --lease-ca writes",
          "[cluster][process]") {
  TempDir tmp;
  testing::TestCertificate cert("IP:127.0.0.1,DNS:localhost");
  const std::string pem = tmp.Sub("server.pem"), key = tmp.Sub("server.key");
  cert.WritePem(pem);
  cert.WriteKeyPem(key);
  NatsCluster nats(3, "tls { cert_file: \"" + pem + "\", key_file: \"" + key + "\" }");
  testing::Etcd etcd(300, pem, key);

  // Without the CA: serve stops at once, saying what to give.
  const std::string refused_out = tmp.Sub("refused.out");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    FILE* f = std::freopen(refused_out.c_str(), "w", stdout);
    (void)f;
    ::dup2(1, 2);
    ::execl(kCli.c_str(), kCli.c_str(), "--data", tmp.Sub("refused").c_str(), "serve", "--listen", "127.0.0.1:0",
            "--cluster", nats.urls().front().c_str(), "--partition-writer", "--cluster-key",
            nats.cluster_key_file().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);
  CHECK_THAT(Slurp(refused_out), Catch::Contains("speak TLS") && Catch::Contains("--cluster-ca"));

  ServeProcess node(tmp, "node", nats, etcd.endpoint(), {"--cluster-ca", pem, "--lease-ca", pem});
  for (int i = 0; i < 300 && node.Role() != "writer"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(Slurp(node.out));
  CHECK(node.Role() == "writer");
}

}  // namespace
}  // namespace custodian
