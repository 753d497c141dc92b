#include "replay/access.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "core/json.h"
#include "core/validation.h"
#include "replay/payload_fields.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace custodian {
namespace {

constexpr char kSpoolDir[] = "access-spool";

Status Errno(const std::string& what) { return Status::IoError(what + ": " + std::strerror(errno)); }

Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Errno("open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + path);
}

}  // namespace

Result<std::vector<Event>> AccessEvents(const Access& a, Timestamp now) {
  if (!a.staff.starts_with("staff-") || !ValidateStreamName("access-" + a.staff).ok()) {
    return Status::InvalidArgument("who reads must be a member of staff such as staff-7, not '" + a.staff + "'");
  }
  std::vector<std::string> customers = a.customers;
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  const size_t parts = std::max<size_t>(1, (customers.size() + kMaxCustomersPerAccessEvent - 1) / kMaxCustomersPerAccessEvent);
  std::vector<Event> events;
  for (size_t p = 0; p < parts; ++p) {
    const size_t begin = p * kMaxCustomersPerAccessEvent;
    const size_t end = std::min(customers.size(), begin + kMaxCustomersPerAccessEvent);
    json::array list;
    for (size_t i = begin; i < end; ++i) list.emplace_back(customers[i]);
    // Records are split in proportion, the remainder on the first part.
    const uint64_t share = a.records / parts + (p == 0 ? a.records % parts : 0);
    json::object d;
    d["customers"] = std::move(list);
    if (a.exported) {
      d["records"] = share;
      if (!a.format.empty()) d["format"] = a.format;
      if (!a.view.empty()) d["scope"] = a.view;
    } else {
      d["view"] = a.view;
      d["count"] = share;
    }
    if (!a.interface.empty()) d["interface"] = a.interface;
    Event e;
    e.id = EventId::Random();
    e.stream = "access-" + a.staff;
    e.type = a.exported ? "data.exported" : "data.viewed";
    e.actor = a.staff;
    e.occurred_at = now;
    e.data = json::serialize(d);
    events.push_back(std::move(e));
  }
  return events;
}

// --- AccessRecorder ---

AccessRecorder::AccessRecorder(EventLog& log, size_t batch_accesses, Clock* clock)
    : log_(log), batch_(std::max<size_t>(1, batch_accesses)), clock_(clock ? clock : &SystemClock()) {}

AccessRecorder::~AccessRecorder() { (void)Flush(); }

Status AccessRecorder::Record(const Access& a) {
  Result<std::vector<Event>> events = AccessEvents(a, clock_->Now());
  if (!events.ok()) return events.status();
  std::lock_guard lock(mu_);
  for (Event& e : *events) pending_.push_back(std::move(e));
  if (++pending_accesses_ >= batch_) return SubmitLocked();
  return Status::Ok();
}

Status AccessRecorder::Flush() {
  std::lock_guard lock(mu_);
  CUSTODIAN_RETURN_IF_ERROR(SubmitLocked());
  return WaitLocked();
}

Status AccessRecorder::WaitLocked() {
  if (!in_flight_.valid()) return Status::Ok();
  Result<std::vector<AppendResult>> r = in_flight_.get();
  return r.ok() ? Status::Ok() : r.status();
}

Status AccessRecorder::SubmitLocked() {
  // One batch in flight at a time: its error surfaces here, and memory stays bounded.
  CUSTODIAN_RETURN_IF_ERROR(WaitLocked());
  if (pending_.empty()) return Status::Ok();
  // One request per stream, in the order the streams first appear.
  std::vector<AppendRequest> requests;
  std::map<std::string, size_t, std::less<>> index;
  for (Event& e : pending_) {
    auto [it, added] = index.emplace(e.stream, requests.size());
    if (added) requests.push_back(AppendRequest{e.stream, ExpectedVersion::Any(), {}});
    requests[it->second].events.push_back(std::move(e));
  }
  pending_.clear();
  pending_accesses_ = 0;
  in_flight_ = log_.AppendBatchAsync(std::move(requests));
  return Status::Ok();
}

// --- The spool ---

Status SpoolAccess(const std::string& data_dir, std::span<const Event> events) {
  if (events.empty()) return Status::Ok();
  // The log validates what is appended to it; the spool must not keep what
  // it would refuse later.
  for (const Event& e : events) CUSTODIAN_RETURN_IF_ERROR(ValidateEvent(e, e.occurred_at));
  const std::string dir = data_dir + "/" + kSpoolDir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  const std::string name = fmt::format("{:020}-{}.jsonl", events.front().occurred_at.value(), events.front().id.ToString());
  const std::string tmp = dir + "/." + name + ".tmp", path = dir + "/" + name;
  std::string text;
  for (const Event& e : events) text += EventToJson(e, JsonFields::kProducer) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Errno("open " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return Errno("fsync " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp);
  return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Result<SpoolDrain> DrainAccessSpool(EventLog& log, const std::string& data_dir) {
  SpoolDrain drain;
  const std::string dir = data_dir + "/" + kSpoolDir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return drain;
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".jsonl") && !name.starts_with(".")) names.push_back(name);
  }
  if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());  // named by time: oldest first
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::vector<AppendRequest> requests;
    std::string line, problem;
    for (size_t n = 1; problem.empty() && std::getline(in, line); ++n) {
      if (line.empty()) continue;
      Result<Event> e = ParseEventJson(line);
      if (!e.ok()) {
        problem = fmt::format("line {}: {}", n, e.status().message());
        break;
      }
      if (requests.empty() || requests.back().stream != e->stream) {
        requests.push_back(AppendRequest{e->stream, ExpectedVersion::Any(), {}});
      }
      requests.back().events.push_back(std::move(*e));
    }
    size_t events = 0;
    for (const AppendRequest& r : requests) events += r.events.size();
    if (problem.empty()) {
      Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(requests));
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kIoError || r.status().code() == StatusCode::kFailedPrecondition) {
          return r.status();  // the log cannot write: keep the file for the next time
        }
        problem = r.status().message();
      }
    }
    if (!problem.empty()) {
      drain.problems.push_back(name + ": " + problem);
      if (::rename(path.c_str(), (path + ".rejected").c_str()) != 0) return Errno("rename " + path);
      continue;
    }
    if (::unlink(path.c_str()) != 0) return Errno("unlink " + path);
    ++drain.files;
    drain.events += events;
  }
  if (drain.files || !drain.problems.empty()) CUSTODIAN_RETURN_IF_ERROR(SyncPath(dir, O_RDONLY | O_DIRECTORY));
  return drain;
}

// --- The access projection ---

namespace {

class AccessProjection final : public Projection {
 public:
  std::string_view name() const override { return kAccessProjection; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    for (const Event& e : events) {
      const bool exported = e.type == "data.exported";
      if (!exported && e.type != "data.viewed") continue;
      Result<json::object> parsed = payload::ParseData(e);
      if (!parsed.ok()) return parsed.status();
      const json::object& d = *parsed;
      auto it = d.find("customers");
      if (it == d.end() || !it->value().is_array()) continue;
      const json::array& customers = it->value().get_array();
      json::object v;
      v["s"] = e.actor;
      v["t"] = exported ? 1 : 0;
      v["v"] = payload::Str(d, exported ? "scope" : "view");
      v["a"] = e.occurred_at.value();
      v["r"] = payload::Int(d, exported ? "records" : "count").value_or(0);
      v["n"] = customers.size();
      const std::string value = json::serialize(v);
      const std::string suffix = fmt::format("/{:020}", e.position.value());
      for (const json::value& c : customers) {
        if (c.is_string()) state.Put("c/" + std::string(c.get_string()) + suffix, value);
      }
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Projection> MakeAccessProjection() { return std::make_unique<AccessProjection>(); }

Result<std::vector<AccessEntry>> AccessesToCustomer(const StateReader& state, std::string_view customer,
                                                   std::optional<Timestamp> from, std::optional<Timestamp> to) {
  std::vector<AccessEntry> out;
  Status inner = Status::Ok();
  const std::string prefix = "c/" + std::string(customer) + "/";
  Status s = state.Scan(prefix, [&](std::string_view key, std::string_view value) {
    Result<json::object> o = payload::ParseState(value, key);
    if (!o.ok()) {
      inner = o.status();
      return false;
    }
    AccessEntry a;
    a.position = Position(std::stoull(std::string(key.substr(prefix.size()))));
    a.at = Timestamp(payload::Int(*o, "a").value_or(0));
    if ((from && a.at < *from) || (to && !(a.at < *to))) return true;
    a.staff = payload::Str(*o, "s");
    a.view = payload::Str(*o, "v");
    a.exported = payload::Int(*o, "t").value_or(0) == 1;
    a.records = static_cast<uint64_t>(payload::Int(*o, "r").value_or(0));
    a.customers = static_cast<uint64_t>(payload::Int(*o, "n").value_or(0));
    out.push_back(std::move(a));
    return true;
  });
  if (!inner.ok()) return inner;
  if (!s.ok()) return s;
  return out;
}

std::string AccessEntryToJson(std::string_view customer, const AccessEntry& e) {
  json::object o;
  o["customer"] = customer;
  o["position"] = e.position.value();
  o["at"] = FormatRfc3339(e.at);
  o["staff"] = e.staff;
  o["type"] = e.exported ? "data.exported" : "data.viewed";
  o[e.exported ? "scope" : "view"] = e.view;
  o["records"] = e.records;
  o["customers_in_read"] = e.customers;
  return json::serialize(o);
}

}  // namespace custodian
