// custodian-bench: write and read throughput of the EventLog, measured next
// to a raw-RocksDB peer doing the same work in the same run (STYLE.md,
// Benchmarks; figures quoted in docs/performance.md).
//
// Workloads (--workloads a,b,c; default all, always run in this order):
//   fdatasync               context: 512-byte appends to a plain file, each
//                           followed by fdatasync (the disk's durable-commit
//                           limit). No peer.
//   append_sync_single      one appender, one event per Append, sync on.
//                           Peer: one synced WriteBatch (record + stream-index
//                           key) per event.
//   append_sync_concurrent  --threads (32) appenders, one event per Append
//                           each, sync on; the EventLog's writer thread does
//                           group commit. Peer: the same clients enqueue to ONE
//                           writer thread that drains the queue into one
//                           synced WriteBatch per round and then wakes them.
//   append_sync_concurrent_personal
//                           append_sync_concurrent with personal parts on a
//                           third of the events (tools/bench_events.h, mix
//                           kPersonal: each sealed under its contact's key).
//                           Peer: the same workload on the same events
//                           without their personal parts (personal-free).
//   import_batched          AppendBatch of --batch (1,000) events spread over
//                           the streams, sync on. Peer: one synced WriteBatch
//                           per 1,000 events. Also reports peak resident
//                           memory (VmHWM); the memory target is for
//                           --events 10000000.
//   import_batched_personal import_batched with personal parts on a third of
//                           the events. Peer: personal-free, as above. Its
//                           stores are the ones read_stream_personal and
//                           erase use.
//   read_all                full scan with decoding (ScanAll) of the imported
//                           store. Peer: iterate the events family and
//                           DecodeRecord each value.
//   verify                  EventLog::Verify of the imported store: recompute
//                           every leaf from the records and check the stored
//                           Merkle tree and both indexes. Peer: the same
//                           scan with decoding and one SHA-256 per record
//                           (what any recomputation must at least do).
//   read_stream             all events of one random customer stream
//                           (ReadStream forward; ~100 events per stream at the
//                           default size); p50 / p99 latency over --samples
//                           reads. Peer: prefix scan of the stream index, then
//                           MultiGet and DecodeRecord.
//   read_stream_personal    read_stream in import_batched_personal's store,
//                           opening every personal part read
//                           (EventLog::OpenPersonal). Peer: the same reads in
//                           its personal-free store.
//   audited_read            the read_stream reads (10 x --samples), each
//                           recorded as a data.viewed event through an
//                           AccessRecorder (replay/access.h: one synced
//                           append per 256 reads). The "peer" column is the
//                           same reads without recording: the issue's bound
//                           is a slowdown of at most 10%.
//   as_of                   a customer with 1,000 events replayed as of a
//                           random business time (ReplayCustomer: read the
//                           stream, fold the events up to T), in the imported
//                           store; p50 / p99 latency over 500 replays. No peer.
//   stream_map              in the imported store: the first SignCheckpoint,
//                           which builds the stream map over every event
//                           (stream_map_build: events/s, and import_batched
//                           followed by it against import_batched alone),
//                           then --samples completeness proofs of random
//                           customer streams (stream_map_proof: p50 / p99,
//                           StreamMapProof and RootFromProof). No peer.
//   erase                   in import_batched_personal's store (--events),
//                           the time to erase one subject with its physical
//                           removal: append subject.erased (the log destroys
//                           the key, flushes every family and compacts the
//                           keys family) and call DestroySubjectKey; --repeats
//                           subjects one after another, the median reported.
//                           No peer.
//   http_append             over loopback HTTP (tools/bench_http.h: the
//                           server in this process, Api over an EventLog
//                           opened with the log's rules; real TCP clients):
//                           --threads (32) keep-alive clients, each POSTing
//                           one generated event (its JSON) at a time to
//                           /v1/streams/{stream}/events with an ingest token
//                           and waiting for the 201, for --seconds; events/s,
//                           p50 / p99 per request. Peer: the in-process
//                           append_sync_concurrent (EventLog::Append from as
//                           many threads, same events), run in this workload.
//   http_transport          http_append's ceiling on this machine: the same
//                           clients send the same requests (bodies, headers,
//                           token) to POST /healthz, which the server reads
//                           whole, routes and answers 405: loopback TCP,
//                           HTTP and the client, without authentication,
//                           event parsing, the log or the projections.
//                           requests/s. Peer: as http_append's.
//   http_append_batch       http_append with 100 events of one stream per
//                           request (a JSON array); events/s and requests/s.
//                           Peer: in-process Append of the same 100 events
//                           from as many threads.
//   http_read_customer      p50 / p99 of GET /v1/customers/{id} (until that
//                           route exists: GET /v1/streams/{stream}?limit=100,
//                           the row says which) from one client with an
//                           auditor token, on the imported store (each read
//                           recorded as the server records it: a synced
//                           data.viewed). Peer: the same streams read
//                           in-process (ReadStream of 100 events, not
//                           recorded).
//   cluster_append          append_sync_concurrent through a cluster
//                           (docs/scale-out.md) on the NATS servers of --nats
//                           (tools/nats-local.sh starts three on loopback): a
//                           writer node and a follower node in this process,
//                           each with its own store, a fresh R3 stream per
//                           run; --threads appenders on the writer, each
//                           append acknowledged once the stream's quorum
//                           holds it and the writer's store has it. Also the
//                           follower's lag: how long after the writer holds
//                           an event the follower holds it (p50 / p99 of a
//                           probe every 5 ms). Peer: append_sync_concurrent
//                           on one node (no cluster), same events.
//   cluster_import          import_batched through the cluster's writer. Peer:
//                           import_batched on one node.
//
// Events (tools/bench_events.h) are ~485-byte records (a ~280-byte JSON
// payload plus the envelope) with random UUID ids, spread over
// min(10,000, events / 100) `customer-<n>` streams, so a default run has
// 10,000 streams of 100 events. The sync
// workloads run for --seconds each (or until --events). The peer opens its
// store with the EventLog's own RocksDB settings (storage/tuning.h: the block
// cache, memtable budget, and each family's options, memtable insert hints
// included) but has no ids family, no Merkle tree, no validation and no
// content hashes: it is the floor Custodian is built on.
//
// Each side of each workload runs --repeats (3) times, alternating which side
// goes first, and the median run is reported with the spread of all runs.
// --sides custodian|peer runs one side only (to profile it with perf).
//
// The tool measures and reports; it never asserts a time. "met" columns say
// whether each target of the issue was reached on this run.
#include <fcntl.h>
#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "cluster/jetstream.h"
#include "cluster/node.h"
#include "core/crypto.h"
#include "core/event.h"
#include "core/personal.h"
#include "core/record.h"
#include "core/stream_map.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/time.h"
#include "replay/access.h"
#include "replay/customer.h"
#include "storage/event_log.h"
#include "storage/keys.h"
#include "storage/tuning.h"
#include "tools/bench_events.h"
#include "tools/bench_http.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using bench::EventFactory;
using bench::Mix;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kDefaultEvents = 1'000'000;
constexpr double kDefaultSeconds = 5.0;
constexpr int kDefaultThreads = 32;
constexpr size_t kDefaultBatch = 1'000;
constexpr size_t kDefaultSamples = 2'000;
constexpr int kDefaultRepeats = 3;
constexpr uint64_t kMaxStreams = 10'000;
constexpr uint64_t kEventsPerStream = 100;
constexpr size_t kFsyncWriteBytes = 512;
constexpr size_t kScanReadahead = 2 << 20;
constexpr size_t kMaxStreamRead = 1'000'000;
constexpr uint64_t kQuickEvents = 500;
constexpr double kQuickSeconds = 0.5;
constexpr size_t kQuickSamples = 50;
constexpr uint64_t kBytesPerMiB = 1 << 20;

// Targets from the issue.
constexpr double kConcurrentVsPeer = 0.8;
constexpr double kConcurrentVsSingle = 4.0;
constexpr double kImportVsPeer = 0.7;
constexpr double kReadAllEventsPerSecond = 500'000;
constexpr double kReadStreamP99Millis = 1.0;
constexpr uint64_t kImportMemoryEvents = 10'000'000;
constexpr uint64_t kImportMemoryLimitMiB = 512;

const std::vector<std::string> kAllWorkloads = {
    "fdatasync",   "append_sync_single",   "append_sync_concurrent", "append_sync_concurrent_personal",
    "import_batched", "import_batched_personal", "read_all",          "verify",
    "read_stream", "read_stream_personal", "audited_read",           "as_of",
    "stream_map",  "erase",       "http_append",          "http_transport",         "http_append_batch",
    "http_read_customer",
    "cluster_append", "cluster_import"};
constexpr double kAsOfP99Millis = 5;
// The stream map (issue 17): its cost to an import, and a proof's latency.
constexpr double kImportWithMapVsWithout = 0.9;
constexpr double kMapProofP99Millis = 10;
constexpr int kAsOfEvents = 1000;
constexpr double kVerifyEventsPerSecond = 300'000;
constexpr double kAuditedVsUnaudited = 0.9;
constexpr size_t kAuditBatch = 256;
// Personal data (issue 15): what sealing may cost the writes, and opening the
// reads, against the same workload without personal parts.
constexpr double kSealedVsPersonalFree = 0.85;
constexpr double kOpenedReadSlowdown = 1.10;
// The HTTP API (issue 16): appends over loopback against the same appends in-process.
constexpr double kHttpVsInProcess = 0.8;
constexpr size_t kHttpBatch = 100;
constexpr size_t kHttpReadLimit = 100;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "custodian-bench: {}\n", what);
  std::exit(1);
}

void Check(const Status& s, const std::string& context) {
  if (!s.ok()) Die(context + ": " + s.ToString());
}

void CheckRocks(const rocksdb::Status& s, const std::string& context) {
  if (!s.ok()) Die(context + ": RocksDB: " + s.ToString());
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// "1,234,567".
std::string Grouped(double value) {
  std::string digits = fmt::format("{:.0f}", value);
  std::string out;
  const size_t lead = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i - lead) % 3 == 0 && i >= lead) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Nearest-rank percentile of `sorted` (ascending), q in (0, 1].
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// --- Resident memory ---

// Returns freed heap to the OS and restarts the VmHWM peak from the current
// resident size (Linux >= 4.0), so each measured phase has its own peak.
void ResetPeakRss() {
  ::malloc_trim(0);
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

// Peak resident set size since the last reset, in bytes (0 when unknown).
uint64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// --- The raw-RocksDB peer ---

// The same writes as the EventLog minus its checks: a record in `events`
// keyed by position and a stream-index key in `streams`.
class PeerStore {
 public:
  explicit PeerStore(const std::string& dir) {
    // The EventLog's own RocksDB settings (storage/tuning.h).
    rocksdb::DBOptions db_options = StoreDbOptions();
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    std::shared_ptr<rocksdb::Cache> cache = NewStoreBlockCache();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), keys::kEventsFamily, keys::kStreamsFamily}) {
      families.emplace_back(name, StoreFamilyOptions(name, cache));
    }
    rocksdb::DB* raw = nullptr;
    CheckRocks(rocksdb::DB::Open(db_options, dir, families, &handles_, &raw), "open the peer at " + dir);
    db_.reset(raw);
    events_cf_ = handles_[1];
    streams_cf_ = handles_[2];
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
    it->SeekToLast();
    if (it->Valid()) {
      Position last;
      if (keys::ParseEventKey(it->key().ToStringView(), &last)) next_position_ = last.value() + 1;
    }
  }

  ~PeerStore() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }

  uint64_t size() const { return next_position_; }

  // Assigns position, version and recorded_at (as the EventLog's writer
  // does) and adds the event's two keys to `batch`. Not thread-safe.
  void Stage(Event& e, rocksdb::WriteBatch* batch) {
    uint64_t& next_version = stream_next_[e.stream];
    e.position = Position(next_position_++);
    e.version = StreamVersion(next_version++);
    e.recorded_at = SystemClock().Now();
    (void)batch->Put(events_cf_, keys::EventKey(e.position), EncodeRecord(e));
    (void)batch->Put(streams_cf_, keys::StreamKey(e.stream, e.version), keys::EncodeU64(e.position.value()));
  }

  void Write(rocksdb::WriteBatch* batch, Sync sync) {
    rocksdb::WriteOptions wo;
    wo.sync = sync == Sync::kYes;
    CheckRocks(db_->Write(wo, batch), "peer write");
  }

  // Visits every event in position order, decoded.
  uint64_t ScanAll(const std::function<void(const Event&)>& visit) const {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = kScanReadahead;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
    Event e;
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
      Check(DecodeRecord(it->value().ToStringView(), &e), "peer decode");
      visit(e);
    }
    CheckRocks(it->status(), "peer scan");
    return n;
  }

  std::vector<Event> ReadStream(const std::string& stream) const {
    const std::string prefix = keys::StreamPrefix(stream);
    std::vector<std::string> event_keys;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint64_t p = 0;
      if (!keys::DecodeU64(it->value().ToStringView(), &p)) Die("peer: bad stream index value");
      event_keys.push_back(keys::EventKey(Position(p)));
    }
    CheckRocks(it->status(), "peer stream scan");
    std::vector<rocksdb::Slice> slices(event_keys.begin(), event_keys.end());
    std::vector<rocksdb::PinnableSlice> values(slices.size());
    std::vector<rocksdb::Status> statuses(slices.size());
    db_->MultiGet(rocksdb::ReadOptions(), events_cf_, slices.size(), slices.data(), values.data(), statuses.data());
    std::vector<Event> events(slices.size());
    for (size_t i = 0; i < slices.size(); ++i) {
      CheckRocks(statuses[i], "peer MultiGet");
      Check(DecodeRecord(values[i].ToStringView(), &events[i]), "peer decode");
    }
    return events;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  uint64_t next_position_ = 0;
  std::unordered_map<std::string, uint64_t> stream_next_;
};

// The peer's group commit: clients enqueue, one writer thread drains the
// queue into one synced WriteBatch per round and then wakes each client.
class PeerGroupCommit {
 public:
  explicit PeerGroupCommit(PeerStore* store) : store_(store), writer_([this] { WriterLoop(); }) {}

  ~PeerGroupCommit() {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    writer_.join();
  }

  // Returns once the event is durable.
  void Append(Event e) {
    Request request{std::move(e), {}};
    std::future<void> done = request.done.get_future();
    {
      std::lock_guard lk(mu_);
      queue_.push_back(&request);
    }
    cv_.notify_one();
    done.get();
  }

 private:
  struct Request {
    Event event;
    std::promise<void> done;
  };

  void WriterLoop() {
    std::vector<Request*> round;
    while (true) {
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;
        round.swap(queue_);
      }
      rocksdb::WriteBatch batch;
      for (Request* r : round) store_->Stage(r->event, &batch);
      store_->Write(&batch, Sync::kYes);
      for (Request* r : round) r->done.set_value();
      round.clear();
    }
  }

  PeerStore* store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request*> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

// --- Results ---

struct Side {
  bool ran = false;
  double value = 0;      // events/s, or p99 latency in ms for read_stream
  std::string shown;     // how the value is printed
  std::string detail;    // latencies, counts
  uint64_t peak_rss = 0;
};

struct Row {
  std::string workload;
  Side custodian, peer;
  std::string ratio = "—";
  std::string target = "—";
  std::string met = "—";
};

std::string Mib(uint64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / kBytesPerMiB); }

std::string Rate(double per_second) { return Grouped(per_second) + "/s"; }

std::string YesNo(bool b) { return b ? "yes" : "**no**"; }

struct Options {
  uint64_t events = kDefaultEvents;
  double seconds = kDefaultSeconds;
  int threads = kDefaultThreads;
  size_t batch = kDefaultBatch;
  size_t samples = kDefaultSamples;
  int repeats = kDefaultRepeats;
  uint64_t seed = 42;
  uint64_t streams = kMaxStreams;
  std::string nats;  // the NATS servers of the cluster_* workloads (tools/nats-local.sh)
};

// Whether a store is opened with a master key, so that personal parts are
// sealed and opened. The key lives beside the store in <dir>.keys/, where
// the command line keeps it by default (a fresh one is made there for a new
// store).
enum class MasterKey { kNone, kBeside };

std::string MasterKeyFileOf(const std::string& dir) { return dir + ".keys/master.key"; }

MasterKey KeyFor(Mix mix) { return mix == Mix::kInteractions ? MasterKey::kNone : MasterKey::kBeside; }

std::unique_ptr<EventLog> OpenLog(const std::string& dir, Sync sync, MasterKey key = MasterKey::kNone) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.sync = sync;
  if (key == MasterKey::kBeside) options.master_key_file = MasterKeyFileOf(dir);
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  Check(log.status(), "open the EventLog at " + dir);
  return std::move(*log);
}

std::string LatencySummary(std::vector<double> millis) {
  std::sort(millis.begin(), millis.end());
  return fmt::format("p50 {:.2f} ms, p99 {:.2f} ms", Percentile(millis, 0.5), Percentile(millis, 0.99));
}

// --- Workloads ---

Row RunFdatasync(const Options& opt, const fs::path& scratch) {
  Row row{"fdatasync"};
  row.target = "context: the disk's durable-commit limit";
  const fs::path path = scratch / "fdatasync.dat";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
  if (fd < 0) Die("cannot create " + path.string() + ": " + std::strerror(errno));
  const std::string block(kFsyncWriteBytes, 'x');
  uint64_t n = 0;
  const auto start = SteadyClock::now();
  while (SecondsSince(start) < opt.seconds && n < opt.events) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0) {
      Die("write or fdatasync of " + path.string() + " failed: " + std::strerror(errno));
    }
    ++n;
  }
  const double elapsed = SecondsSince(start);
  ::close(fd);
  fs::remove(path);
  row.custodian = {true, n / elapsed, Rate(n / elapsed), fmt::format("{} appends of {} B", n, kFsyncWriteBytes), 0};
  return row;
}

Side SingleCustodian(const Options& opt, const fs::path& dir) {
  auto log = OpenLog(dir, Sync::kYes);
  EventFactory factory(opt.seed, opt.streams);
  std::vector<double> latencies;
  ResetPeakRss();
  const auto start = SteadyClock::now();
  while (SecondsSince(start) < opt.seconds && latencies.size() < opt.events) {
    Event e = factory.Next();
    std::string stream = e.stream;
    const auto t0 = SteadyClock::now();
    Result<AppendResult> r = log->Append(std::move(stream), {std::move(e)});
    latencies.push_back(SecondsSince(t0) * 1e3);
    Check(r.status(), "append");
  }
  const double rate = latencies.size() / SecondsSince(start);
  return {true, rate, Rate(rate), LatencySummary(latencies), PeakRssBytes()};
}

Side SinglePeer(const Options& opt, const fs::path& dir) {
  PeerStore peer(dir);
  EventFactory factory(opt.seed, opt.streams);
  std::vector<double> latencies;
  ResetPeakRss();
  const auto start = SteadyClock::now();
  while (SecondsSince(start) < opt.seconds && latencies.size() < opt.events) {
    Event e = factory.Next();
    const auto t0 = SteadyClock::now();
    rocksdb::WriteBatch batch;
    peer.Stage(e, &batch);
    peer.Write(&batch, Sync::kYes);
    latencies.push_back(SecondsSince(t0) * 1e3);
  }
  const double rate = latencies.size() / SecondsSince(start);
  return {true, rate, Rate(rate), LatencySummary(latencies), PeakRssBytes()};
}

// The process's CPU (every thread, user + system) per event, in microseconds.
std::string CpuPerEvent(double cpu_seconds, uint64_t events) {
  if (events == 0) return "no events";
  return fmt::format("{:.1f} us of CPU per event", cpu_seconds * 1e6 / static_cast<double>(events));
}

// Runs `append(event)` from opt.threads threads, each with its own factory
// of `mix`, until the time or event budget is spent.
Side RunConcurrent(const Options& opt, Mix mix, const std::function<void(const Event&)>& append) {
  std::atomic<uint64_t> claimed{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(opt.threads);
  std::vector<std::thread> threads;
  ResetPeakRss();
  const auto start = SteadyClock::now();
  const double cpu_start = bench::ProcessCpuSeconds();
  for (int t = 0; t < opt.threads; ++t) {
    threads.emplace_back([&, t] {
      EventFactory factory(opt.seed + 1 + t, opt.streams, mix);
      while (!stop.load(std::memory_order_relaxed) && claimed.fetch_add(1) < opt.events) {
        Event e = factory.Next();
        const auto t0 = SteadyClock::now();
        append(e);
        latencies[t].push_back(SecondsSince(t0) * 1e3);
      }
    });
  }
  while (SecondsSince(start) < opt.seconds && claimed.load() < opt.events) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  for (auto& th : threads) th.join();
  const double elapsed = SecondsSince(start);
  const double cpu = bench::ProcessCpuSeconds() - cpu_start;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const double rate = all.size() / elapsed;
  return {true, rate, Rate(rate), LatencySummary(all) + "; " + CpuPerEvent(cpu, all.size()), PeakRssBytes()};
}

// RunConcurrent with `per_call` events of one stream per call: the in-process
// peer of http_append_batch. Its value is events/s; requests/s are shown too.
Side RunConcurrentBatches(const Options& opt, size_t per_call,
                          const std::function<void(std::string, std::vector<Event>)>& append) {
  std::atomic<uint64_t> claimed{0}, calls{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(opt.threads);
  std::vector<std::thread> threads;
  ResetPeakRss();
  const auto start = SteadyClock::now();
  for (int t = 0; t < opt.threads; ++t) {
    threads.emplace_back([&, t] {
      EventFactory factory(opt.seed + 1 + t, opt.streams, Mix::kInteractions);
      while (!stop.load(std::memory_order_relaxed) && claimed.fetch_add(per_call) < opt.events) {
        std::vector<Event> events;
        for (size_t i = 0; i < per_call; ++i) {
          events.push_back(factory.Next());
          events.back().stream = events.front().stream;  // as http_append_batch sends them
        }
        std::string stream = events.front().stream;
        const auto t0 = SteadyClock::now();
        append(std::move(stream), std::move(events));
        latencies[t].push_back(SecondsSince(t0) * 1e3);
        calls.fetch_add(1);
      }
    });
  }
  while (SecondsSince(start) < opt.seconds && claimed.load() < opt.events) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  for (auto& th : threads) th.join();
  const double elapsed = SecondsSince(start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const double rate = static_cast<double>(calls.load() * per_call) / elapsed;
  return {true, rate, fmt::format("{} ({} calls/s)", Rate(rate), Grouped(calls.load() / elapsed)),
          LatencySummary(all) + " per call of " + std::to_string(per_call), PeakRssBytes()};
}

// Both imports are pipelined the same way: the calling thread makes the next
// batch (events, and on the peer's side the encoded WriteBatch) while one
// batch is being written, with at most kImportDepth batches in flight. The
// time is wall-clock from the first event made to the last batch on disk.
constexpr size_t kImportDepth = 2;

Side ImportInto(EventLog* log, const Options& opt, Mix mix);

Side ImportCustodian(const Options& opt, const fs::path& dir, Sync sync, Mix mix = Mix::kInteractions) {
  auto log = OpenLog(dir, sync, KeyFor(mix));
  return ImportInto(log.get(), opt, mix);
}

// AppendBatchAsync of opt.batch events at a time, a few batches in flight.
Side ImportInto(EventLog* log, const Options& opt, Mix mix) {
  EventFactory factory(opt.seed, opt.streams, mix);
  ResetPeakRss();
  uint64_t done = 0, next_progress = opt.events / 10;
  std::deque<std::future<Result<std::vector<AppendResult>>>> in_flight;
  const auto start = SteadyClock::now();
  const double cpu_start = bench::ProcessCpuSeconds();
  while (done < opt.events) {
    const size_t n = std::min<uint64_t>(opt.batch, opt.events - done);
    std::vector<AppendRequest> requests;
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < n; ++i) {
      Event e = factory.NextFromDeck();
      auto [it, inserted] = index.emplace(e.stream, requests.size());
      if (inserted) requests.push_back({e.stream, ExpectedVersion::Any(), {}});
      requests[it->second].events.push_back(std::move(e));
    }
    if (in_flight.size() == kImportDepth) {
      Check(in_flight.front().get().status(), "append batch");
      in_flight.pop_front();
    }
    in_flight.push_back(log->AppendBatchAsync(std::move(requests)));
    done += n;
    if (done >= next_progress && opt.events >= 100'000) {
      fmt::print(stderr, "  custodian import: {} / {} events\n", Grouped(done), Grouped(opt.events));
      next_progress += opt.events / 10;
    }
  }
  for (auto& f : in_flight) Check(f.get().status(), "append batch");
  const double busy = SecondsSince(start);
  const double cpu = bench::ProcessCpuSeconds() - cpu_start;
  const double rate = done / busy;
  return {true, rate, Rate(rate), fmt::format("{} events in {:.2f} s; {}", Grouped(done), busy, CpuPerEvent(cpu, done)),
          PeakRssBytes()};
}

// --- The cluster workloads (docs/scale-out.md) ---

// One node of a cluster in this process: its store, its connection, its role.
struct ClusterNodeRun {
  std::unique_ptr<cluster::JetStream> js;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<cluster::Node> node;
  ~ClusterNodeRun() {
    node.reset();
    log.reset();
    js.reset();
  }
};

std::unique_ptr<ClusterNodeRun> StartClusterNode(const Options& opt, const std::string& stream, const fs::path& dir,
                                                 bool writer) {
  auto n = std::make_unique<ClusterNodeRun>();
  cluster::JetStreamOptions jo;
  for (size_t at = 0; at <= opt.nats.size();) {
    const size_t comma = std::min(opt.nats.find(',', at), opt.nats.size());
    if (comma > at) jo.servers.push_back(opt.nats.substr(at, comma - at));
    at = comma + 1;
  }
  jo.stream = stream;
  jo.name = "custodian-bench " + dir.filename().string();
  Result<std::unique_ptr<cluster::JetStream>> js = cluster::JetStream::Connect(jo);
  Check(js.status(), "connect to the NATS servers " + opt.nats);
  n->js = std::move(*js);
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.replica = true;
  options.max_batch_bytes = static_cast<size_t>(std::clamp<int64_t>(n->js->max_payload() / 2, 64 << 10, 4 << 20));
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir.string(), options);
  Check(log.status(), "open the node's store at " + dir.string());
  n->log = std::move(*log);
  cluster::NodeOptions no;
  static const cluster::ClusterKey key(crypto::RandomBytes(cluster::kClusterKeyBytes));  // this run's nodes share it
  no.key = key;
  no.writer = writer;
  Result<std::unique_ptr<cluster::Node>> node = cluster::Node::Start(*n->log, *n->js, no);
  Check(node.status(), "start the node");
  n->node = std::move(*node);
  return n;
}

// A stream of its own for each run, so that every run starts empty.
std::string ClusterStreamName(const std::string& workload, int rep) {
  return fmt::format("BENCH_{}_{}_{}_{}", workload, rep, ::getpid(), std::time(nullptr));
}

// How far behind the writer a follower is: every 5 ms, the time from a look
// at the writer's end until the follower holds it.
class LagProbe {
 public:
  LagProbe(EventLog& writer, EventLog& follower)
      : thread_([this, &writer, &follower] {
          while (!stop_.load()) {
            const uint64_t end = writer.end().value();
            const auto t0 = SteadyClock::now();
            if (end > 0 && !follower.AwaitPosition(end - 1, std::chrono::seconds(30))) ++timeouts_;
            if (end > 0) lags_.push_back(SecondsSince(t0) * 1e3);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }) {}
  ~LagProbe() { Stop(); }
  std::string Stop() {
    if (thread_.joinable()) {
      stop_.store(true);
      thread_.join();
    }
    return fmt::format("follower lag {} over {} probes{}", LatencySummary(lags_), lags_.size(),
                       timeouts_ > 0 ? fmt::format(" ({} over 30 s)", timeouts_) : "");
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<double> lags_;
  int timeouts_ = 0;
  std::thread thread_;
};

Side ImportPeer(const Options& opt, const fs::path& dir, Sync sync) {
  PeerStore peer(dir);
  EventFactory factory(opt.seed, opt.streams);
  ResetPeakRss();
  uint64_t done = 0, next_progress = opt.events / 10;
  // One writer thread, fed through a queue of at most kImportDepth batches.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<rocksdb::WriteBatch>> queue;
  bool finished = false;
  std::thread writer([&] {
    while (true) {
      std::unique_ptr<rocksdb::WriteBatch> batch;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return !queue.empty() || finished; });
        if (queue.empty()) return;
        batch = std::move(queue.front());
        queue.pop_front();
      }
      cv.notify_all();
      peer.Write(batch.get(), sync);
    }
  });
  const auto start = SteadyClock::now();
  while (done < opt.events) {
    const size_t n = std::min<uint64_t>(opt.batch, opt.events - done);
    auto batch = std::make_unique<rocksdb::WriteBatch>();
    for (size_t i = 0; i < n; ++i) {
      Event e = factory.NextFromDeck();
      peer.Stage(e, batch.get());
    }
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return queue.size() < kImportDepth - 1; });
      queue.push_back(std::move(batch));
    }
    cv.notify_all();
    done += n;
    if (done >= next_progress && opt.events >= 100'000) {
      fmt::print(stderr, "  peer import: {} / {} events\n", Grouped(done), Grouped(opt.events));
      next_progress += opt.events / 10;
    }
  }
  {
    std::lock_guard lk(mu);
    finished = true;
  }
  cv.notify_all();
  writer.join();
  const double busy = SecondsSince(start);
  const double rate = done / busy;
  return {true, rate, Rate(rate), fmt::format("{} events in {:.2f} s", Grouped(done), busy), PeakRssBytes()};
}

Side ReadAllCustodian(const fs::path& dir) {
  auto log = OpenLog(dir, Sync::kYes);
  ResetPeakRss();
  uint64_t n = 0, bytes = 0;
  const auto start = SteadyClock::now();
  Check(log->ScanAll(Position(0),
                     [&](const Event& e) {
                       ++n;
                       bytes += e.data.size();
                       return true;
                     }),
        "scan");
  const double rate = n / SecondsSince(start);
  return {true, rate, Rate(rate), fmt::format("{} events", Grouped(n)), PeakRssBytes()};
}

Side ReadAllPeer(const fs::path& dir) {
  PeerStore peer(dir);
  ResetPeakRss();
  uint64_t bytes = 0;
  const auto start = SteadyClock::now();
  const uint64_t n = peer.ScanAll([&](const Event& e) { bytes += e.data.size(); });
  const double rate = n / SecondsSince(start);
  return {true, rate, Rate(rate), fmt::format("{} events", Grouped(n)), PeakRssBytes()};
}

// Reads whole streams chosen at random (a warm-up of a tenth of the samples
// first, not counted); value is the p99 in milliseconds.
Side ReadStreams(const Options& opt, const std::function<size_t(const std::string&)>& read) {
  std::mt19937_64 rng(opt.seed);
  std::vector<double> latencies;
  uint64_t events = 0;
  ResetPeakRss();
  const size_t warmup = opt.samples / 10;
  for (size_t i = 0; i < warmup + opt.samples; ++i) {
    const std::string stream = "customer-" + std::to_string(rng() % opt.streams);
    const auto t0 = SteadyClock::now();
    const size_t n = read(stream);
    const double ms = SecondsSince(t0) * 1e3;
    if (i < warmup) continue;
    latencies.push_back(ms);
    events += n;
  }
  std::sort(latencies.begin(), latencies.end());
  const double p50 = Percentile(latencies, 0.5), p99 = Percentile(latencies, 0.99);
  return {true, p99, fmt::format("p50 {:.3f} ms, p99 {:.3f} ms", p50, p99),
          fmt::format("{} reads, {:.1f} events per stream", latencies.size(),
                      static_cast<double>(events) / std::max<size_t>(1, latencies.size())),
          PeakRssBytes()};
}

// --- The run ---

class Bench {
 public:
  Bench(Options opt, fs::path scratch, const std::string& sides)
      : opt_(opt), scratch_(std::move(scratch)), custodian_(sides != "peer"), peer_(sides != "custodian") {}

  std::vector<Row> Run(const std::vector<std::string>& workloads) {
    auto wants = [&](const char* w) { return std::find(workloads.begin(), workloads.end(), w) != workloads.end(); };
    std::vector<Row> rows;
    std::optional<double> single_rate;
    if (wants("fdatasync")) {
      Progress("fdatasync");
      rows.push_back(RunFdatasync(opt_, scratch_));
    }
    if (wants("append_sync_single")) {
      Progress("append_sync_single");
      Row row{"append_sync_single"};
      Measure(
          &row, [&](int rep) { return SingleCustodian(opt_, Fresh("single-custodian", rep)); },
          [&](int rep) { return SinglePeer(opt_, Fresh("single-peer", rep)); });
      row.target = "context: the one-fsync-per-event rate";
      if (custodian_) single_rate = row.custodian.value;
      rows.push_back(row);
    }
    if (wants("append_sync_concurrent")) {
      Progress("append_sync_concurrent");
      rows.push_back(Concurrent(single_rate));
    }
    if (wants("append_sync_concurrent_personal")) {
      Progress("append_sync_concurrent_personal");
      Row row{"append_sync_concurrent_personal"};
      Measure(
          &row, [&](int rep) { return ConcurrentCustodian("concurrent-personal", rep, Mix::kPersonal); },
          [&](int rep) { return ConcurrentCustodian("concurrent-personal-free", rep, Mix::kPersonalFree); });
      SealingTarget(&row);
      rows.push_back(row);
    }
    if (wants("import_batched")) {
      Progress("import_batched");
      Row row{"import_batched"};
      Measure(
          &row, [&](int rep) { return ImportCustodian(opt_, ImportStore("import-custodian", rep), Sync::kYes); },
          [&](int rep) { return ImportPeer(opt_, ImportStore("import-peer", rep), Sync::kYes); });
      imported_ = true;
      import_rate_ = row.custodian.value;
      row.target = fmt::format(">= {:.1f}x peer", kImportVsPeer);
      if (custodian_ && peer_) row.met = YesNo(row.custodian.value >= kImportVsPeer * row.peer.value);
      rows.push_back(row);
      rows.push_back(MemoryRow(row.custodian.peak_rss, row.peer.peak_rss));
    }
    if (wants("import_batched_personal")) {
      Progress("import_batched_personal");
      Row row{"import_batched_personal"};
      Measure(
          &row,
          [&](int rep) {
            return ImportCustodian(opt_, ImportStore("import-personal", rep), Sync::kYes, Mix::kPersonal);
          },
          [&](int rep) {
            return ImportCustodian(opt_, ImportStore("import-personal-free", rep), Sync::kYes, Mix::kPersonalFree);
          });
      personal_imported_ = true;
      SealingTarget(&row);
      rows.push_back(row);
    }
    if (wants("read_all")) {
      EnsureImported();
      Progress("read_all");
      Row row{"read_all"};
      Measure(
          &row, [&](int) { return ReadAllCustodian(CustodianStore()); },
          [&](int) { return ReadAllPeer(PeerStorePath()); });
      row.target = fmt::format(">= {} events/s", Grouped(kReadAllEventsPerSecond));
      if (custodian_) row.met = YesNo(row.custodian.value >= kReadAllEventsPerSecond);
      rows.push_back(row);
    }
    if (wants("verify")) {
      EnsureImported();
      Progress("verify");
      Row row{"verify"};
      Measure(
          &row,
          [&](int) {
            auto log = OpenLog(CustodianStore(), Sync::kYes);
            ResetPeakRss();
            const auto start = SteadyClock::now();
            Result<VerifyReport> report = log->Verify();
            const double secs = SecondsSince(start);
            Check(report.status(), "verify");
            if (!report->ok) Die("verify found a problem in the benchmark's own store: " + report->problem);
            const double rate = report->events / secs;
            return Side{true, rate, Rate(rate), fmt::format("{} events", Grouped(report->events)), PeakRssBytes()};
          },
          [&](int) {
            PeerStore peer(PeerStorePath());
            ResetPeakRss();
            const auto start = SteadyClock::now();
            uint64_t sink = 0;
            const uint64_t n = peer.ScanAll([&](const Event& e) { sink += Sha256(e.data)[0]; });
            const double rate = n / SecondsSince(start);
            return Side{true, rate, Rate(rate), fmt::format("{} events (checksum {})", Grouped(n), sink % 10),
                        PeakRssBytes()};
          });
      row.target = fmt::format(">= {} events/s", Grouped(kVerifyEventsPerSecond));
      if (custodian_) row.met = YesNo(row.custodian.value >= kVerifyEventsPerSecond);
      rows.push_back(row);
    }
    if (wants("read_stream")) {
      EnsureImported();
      Progress("read_stream");
      Row row{"read_stream"};
      Measure(
          &row,
          [&](int) { return ReadStreamsCustodian(CustodianStore(), MasterKey::kNone); },
          [&](int) {
            PeerStore peer(PeerStorePath());
            return ReadStreams(opt_, [&](const std::string& stream) { return peer.ReadStream(stream).size(); });
          },
          Better::kLower);
      row.target = fmt::format("p99 < {:.0f} ms", kReadStreamP99Millis);
      if (custodian_) row.met = YesNo(row.custodian.value < kReadStreamP99Millis);
      rows.push_back(row);
    }
    if (wants("read_stream_personal")) {
      EnsurePersonalImported();
      Progress("read_stream_personal");
      Row row{"read_stream_personal"};
      Measure(
          &row, [&](int) { return ReadStreamsCustodian(PersonalStore(), MasterKey::kBeside); },
          [&](int) { return ReadStreamsCustodian(PersonalFreeStore(), MasterKey::kBeside); }, Better::kLower);
      row.target = fmt::format("opening adds < {:.0f}% to the p99 (>= {:.2f}x personal-free, peer column)",
                               (kOpenedReadSlowdown - 1) * 100, 1 / kOpenedReadSlowdown);
      if (custodian_ && peer_) row.met = YesNo(row.custodian.value <= kOpenedReadSlowdown * row.peer.value);
      rows.push_back(row);
    }
    if (wants("audited_read")) {
      EnsureImported();
      Progress("audited_read");
      Row row{"audited_read"};
      Measure(
          &row, [&](int) { return AuditedReads(true); }, [&](int) { return AuditedReads(false); });
      row.target = fmt::format(">= {:.1f}x the same reads unaudited (peer column)", kAuditedVsUnaudited);
      if (custodian_ && peer_) row.met = YesNo(row.custodian.value >= kAuditedVsUnaudited * row.peer.value);
      rows.push_back(row);
    }
    if (wants("as_of") && custodian_) {
      EnsureImported();
      Progress("as_of");
      Row row{"as_of"};
      std::vector<Side> runs;
      for (int rep = 0; rep < opt_.repeats; ++rep) runs.push_back(AsOf());
      std::sort(runs.begin(), runs.end(), [](const Side& a, const Side& b) { return a.value < b.value; });
      row.custodian = runs[runs.size() / 2];
      row.target = fmt::format("p99 < {:.0f} ms for {} events", kAsOfP99Millis, kAsOfEvents);
      row.met = YesNo(row.custodian.value < kAsOfP99Millis);
      rows.push_back(row);
    }
    if (wants("stream_map") && custodian_) {
      EnsureImported();
      Progress("stream_map");
      StreamMap(&rows);
    }
    if (wants("erase") && custodian_) {
      EnsurePersonalImported();
      Progress("erase");
      rows.push_back(Erase());
    }
    if (wants("http_append")) {
      Progress("http_append");
      Row row{"http_append"};
      Measure(
          &row, [&](int rep) { return HttpAppend("http-append", rep, 1); },
          [&](int rep) { return ConcurrentCustodian("http-append-inprocess", rep, Mix::kInteractions); });
      row.target = fmt::format(">= {:.1f}x in-process append_sync_concurrent (peer column)", kHttpVsInProcess);
      if (custodian_ && peer_) row.met = YesNo(row.custodian.value >= kHttpVsInProcess * row.peer.value);
      rows.push_back(row);
    }
    if (wants("http_transport")) {
      Progress("http_transport");
      Row row{"http_transport"};
      Measure(
          &row, [&](int rep) { return HttpAppend("http-transport", rep, 1, /*transport_only=*/true); },
          [&](int rep) { return ConcurrentCustodian("http-transport-inprocess", rep, Mix::kInteractions); });
      row.target = fmt::format(
          "context: http_append's ceiling on this machine (its requests answered without the API's work); "
          "http_append's target is {:.1f}x the peer",
          kHttpVsInProcess);
      rows.push_back(row);
    }
    if (wants("http_append_batch")) {
      Progress("http_append_batch");
      Row row{"http_append_batch"};
      Measure(
          &row, [&](int rep) { return HttpAppend("http-append-batch", rep, kHttpBatch); },
          [&](int rep) {
            auto log = OpenLog(Fresh("http-append-batch-inprocess", rep), Sync::kYes);
            return RunConcurrentBatches(opt_, kHttpBatch, [&](std::string stream, std::vector<Event> events) {
              Check(log->Append(std::move(stream), std::move(events)).status(), "append");
            });
          });
      row.target = fmt::format("context: {} events per request; peer: in-process Append of the same", kHttpBatch);
      rows.push_back(row);
    }
    for (const char* w : {"cluster_append", "cluster_import"}) {
      if (!wants(w)) continue;
      Progress(w);
      Row row{w};
      const bool append = std::string_view(w) == "cluster_append";
      if (opt_.nats.empty()) {
        row.target = "needs --nats (tools/nats-local.sh start DIR prints it)";
        row.met = "not run";
        rows.push_back(row);
        continue;
      }
      Measure(
          &row, [&](int rep) { return append ? ClusterAppend(rep) : ClusterImport(rep); },
          [&](int rep) {
            return append ? ConcurrentCustodian("cluster-append-one-node", rep, Mix::kInteractions)
                          : ImportCustodian(opt_, Fresh("cluster-import-one-node", rep), Sync::kYes);
          });
      row.target = append ? "context: durable appends through an R3 cluster; peer: one node"
                          : "context: import through an R3 cluster; peer: one node";
      rows.push_back(row);
    }
    if (wants("http_read_customer")) {
      EnsureImported();
      EnsureCustodianImported();
      Progress("http_read_customer");
      Row row{"http_read_customer"};
      Measure(
          &row,
          [&](int) {
            std::unique_ptr<bench::HttpReader> reader = bench::HttpReader::Start(CustodianStore());
            Side side = ReadStreams(opt_, [&](const std::string& stream) { return reader->Read(stream); });
            side.detail += fmt::format("; {}; {}", reader->route(), reader->setup());
            return side;
          },
          [&](int) {
            auto log = OpenLog(CustodianStore(), Sync::kYes);
            Side side = ReadStreams(opt_, [&](const std::string& stream) {
              Result<std::vector<Event>> r = log->ReadStream(stream, StreamVersion(0), Direction::kForward, kHttpReadLimit);
              Check(r.status(), "read stream " + stream);
              return r->size();
            });
            side.detail += ", in-process ReadStream, not recorded";
            return side;
          },
          Better::kLower);
      row.target = "context: p99 over HTTP against the same reads in-process (peer column)";
      rows.push_back(row);
    }
    return rows;
  }

 private:
  enum class Better { kHigher, kLower };

  // The personal-data workloads' target: the workload with personal parts
  // (custodian column) against the same one without (peer column).
  void SealingTarget(Row* row) const {
    row->target = fmt::format(">= {:.2f}x personal-free (peer column): sealing costs < {:.0f}%",
                              kSealedVsPersonalFree, (1 - kSealedVsPersonalFree) * 100);
    if (custodian_ && peer_) row->met = YesNo(row->custodian.value >= kSealedVsPersonalFree * row->peer.value);
  }

  // read_stream on an EventLog store; every personal part met is opened
  // (none are met in a store without them), and the share of the reads'
  // time spent opening is reported.
  Side ReadStreamsCustodian(const fs::path& store, MasterKey key) {
    auto log = OpenLog(store, Sync::kYes, key);
    uint64_t opened = 0;
    double opening = 0, reading = 0;
    Side side = ReadStreams(opt_, [&](const std::string& stream) {
      const auto t0 = SteadyClock::now();
      Result<std::vector<Event>> r = log->ReadStream(stream, StreamVersion(0), Direction::kForward, kMaxStreamRead);
      Check(r.status(), "read stream " + stream);
      const auto t1 = SteadyClock::now();
      for (const Event& e : *r) {
        if (e.personal.empty()) continue;
        Result<EventLog::PersonalView> view = log->OpenPersonal(e);
        Check(view.status(), "open the personal part of " + e.id.ToString());
        if (view->state != EventLog::PersonalView::State::kOpen) {
          Die("the personal part of " + e.id.ToString() + " (" + e.personal.subject + ") did not open");
        }
        ++opened;
      }
      opening += SecondsSince(t1);
      reading += std::chrono::duration<double>(t1 - t0).count();
      return r->size();
    });
    if (opened > 0) {
      side.detail += fmt::format(", {} personal parts opened ({:.1f} per read, {:.0f}% of the time)", Grouped(opened),
                                 static_cast<double>(opened) / (opt_.samples + opt_.samples / 10),
                                 100 * opening / (opening + reading));
    }
    return side;
  }

  // Erases opt_.repeats subjects of the personal store one after another, as
  // `custodian people erase` does: subject.erased appended (the log destroys
  // the key and purges it from the files as it commits the event), then
  // DestroySubjectKey (which finds it done). Each subject is the first
  // contact with sealed events in a random customer's stream; afterwards its
  // events must read as erased. Value: the median time in ms.
  Row Erase() {
    Row row{"erase"};
    row.target = "context: one subject, its key gone from the store's files";
    auto log = OpenLog(PersonalStore(), Sync::kYes, MasterKey::kBeside);
    std::mt19937_64 rng(opt_.seed + 15);
    std::vector<Side> runs;
    ResetPeakRss();
    while (runs.size() < static_cast<size_t>(opt_.repeats)) {
      const std::string stream = "customer-" + std::to_string(rng() % opt_.streams);
      Result<std::vector<Event>> events = log->ReadStream(stream, StreamVersion(0), Direction::kForward, kMaxStreamRead);
      Check(events.status(), "read stream " + stream);
      auto sealed = std::find_if(events->begin(), events->end(), [&](const Event& e) {
        if (e.personal.empty()) return false;
        Result<EventLog::PersonalView> view = log->OpenPersonal(e);
        return view.ok() && view->state == EventLog::PersonalView::State::kOpen;
      });
      if (sealed == events->end()) continue;  // nobody left to erase there
      const std::string subject = sealed->personal.subject;
      Result<SubjectRef> ref = ParseSubjectId(subject);
      Check(ref.status(), "the subject of " + sealed->id.ToString());
      const size_t sealed_events = std::count_if(events->begin(), events->end(), [&](const Event& e) {
        return e.personal.subject == subject;
      });
      constexpr char kReason[] = "benchmark: the person asked to be forgotten";
      Event erased;
      erased.id = EventId::Random();
      erased.stream = ref->stream;
      erased.type = "subject.erased";
      erased.actor = "staff-1";
      erased.occurred_at = SystemClock().Now();
      erased.source = "bench";
      erased.data = fmt::format(R"({{"subject":"{}","reason":"data_subject_request","details":"{}"}})", ref->subject,
                                kReason);
      const auto t0 = SteadyClock::now();
      Result<AppendResult> appended = log->Append(std::string(ref->stream), {std::move(erased)});
      Check(appended.status(), "append subject.erased for " + subject);
      const double append_ms = SecondsSince(t0) * 1e3;
      const auto t1 = SteadyClock::now();
      Check(log->DestroySubjectKey(subject, appended->positions.front().value(), kReason),
            "destroy the key of " + subject);
      const double destroy_ms = SecondsSince(t1) * 1e3;
      const double ms = SecondsSince(t0) * 1e3;
      Result<EventLog::PersonalView> after = log->OpenPersonal(*sealed);
      Check(after.status(), "open " + sealed->id.ToString() + " after the erasure");
      if (after->state != EventLog::PersonalView::State::kErased) Die("erased " + subject + " but it still opens");
      runs.push_back({true, ms, fmt::format("{:.0f} ms", ms),
                      fmt::format("{} ({} sealed events in its stream): append {:.1f} ms (key destroyed, families "
                                  "flushed, keys family compacted), DestroySubjectKey {:.2f} ms",
                                  subject, sealed_events, append_ms, destroy_ms),
                      PeakRssBytes()});
    }
    row.custodian = Median(std::move(runs));
    row.custodian.detail += fmt::format("; store of {} events", Grouped(log->end().value()));
    return row;
  }

  // Reads random customer streams; with `audit`, records each read as a
  // data.viewed of that customer by one of 40 readers, in batches.
  Side AuditedReads(bool audit) {
    auto log = OpenLog(CustodianStore(), Sync::kYes);
    std::optional<AccessRecorder> recorder;
    if (audit) recorder.emplace(*log, kAuditBatch);
    std::mt19937_64 rng(opt_.seed);
    const size_t n = 10 * opt_.samples;
    uint64_t events = 0;
    ResetPeakRss();
    const auto start = SteadyClock::now();
    for (size_t i = 0; i < n; ++i) {
      const std::string stream = "customer-" + std::to_string(rng() % opt_.streams);
      Result<std::vector<Event>> r = log->ReadStream(stream, StreamVersion(0), Direction::kForward, kMaxStreamRead);
      Check(r.status(), "read stream " + stream);
      events += r->size();
      if (recorder) {
        const Access a{"staff-" + std::to_string(1 + i % 40), false, "timeline", {stream}, r->size(), "", "api"};
        Check(recorder->Record(a), "record the read");
      }
    }
    if (recorder) Check(recorder->Flush(), "flush the access records");
    const double rate = static_cast<double>(n) / SecondsSince(start);
    return {true, rate, Rate(rate),
            fmt::format("{} reads of {:.0f} events{}", Grouped(n), static_cast<double>(events) / n,
                        audit ? fmt::format(", each recorded (one synced append per {})", kAuditBatch)
                              : ", not recorded"),
            PeakRssBytes()};
  }

  // Adds a customer of kAsOfEvents events to the imported store (once), then
  // replays it as of random business times through the customer fold.
  Side AsOf() {
    auto log = OpenLog(CustodianStore(), Sync::kNo);
    const std::string stream = "customer-as-of";
    if (!log->GetStreamInfo(stream).ok()) {
      EventFactory factory(opt_.seed + 1, 1);
      std::vector<Event> events;
      for (int i = 0; i < kAsOfEvents; ++i) {
        Event e = factory.Next();
        e.stream = stream;
        events.push_back(std::move(e));
        if (events.size() == 100) {
          Check(log->Append(stream, std::exchange(events, {})).status(), "append as-of customer");
        }
      }
    }
    Result<std::vector<Event>> all = log->ReadStream(stream, StreamVersion(0), Direction::kForward, kAsOfEvents);
    Check(all.status(), "read the as-of customer");
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const Event& e : *all) {
      lo = std::min(lo, e.occurred_at.value());
      hi = std::max(hi, e.occurred_at.value());
    }
    std::mt19937_64 rng(opt_.seed);
    std::vector<double> latencies;
    uint64_t folded = 0;
    ResetPeakRss();
    for (int i = 0; i < 550; ++i) {
      const Timestamp t(lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)));
      const auto t0 = SteadyClock::now();
      Result<Replay> r = ReplayCustomer(*log, stream, t, AsOf::kBusiness);
      const double ms = SecondsSince(t0) * 1e3;
      Check(r.status(), "replay");
      if (i < 50) continue;  // warm-up
      latencies.push_back(ms);
      folded += r->events.size();
    }
    std::sort(latencies.begin(), latencies.end());
    const double p99 = Percentile(latencies, 0.99);
    return {true, p99, fmt::format("p50 {:.3f} ms, p99 {:.3f} ms", Percentile(latencies, 0.5), p99),
            fmt::format("{} replays of a {}-event customer in a {}-event store, {:.0f} events folded on average",
                        latencies.size(), all->size(), Grouped(log->end().value()),
                        static_cast<double>(folded) / latencies.size()),
            PeakRssBytes()};
  }

  // The stream map (issue 17) in the imported store: the first SignCheckpoint
  // builds it over every event (what a checkpoint signed after an import
  // costs), then completeness proofs of random customer streams.
  void StreamMap(std::vector<Row>* rows) {
    auto log = OpenLog(CustodianStore(), Sync::kYes);
    const uint64_t events = log->end().value();
    Row build{"stream_map_build"};
    {
      const auto t0 = SteadyClock::now();
      Check(log->SignCheckpoint().status(), "sign a checkpoint with its stream map");
      const double seconds = SecondsSince(t0);
      const double rate = static_cast<double>(events) / seconds;
      build.custodian = {true, rate, Rate(rate),
                         fmt::format("the map of {} events built by the first SignCheckpoint in {:.2f} s",
                                     Grouped(events), seconds),
                         PeakRssBytes()};
      build.target = fmt::format("import_batched with the map >= {:.1f}x without", kImportWithMapVsWithout);
      if (import_rate_ > 0) {
        // The same import followed by that checkpoint, against the import alone.
        const double with_map = static_cast<double>(events) / (static_cast<double>(events) / import_rate_ + seconds);
        build.ratio = fmt::format("{:.2f}x", with_map / import_rate_);
        build.met = YesNo(with_map >= kImportWithMapVsWithout * import_rate_);
        build.custodian.detail += fmt::format("; import_batched {} then this: {}", Rate(import_rate_), Rate(with_map));
      }
    }
    rows->push_back(build);

    Row row{"stream_map_proof"};
    std::mt19937_64 rng(opt_.seed);
    std::vector<double> latencies;
    uint64_t steps = 0;
    for (size_t i = 0; i < opt_.samples + 100; ++i) {
      const std::string stream = "customer-" + std::to_string(rng() % opt_.streams);
      const auto t0 = SteadyClock::now();
      Result<streammap::Proof> p = log->StreamMapProof(stream, events);
      Check(p.status(), "prove " + stream);
      Check(streammap::RootFromProof(stream, *p).status(), "check the proof of " + stream);
      const double ms = SecondsSince(t0) * 1e3;
      if (i < 100) continue;  // warm-up
      latencies.push_back(ms);
      steps += p->siblings.size();
    }
    std::sort(latencies.begin(), latencies.end());
    const double p99 = Percentile(latencies, 0.99);
    row.custodian = {true, p99, fmt::format("p50 {:.3f} ms, p99 {:.3f} ms", Percentile(latencies, 0.5), p99),
                     fmt::format("{} completeness proofs (StreamMapProof, checked) in a {}-event store, {:.1f} "
                                 "steps on average",
                                 latencies.size(), Grouped(events), static_cast<double>(steps) / latencies.size()),
                     PeakRssBytes()};
    row.target = fmt::format("p99 < {:.0f} ms", kMapProofP99Millis);
    row.met = YesNo(p99 < kMapProofP99Millis);
    rows->push_back(row);
  }

  // The HTTP side of http_append (per_request 1) and http_append_batch.
  Side HttpAppend(const std::string& name, int rep, size_t per_request, bool transport_only = false) {
    bench::HttpAppendLoad load;
    load.transport_only = transport_only;
    load.threads = opt_.threads;
    load.seconds = opt_.seconds;
    load.max_events = opt_.events;
    load.events_per_request = per_request;
    load.seed = opt_.seed;
    load.streams = opt_.streams;
    ResetPeakRss();
    bench::HttpAppendRun run = bench::RunHttpAppend(Fresh(name, rep), load);
    const double rate = static_cast<double>(run.events) / run.seconds;
    const double requests = static_cast<double>(run.requests) / run.seconds;
    if (transport_only) {
      // Nothing was appended: requests, and the CPU of each.
      return {true, requests, fmt::format("{} requests/s", Grouped(requests)),
              fmt::format("{} per request; {} requests over {} connections, each answered 405; {:.1f} us of CPU per "
                          "request (the process during the run); {}",
                          LatencySummary(run.latencies_ms), Grouped(static_cast<double>(run.requests)), opt_.threads,
                          run.cpu_seconds * 1e6 / static_cast<double>(std::max<uint64_t>(1, run.requests)), run.setup),
              PeakRssBytes()};
    }
    std::string shown = Rate(rate);
    if (per_request > 1) shown += fmt::format(" ({} requests/s)", Grouped(requests));
    return {true, rate, shown,
            fmt::format("{} per request; {} events in {} requests over {} connections; {}; {}",
                        LatencySummary(run.latencies_ms), Grouped(static_cast<double>(run.events)),
                        Grouped(static_cast<double>(run.requests)), opt_.threads,
                        CpuPerEvent(run.cpu_seconds, run.events), run.setup),
            PeakRssBytes()};
  }

  static void Progress(const char* workload) { fmt::print(stderr, "custodian-bench: running {}\n", workload); }

  // Runs both sides opt_.repeats times, alternating which goes first so that
  // drift on a shared machine hits both alike, and keeps the median run of
  // each side. The ratio is custodian / peer (peer / custodian for latencies).
  void Measure(Row* row, const std::function<Side(int)>& custodian, const std::function<Side(int)>& peer,
               Better better = Better::kHigher) {
    std::vector<Side> ours, theirs;
    for (int rep = 0; rep < opt_.repeats; ++rep) {
      if (opt_.repeats > 1) fmt::print(stderr, "  repeat {} of {}\n", rep + 1, opt_.repeats);
      if (rep % 2 == 0) {
        if (custodian_) ours.push_back(custodian(rep));
        if (peer_) theirs.push_back(peer(rep));
      } else {
        if (peer_) theirs.push_back(peer(rep));
        if (custodian_) ours.push_back(custodian(rep));
      }
    }
    if (custodian_) row->custodian = Median(std::move(ours));
    if (peer_) row->peer = Median(std::move(theirs));
    if (custodian_ && peer_ && row->custodian.value > 0 && row->peer.value > 0) {
      const double ratio = better == Better::kHigher ? row->custodian.value / row->peer.value
                                                     : row->peer.value / row->custodian.value;
      row->ratio = fmt::format("{:.2f}x", ratio);
    }
  }

  // The median run (by value), with the spread of all runs and the largest
  // peak RSS.
  static Side Median(std::vector<Side> runs) {
    std::sort(runs.begin(), runs.end(), [](const Side& a, const Side& b) { return a.value < b.value; });
    Side median = runs[(runs.size() - 1) / 2];
    for (const Side& r : runs) median.peak_rss = std::max(median.peak_rss, r.peak_rss);
    if (runs.size() > 1) {
      std::vector<std::string> all;
      for (const Side& r : runs) all.push_back(r.shown);
      median.detail = fmt::format("median of {}: {}; runs: {}", runs.size(), median.detail, Join(all, " / "));
    }
    return median;
  }

  static std::string Join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
  }

  // A new, empty store directory for one repeat; the previous repeat's is removed.
  // (Its master key directory, <store>.keys, goes with it.)
  fs::path Fresh(const std::string& name, int rep) const {
    std::error_code ec;
    if (rep > 0) {
      const fs::path previous = scratch_ / fmt::format("{}-{}", name, rep - 1);
      fs::remove_all(previous, ec);
      fs::remove_all(previous.string() + ".keys", ec);
    }
    return scratch_ / fmt::format("{}-{}", name, rep);
  }

  // Like Fresh; the last repeat's stores are the ones the read workloads use.
  fs::path ImportStore(const std::string& name, int rep) {
    import_rep_[name] = rep;
    return Fresh(name, rep);
  }
  fs::path Imported(const std::string& name) const {
    auto it = import_rep_.find(name);
    return scratch_ / fmt::format("{}-{}", name, it == import_rep_.end() ? 0 : it->second);
  }
  fs::path CustodianStore() const { return Imported("import-custodian"); }
  fs::path PeerStorePath() const { return Imported("import-peer"); }
  // The stores of import_batched_personal: its events with their personal
  // parts, and the same events without (both EventLogs with a master key).
  fs::path PersonalStore() const { return Imported("import-personal"); }
  fs::path PersonalFreeStore() const { return Imported("import-personal-free"); }

  // cluster_append: appends on the writer node of a fresh stream, a follower
  // node applying them (its lag probed).
  Side ClusterAppend(int rep) {
    const std::string stream = ClusterStreamName("append", rep);
    auto writer = StartClusterNode(opt_, stream, Fresh("cluster-append-writer", rep), true);
    auto follower = StartClusterNode(opt_, stream, Fresh("cluster-append-follower", rep), false);
    LagProbe probe(*writer->log, *follower->log);
    Side s = RunConcurrent(opt_, Mix::kInteractions, [&](const Event& e) {
      Check(writer->log->Append(e.stream, {e}).status(), "append through the cluster");
    });
    s.detail += "; " + probe.Stop();
    return s;
  }

  // cluster_import: import_batched through the writer; then how long the
  // follower took to hold it all.
  Side ClusterImport(int rep) {
    const std::string stream = ClusterStreamName("import", rep);
    auto writer = StartClusterNode(opt_, stream, Fresh("cluster-import-writer", rep), true);
    auto follower = StartClusterNode(opt_, stream, Fresh("cluster-import-follower", rep), false);
    Side s = ImportInto(writer->log.get(), opt_, Mix::kInteractions);
    const auto t0 = SteadyClock::now();
    const uint64_t end = writer->log->end().value();
    const bool caught_up = follower->log->AwaitPosition(end - 1, std::chrono::minutes(10));
    s.detail += caught_up ? fmt::format("; the follower held it all {:.2f} s after the writer", SecondsSince(t0))
                          : "; the follower did not catch up within 10 minutes";
    return s;
  }

  // The EventLog's side of append_sync_concurrent: one event per Append from
  // each thread, into a fresh store.
  Side ConcurrentCustodian(const std::string& name, int rep, Mix mix) {
    auto log = OpenLog(Fresh(name, rep), Sync::kYes, KeyFor(mix));
    return RunConcurrent(opt_, mix, [&](const Event& e) { Check(log->Append(e.stream, {e}).status(), "append"); });
  }

  Row Concurrent(std::optional<double> single_rate) {
    Row row{"append_sync_concurrent"};
    Measure(
        &row, [&](int rep) { return ConcurrentCustodian("concurrent-custodian", rep, Mix::kInteractions); },
        [&](int rep) {
          PeerStore peer(Fresh("concurrent-peer", rep));
          PeerGroupCommit group(&peer);
          return RunConcurrent(opt_, Mix::kInteractions, [&](const Event& e) { group.Append(e); });
        });
    row.target = fmt::format(">= {:.1f}x peer; >= {:.0f}x single", kConcurrentVsPeer, kConcurrentVsSingle);
    if (!custodian_ || !peer_) return row;
    const double vs_peer = row.custodian.value / row.peer.value;
    if (single_rate) {
      const double vs_single = row.custodian.value / *single_rate;
      row.target += fmt::format(" (is {:.1f}x)", vs_single);
      row.met = YesNo(vs_peer >= kConcurrentVsPeer && vs_single >= kConcurrentVsSingle);
      if ((vs_peer >= kConcurrentVsPeer) != (vs_single >= kConcurrentVsSingle)) {
        row.met += vs_peer >= kConcurrentVsPeer ? " (peer: yes, single: no)" : " (peer: no, single: yes)";
      }
    } else {
      row.target += " (single not run)";
      row.met = YesNo(vs_peer >= kConcurrentVsPeer) + " (peer only)";
    }
    return row;
  }

  Row MemoryRow(uint64_t custodian_rss, uint64_t peer_rss) const {
    Row row{"import_memory"};
    row.custodian = {true, static_cast<double>(custodian_rss), "peak " + Mib(custodian_rss),
                     fmt::format("VmHWM while importing {} events", Grouped(opt_.events)), custodian_rss};
    row.peer = {true, static_cast<double>(peer_rss), "peak " + Mib(peer_rss), "", peer_rss};
    row.custodian.ran = custodian_;
    row.peer.ran = peer_;
    row.target = fmt::format("< {} MiB importing {} events", kImportMemoryLimitMiB, Grouped(kImportMemoryEvents));
    const bool under = custodian_rss < kImportMemoryLimitMiB * kBytesPerMiB;
    row.met = opt_.events >= kImportMemoryEvents
                  ? YesNo(under)
                  : fmt::format("not measured at 10M ({} at {} events)", under ? "under" : "over", Grouped(opt_.events));
    return row;
  }

  // The read workloads use the import's stores; load them (untimed, without
  // sync) when import_batched was not run.
  void EnsureImported() {
    if (imported_) return;
    fmt::print(stderr, "custodian-bench: loading {} events for the read workloads\n", Grouped(opt_.events));
    if (custodian_) (void)ImportCustodian(opt_, ImportStore("import-custodian", 0), Sync::kNo);
    if (peer_) (void)ImportPeer(opt_, ImportStore("import-peer", 0), Sync::kNo);
    imported_ = true;
  }

  // http_read_customer reads the EventLog's imported store on both sides
  // (with --sides peer, EnsureImported loads only the raw-RocksDB peer's).
  void EnsureCustodianImported() {
    if (custodian_) return;
    if (import_rep_.contains("import-custodian")) return;
    (void)ImportCustodian(opt_, ImportStore("import-custodian", 0), Sync::kNo);
  }

  // The same for the personal-data workloads: import_batched_personal's stores.
  void EnsurePersonalImported() {
    if (personal_imported_) return;
    fmt::print(stderr, "custodian-bench: loading {} events with personal parts (and without) for the read workloads\n",
               Grouped(opt_.events));
    if (custodian_) (void)ImportCustodian(opt_, ImportStore("import-personal", 0), Sync::kNo, Mix::kPersonal);
    if (peer_) (void)ImportCustodian(opt_, ImportStore("import-personal-free", 0), Sync::kNo, Mix::kPersonalFree);
    personal_imported_ = true;
  }

  Options opt_;
  fs::path scratch_;
  bool imported_ = false;
  double import_rate_ = 0;  // import_batched's events/s in this run, when it ran
  bool personal_imported_ = false;
  std::map<std::string, int> import_rep_;  // store name -> the repeat whose store is kept
  const bool custodian_, peer_;  // which sides to run
};

// --- Output ---

std::string FirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string MachineDescription(const fs::path& scratch) {
  struct utsname u;
  ::uname(&u);
  return fmt::format("{} cores ({}), {} MiB RAM, Linux {}, RocksDB {}.{}.{}, scratch directory {}",
                     std::thread::hardware_concurrency(), FirstLine("/proc/cpuinfo", "model name"),
                     std::strtoull(FirstLine("/proc/meminfo", "MemTotal").c_str(), nullptr, 10) / 1024, u.release,
                     ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH, scratch.parent_path().string());
}

std::string Table(const std::vector<Row>& rows) {
  std::string out =
      "| workload | custodian | peer | vs peer | target | met | peak RSS custodian / peer | detail "
      "|\n| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const Row& r : rows) {
    const std::string rss = r.workload == "fdatasync"
                                ? "—"
                                : (r.custodian.ran ? Mib(r.custodian.peak_rss) : std::string("—")) + " / " +
                                      (r.peer.ran ? Mib(r.peer.peak_rss) : std::string("—"));
    std::string detail = r.custodian.ran ? r.custodian.detail : "—";
    if (r.peer.ran && !r.peer.detail.empty()) detail += " || peer: " + r.peer.detail;
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", r.workload,
                       r.custodian.ran ? r.custodian.shown : "—",
                       r.peer.ran ? r.peer.shown : "—", r.ratio, r.target, r.met, rss, detail);
  }
  return out;
}

std::vector<std::string> SplitWorkloads(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string w = list.substr(start, comma - start);
    if (!w.empty()) {
      if (w == "all") return kAllWorkloads;
      if (std::find(kAllWorkloads.begin(), kAllWorkloads.end(), w) == kAllWorkloads.end()) {
        Die("unknown workload \"" + w + "\"; the workloads are listed at the top of tools/bench.cc");
      }
      out.push_back(w);
    }
    start = comma + 1;
  }
  return out;
}

// Current resident set size, in bytes (0 when unknown).
uint64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// --soak: http_append without an end for `seconds`, a line per tick. Any
// answer but 201 ends the run with a message (RunHttpAppend dies on it).
int Soak(const Options& opt, double seconds, double tick, const fs::path& scratch, const std::string& command,
         const std::string& markdown) {
  bench::HttpAppendLoad load;
  load.threads = opt.threads;
  load.seconds = seconds;
  load.max_events = 0;
  load.seed = opt.seed;
  load.streams = opt.streams;
  load.tick_seconds = tick;
  std::string rows;
  uint64_t last_requests = 0, first_rss = 0, max_rss = 0, last_rss = 0, max_lag = 0;
  double last_seconds = 0;
  fmt::print(stderr, "custodian-bench: soak of {:g} s, {} connections, a report every {:g} s\n", seconds, opt.threads,
             tick);
  load.on_tick = [&](const bench::HttpAppendLoad::Tick& t) {
    const double at = t.seconds;
    const uint64_t requests = t.requests;
    const double rate = static_cast<double>(requests - last_requests) / (at - last_seconds);
    const uint64_t rss = RssBytes();
    if (first_rss == 0) first_rss = rss;
    max_rss = std::max(max_rss, rss);
    last_rss = rss;
    std::error_code ec;
    uint64_t disk = 0;
    for (const auto& f : fs::recursive_directory_iterator(scratch, ec)) {
      if (f.is_regular_file(ec)) disk += f.file_size(ec);
    }
    const uint64_t lag = t.log_end - std::min(t.log_end, t.folded);
    max_lag = std::max(max_lag, lag);
    const std::string row = fmt::format("| {:.0f} | {} | {} | {} | {} | {} MiB | {} MiB |", at, Rate(rate),
                                        LatencySummary(t.latencies_ms), Grouped(static_cast<double>(t.log_end)),
                                        Grouped(static_cast<double>(lag)), rss >> 20, disk >> 20);
    fmt::print(stderr, "{}\n", row);
    rows += row + "\n";
    last_requests = requests;
    last_seconds = at;
  };
  bench::HttpAppendRun run = bench::RunHttpAppend((scratch / "soak").string(), load);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  const std::string report = fmt::format(
      "### Soak of {}\n\nCommand: `{}`\n\nMachine: {}.\n\n{} requests in {:.0f} s ({}), every one answered 201 "
      "(the run stops at the first other answer); {}. Resident memory of the whole process (server and clients): "
      "{} MiB at the first report, {} MiB at the last, {} MiB at most. The projections' lag behind the log: "
      "{} events at most; the stop (the follower ends its fold after the chunk in hand) took {:.1f} s.\n\n"
      "| seconds | appends/s in the interval | latency in the interval | log end | projection lag (events) | RSS | "
      "store on disk |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n{}\n",
      date, command, MachineDescription(scratch), Grouped(static_cast<double>(run.requests)), run.seconds,
      Rate(static_cast<double>(run.requests) / run.seconds), run.setup, first_rss >> 20, last_rss >> 20, max_rss >> 20,
      Grouped(static_cast<double>(max_lag)), run.stop_seconds, rows);
  fmt::print("{}", report);
  if (!markdown.empty()) {
    std::ofstream out(markdown, std::ios::app);
    out << report;
    if (!out) Die("cannot write " + markdown);
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"custodian-bench: EventLog throughput and latency next to a raw-RocksDB peer"};
  Options opt;
  std::string workloads = "all", dir, markdown, sides = "both";
  bool quick = false, keep = false;
  app.add_option("--workloads", workloads,
                 "comma-separated, from the list at the top of tools/bench.cc: fdatasync, append_sync_single, "
                 "append_sync_concurrent[_personal], import_batched[_personal], read_all, verify, "
                 "read_stream[_personal], audited_read, as_of, stream_map, erase, http_append, http_transport, http_append_batch, "
                 "http_read_customer (default all)");
  app.add_option("--events", opt.events, "events per write workload (sync workloads stop earlier at --seconds)");
  app.add_option("--seconds", opt.seconds, "duration of each sync workload");
  app.add_option("--threads", opt.threads, "appender threads of append_sync_concurrent, HTTP clients of http_append*");
  app.add_option("--batch", opt.batch, "events per AppendBatch in import_batched");
  app.add_option("--samples", opt.samples, "streams read by read_stream");
  app.add_option("--repeats", opt.repeats, "runs of each side per workload; the median is reported");
  app.add_option("--seed", opt.seed, "seed of the event generator");
  app.add_option("--dir", dir, "scratch directory (a fresh subdirectory is made in it and removed after)");
  app.add_option("--nats", opt.nats,
                 "NATS servers (nats://HOST:PORT,...) for cluster_append and cluster_import; tools/nats-local.sh "
                 "starts three on loopback");
  app.add_option("--markdown", markdown, "append the results as a markdown section to this file");
  app.add_option("--sides", sides, "both (default), custodian or peer: run one side only, e.g. to profile it")
      ->check(CLI::IsMember({"both", "custodian", "peer"}));
  app.add_flag("--quick", quick, "a tiny run (a few hundred events) that finishes in seconds");
  app.add_flag("--keep", keep, "keep the scratch stores");
  double soak = 0, tick = 60;
  app.add_option("--soak", soak,
                 "instead of the workloads: SECONDS of http_append at the group-commit limit (--threads connections, "
                 "no event limit), reporting throughput, latency and resident memory every --tick seconds");
  app.add_option("--tick", tick, "seconds between the soak's reports (default 60)");
  CLI11_PARSE(app, argc, argv);

  if (quick) {
    opt.events = std::min(opt.events, kQuickEvents);
    opt.seconds = std::min(opt.seconds, kQuickSeconds);
    opt.samples = std::min(opt.samples, kQuickSamples);
    opt.repeats = 1;
  }
  if (opt.events == 0 || opt.threads <= 0 || opt.batch == 0 || opt.samples == 0 || opt.seconds <= 0 ||
      opt.repeats <= 0) {
    Die("--events, --threads, --batch, --samples, --seconds and --repeats must be positive");
  }
  opt.streams = std::clamp<uint64_t>(opt.events / kEventsPerStream, 1, kMaxStreams);
  const std::vector<std::string> selected = SplitWorkloads(workloads);

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);

  const fs::path base = dir.empty() ? fs::temp_directory_path() : fs::path(dir);
  std::error_code ec;
  fs::create_directories(base, ec);
  std::string tmpl = (base / "custodian-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) Die("cannot make a scratch directory in " + base.string());
  const fs::path scratch = tmpl;

  if (soak > 0) {
    const int rc = Soak(opt, soak, tick, scratch, command, markdown);
    if (!keep) fs::remove_all(scratch, ec);
    return rc;
  }
  const double record_bytes = bench::MeanRecordBytes(opt.seed, opt.streams, Mix::kInteractions);
  const double sealed_bytes = bench::MeanRecordBytes(opt.seed, opt.streams, Mix::kPersonal);
  const double personal_free_bytes = bench::MeanRecordBytes(opt.seed, opt.streams, Mix::kPersonalFree);
  fmt::print(stderr, "custodian-bench: scratch {}, {} events over {} streams, ~{:.0f}-byte records\n",
             scratch.string(), Grouped(opt.events), Grouped(opt.streams), record_bytes);
  const auto start = SteadyClock::now();
  std::vector<Row> rows = Bench(opt, scratch, sides).Run(selected);
  const double total = SecondsSince(start);
  if (!keep) fs::remove_all(scratch, ec);

  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  const std::string machine = MachineDescription(scratch);
  const std::string table = Table(rows);
  const std::string about = fmt::format(
      "{} events for import/reads over {} `customer-<n>` streams; records of ~{:.0f} bytes (the *_personal "
      "workloads: ~{:.0f} with a third of the events sealing a personal part, ~{:.0f} without the parts); sync "
      "workloads run {:g} s each; {} appender threads; batches of {}; {} stream reads; median of {} run(s) per side, "
      "alternating which side goes first.",
      Grouped(opt.events), Grouped(opt.streams), record_bytes, sealed_bytes, personal_free_bytes, opt.seconds,
      opt.threads, opt.batch, opt.samples, opt.repeats);
  fmt::print("{}\n\n{}\n{}\nTotal {:.0f} s.\n", machine, about, table, total);

  if (!markdown.empty()) {
    std::ofstream out(markdown, std::ios::app);
    out << fmt::format(
        "### Run of {}\n\nCommand: `{}`\n\nMachine: {}.\n\n{}\n\n{}\nPeers: the raw-RocksDB peer writes the same "
        "events (EncodeRecord into `events` keyed by position, plus the stream-index key) with the same sync "
        "setting and the EventLog's RocksDB settings (storage/tuning.h), without validation, hashing, the Merkle "
        "tree or the `ids` family; for append_sync_concurrent it uses one writer thread doing group commit. "
        "The *_personal workloads' peer is the EventLog itself, on the same events without their personal parts "
        "(personal-free). The http_* workloads' custodian column is the server over loopback HTTP (in this process, "
        "the log's rules on), their peer the same work in-process. Ratios are custodian / peer "
        "(read_stream, read_stream_personal, http_read_customer: peer p99 / custodian p99). Total run time {:.0f} s."
        "\n\n",
        date, command, machine, about, table, total);
    if (!out) Die("cannot write " + markdown);
  }
  return 0;
}

}  // namespace
}  // namespace custodian

int main(int argc, char** argv) { return custodian::Main(argc, argv); }
