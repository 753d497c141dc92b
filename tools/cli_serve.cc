// custodian serve: the HTTP API (server/) in front of the store, until
// SIGINT or SIGTERM; then a graceful stop and a clean close of the store.
#include <pthread.h>
#include <signal.h>

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "cluster/jetstream.h"
#include "cluster/node.h"
#include "core/json.h"
#include "core/text.h"
#include "server/api.h"
#include "server/server.h"
#include "tools/cli.h"

namespace custodian::cli {

int RunServe(const Globals& g, const ServeOptions& o) {
  ServerOptions options;
  options.listen = o.listen;
  options.io_threads = o.threads;
  options.tls_cert = o.tls_cert;
  options.tls_key = o.tls_key;
  options.body_limit = o.body_limit;
  if (o.threads < 1 || o.threads > 256) {
    return UsageError(Status::InvalidArgument("--threads: from 1 to 256, got " + std::to_string(o.threads)));
  }
  // SIGINT and SIGTERM are taken by this thread alone (sigwait below): every
  // thread started from here on inherits the blocked mask.
  // A shell starts a background job with SIGINT ignored, and an ignored
  // signal never reaches sigwait: take both back first, so that Ctrl-C
  // stops a server that a script started with `&`.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ApiOptions api_options{o.max_lag, {}};
  // The UI: --web, else the build's own when it was built (tools/CMakeLists.txt).
  std::string web_dir = o.web;
#ifdef CUSTODIAN_BUILT_WEB_DIR
  if (web_dir.empty() && std::filesystem::exists(std::filesystem::path(CUSTODIAN_BUILT_WEB_DIR) / "index.html")) {
    web_dir = CUSTODIAN_BUILT_WEB_DIR;
  }
#endif
  if (!web_dir.empty()) {
    Result<WebFiles> web = WebFiles::Load(web_dir);
    if (!web.ok()) return UsageError(web.status());
    api_options.web = std::move(*web);
  }

  // Past one machine: the store follows the log of record on NATS JetStream.
  std::unique_ptr<cluster::JetStream> js;
  StoreOptions store = g;
  CreateIfMissing create = CreateIfMissing::kNo;
  if (o.cluster.empty() && (o.partition_writer || !o.lease.empty() || !o.cluster_credentials.empty() ||
                            !o.cluster_ca.empty() || !o.cluster_key.empty())) {
    return UsageError(Status::InvalidArgument(
        "--partition-writer, --lease, --cluster-credentials, --cluster-ca and --cluster-key need --cluster"));
  }
  if ((!o.lease_credentials.empty() || !o.lease_ca.empty()) && o.lease.empty()) {
    return UsageError(Status::InvalidArgument("--lease-credentials and --lease-ca need --lease"));
  }
  // The writer's lease, checked before anything is connected or created.
  std::optional<cluster::LeaseOptions> lease;
  if (!o.lease.empty()) {
    lease.emplace();
    lease->endpoint = o.lease;
    lease->key = "/custodian/" + o.cluster_stream + "/writer";
    lease->holder = g.data_dir;
    lease->credentials_file = o.lease_credentials;
    lease->ca_file = o.lease_ca;
    if (Status s = cluster::WriterLease::CheckOptions(*lease); !s.ok()) {
      return s.code() == StatusCode::kInvalidArgument ? UsageError(s) : Fail(s);
    }
  }
  // The cluster's key, before anything is connected or created.
  std::optional<cluster::ClusterKey> cluster_key;
  if (!o.cluster.empty()) {
    if (o.cluster_key.empty()) {
      return UsageError(Status::InvalidArgument(
          "--cluster needs --cluster-key FILE, the key every node holds (make one with custodian keys new-cluster "
          "--out FILE and copy it to every node)"));
    }
    Result<cluster::ClusterKey> key = cluster::ClusterKey::Load(o.cluster_key);
    if (!key.ok()) {
      return key.status().code() == StatusCode::kInvalidArgument ? UsageError(key.status()) : Fail(key.status());
    }
    cluster_key.emplace(std::move(*key));
  }
  if (!o.cluster.empty()) {
    cluster::JetStreamOptions jo;
    for (size_t at = 0; at <= o.cluster.size();) {
      const size_t comma = std::min(o.cluster.find(',', at), o.cluster.size());
      if (comma > at) jo.servers.push_back(o.cluster.substr(at, comma - at));
      at = comma + 1;
    }
    jo.stream = o.cluster_stream;
    jo.replicas = o.replicas;
    jo.credentials_file = o.cluster_credentials;
    jo.ca_file = o.cluster_ca;
    for (const std::string& url : jo.servers) {
      const size_t scheme = url.find("://"), at = url.find('@');
      if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
        fmt::print(stderr,
                   "custodian: warning: a NATS URL of --cluster carries credentials, which any account on this "
                   "machine can read in the process list; give them with --cluster-credentials FILE\n");
        break;
      }
    }
    jo.name = "custodian " + g.data_dir;
    Result<std::unique_ptr<cluster::JetStream>> connected = cluster::JetStream::Connect(jo);
    if (!connected.ok()) {
      return connected.status().code() == StatusCode::kInvalidArgument ? UsageError(connected.status())
                                                                        : Fail(connected.status());
    }
    js = std::move(*connected);
    store.replica = true;
    // A round is one message: at most half what the servers take.
    store.max_batch_bytes = static_cast<size_t>(std::clamp<int64_t>(js->max_payload() / 2, 64 << 10, 4 << 20));
    create = CreateIfMissing::kYes;  // a new node starts empty and replays the stream
  }

  Result<std::unique_ptr<EventLog>> log = OpenStore(store, EventLogOptions::Mode::kReadWrite, create);
  if (!log.ok()) return Fail(log.status());
  std::unique_ptr<cluster::Node> node;
  if (js) {
    cluster::NodeOptions no;
    no.writer = o.partition_writer;
    no.key = cluster_key;
    no.refused = [](const std::string& why) {
      fmt::print(stderr, "custodian: a message on the cluster's NATS subjects without the cluster key's tag: {}\n",
                 TerminalText(why));
    };
    if (lease) {
      no.lease = lease;
      no.lease_refused = [](const std::string& why) {
        if (why.empty()) {
          fmt::print(stderr, "custodian: etcd no longer refuses this node the writer's lease\n");
        } else {
          fmt::print(stderr, "custodian: etcd refuses this node the writer's lease, so it cannot take over writing: {}\n",
                     TerminalText(why));
        }
      };
    }
    fmt::print("custodian: joining the cluster: stream {} on {} NATS servers; this store holds sequence {}{}\n",
               o.cluster_stream, js->options().servers.size(), (*log)->applied_sequence(),
               o.partition_writer ? ", catching up before writing" : "");
    std::fflush(stdout);
    Result<std::unique_ptr<cluster::Node>> started = cluster::Node::Start(**log, *js, no);
    if (!started.ok()) {
      return started.status().code() == StatusCode::kInvalidArgument ? UsageError(started.status())
                                                                      : Fail(started.status());
    }
    node = std::move(*started);
  }
  if (node) {
    cluster::Node* n = node.get();
    api_options.cluster_status = [n] { return n->StatusJson(); };
  }
  {
    Api api(**log, std::move(api_options));
    Result<std::unique_ptr<Server>> server = Server::Start(api, options);
    if (!server.ok()) return server.status().code() == StatusCode::kInvalidArgument ? UsageError(server.status())
                                                                                     : Fail(server.status());
    const std::string host = options.listen.substr(0, options.listen.rfind(':'));
    fmt::print("custodian: serving {} on {}://{}:{} (store {}, {} events); GET /healthz, the API under /v1 "
               "(docs/http-api.md), {}; stop with Ctrl-C\n",
               g.data_dir, (*server)->tls() ? "https" : "http", host.empty() ? "0.0.0.0" : host, (*server)->port(),
               g.data_dir, (*log)->end().value(),
               web_dir.empty() ? std::string("no web UI (not built: see web/README.md)") : "the web UI at / (" + web_dir + ")");
    if (node) {
      fmt::print("custodian: {} of the cluster (stream {}), at sequence {}\n",
                 !o.lease.empty() && o.partition_writer
                     ? "a candidate writer (it writes while it holds the lease at " + o.lease + ")"
                     : node->writer() ? std::string("the partition writer")
                                      : std::string("a follower (appends go to the partition writer)"),
                 o.cluster_stream, (*log)->applied_sequence());
    }
    std::fflush(stdout);
    int signal = 0;
    sigwait(&stop_signals, &signal);
    fmt::print(stderr, "custodian: {}: finishing the requests in flight, then closing the store\n",
               signal == SIGINT ? "interrupted" : "terminated");
    (*server)->Stop();
    // Before the server and the API go: an append a follower forwards is
    // answered through both, and stopping the node lets the forwards still
    // running finish and refuses those still queued.
    node.reset();  // stops following and writing
  }
  js.reset();
  const uint64_t events = (*log)->end().value();
  log->reset();  // the writer drains and the store closes cleanly
  fmt::print(stderr, "custodian: stopped; the store at {} is closed ({} events)\n", g.data_dir, events);
  return kExitOk;
}

int RunNewClusterKey(const Globals& g, const std::string& out, bool json) {
  if (Status s = CheckOutPath(g, out); !s.ok()) return UsageError(s);
  if (Status s = cluster::ClusterKey::Create(out); !s.ok()) return Fail(s);
  if (json) {
    fmt::print("{{\"cluster_key\":{}}}\n", JsonQuote(out));
  } else {
    fmt::print("made a cluster key in {} (owner-only): copy it to every node of the cluster and give it to "
               "custodian serve --cluster-key\n",
               out);
  }
  return kExitOk;
}

}  // namespace custodian::cli
