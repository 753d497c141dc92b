#include "replay/access.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "core/fd.h"
#include "core/json.h"
#include "core/text.h"
#include "core/validation.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

constexpr char kSpoolDir[] = "access-spool";
constexpr char kRejectedSuffix[] = ".rejected";
constexpr mode_t kSpoolDirMode = 0700;
constexpr mode_t kSpoolFileMode = 0600;

Status Errno(const std::string& what) { return Status::IoError(what + ": " + std::strerror(errno)); }

std::string Mode(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

// Why `st` (of `what`) is not owner-only with exactly `mode`, or "" when it is.
std::string NotOwnerOnly(const struct stat& st, mode_t mode, bool directory) {
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return directory ? "not a directory" : "not a regular file";
  }
  if (st.st_uid != ::geteuid()) {
    return fmt::format("owned by uid {}, not by uid {} (the user running custodian)", st.st_uid, ::geteuid());
  }
  if ((st.st_mode & 07777) != mode) {
    return fmt::format("mode {}, expected {} (readable and writable by its owner only)", Mode(st.st_mode), Mode(mode));
  }
  return "";
}

// Why `e` is not a record of a read (docs/access-and-alerts.md, "While another
// process holds the store"), or "" when it is: a data.viewed or data.exported
// on an access-<staff> stream, made by that staff member.
std::string NotAnAccessRecord(const Event& e) {
  if (e.type != "data.viewed" && e.type != "data.exported") {
    return "type " + e.type + " is not a record of a read (expected data.viewed or data.exported)";
  }
  if (!e.stream.starts_with("access-staff-")) {
    return "stream " + e.stream + " is not an access stream (expected access-<staff>, e.g. access-staff-7)";
  }
  if (e.actor != std::string_view(e.stream).substr(7)) {
    return "actor " + e.actor + " is not " + e.stream.substr(7) + ", whose reads " + e.stream + " holds";
  }
  return "";
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
  // it would refuse later, nor anything but reads.
  for (const Event& e : events) {
    CUSTODIAN_RETURN_IF_ERROR(ValidateEvent(e, e.occurred_at));
    if (std::string why = NotAnAccessRecord(e); !why.empty()) {
      return Status::InvalidArgument("the access spool takes records of reads only: event " + e.id.ToString() +
                                     ": " + why);
    }
  }
  const std::string dir = data_dir + "/" + kSpoolDir;
  if (::mkdir(dir.c_str(), kSpoolDirMode) != 0 && errno != EEXIST) return Errno("cannot create " + dir);
  const Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir_fd.get() < 0) return Errno("open " + dir + " (the access spool must be a directory, not a symbolic link)");
  struct stat st;
  if (::fstat(dir_fd.get(), &st) != 0) return Errno("stat " + dir);
  if (std::string why = NotOwnerOnly(st, kSpoolDirMode, true); !why.empty()) {
    return Status::FailedPrecondition("the access spool " + dir + " is " + why + ": nothing was spooled");
  }
  const std::string name = fmt::format("{:020}-{}.jsonl", events.front().occurred_at.value(), events.front().id.ToString());
  const std::string tmp_name = "." + name + ".tmp";
  const std::string tmp = dir + "/" + tmp_name;
  std::string text;
  for (const Event& e : events) text += EventToJson(e, JsonFields::kProducer) + "\n";
  const int fd = ::openat(dir_fd.get(), tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          kSpoolFileMode);
  if (fd < 0) return Errno("open " + tmp);
  const Fd file(fd);
  if (::fchmod(fd, kSpoolFileMode) != 0) return Errno("chmod " + tmp);  // whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Errno("fsync " + tmp);
  if (::renameat(dir_fd.get(), tmp_name.c_str(), dir_fd.get(), name.c_str()) != 0) return Errno("rename " + tmp);
  return ::fsync(dir_fd.get()) == 0 ? Status::Ok() : Errno("fsync " + dir);
}

namespace {

// The events of one spooled file, read through `dir_fd`, grouped by stream;
// or why the file is refused.
struct SpooledFile {
  std::vector<AppendRequest> requests;
  size_t events = 0;
  std::string problem;
};

SpooledFile ReadSpooledFile(int dir_fd, const std::string& name) {
  SpooledFile f;
  if (!name.ends_with(".jsonl")) {
    f.problem = "not a spooled access file (expected <time>-<event id>.jsonl)";
    return f;
  }
  // O_NOFOLLOW: a symbolic link is refused, not followed to whatever it names.
  const Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    f.problem = errno == ELOOP ? std::string("a symbolic link, not a regular file")
                               : std::string("cannot be opened: ") + std::strerror(errno);
    return f;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    f.problem = std::string("cannot be read: ") + std::strerror(errno);
    return f;
  }
  f.problem = NotOwnerOnly(st, kSpoolFileMode, false);
  if (!f.problem.empty()) return f;
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      f.problem = std::string("cannot be read: ") + std::strerror(errno);
      return f;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  // One bad line refuses the whole file.
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    Result<Event> e = ParseEventJson(line);
    if (!e.ok()) {
      f.problem = fmt::format("line {}: {}", line_no, e.status().message());
      return f;
    }
    if (std::string why = NotAnAccessRecord(*e); !why.empty()) {
      f.problem = fmt::format("line {}: event {}: {}", line_no, e->id.ToString(), why);
      return f;
    }
    if (f.requests.empty() || f.requests.back().stream != e->stream) {
      f.requests.push_back(AppendRequest{e->stream, ExpectedVersion::Any(), {}});
    }
    f.requests.back().events.push_back(std::move(*e));
    ++f.events;
  }
  return f;
}

}  // namespace

Result<SpoolDrain> DrainAccessSpool(EventLog& log, const std::string& data_dir, EventLog::ForwardWait wait) {
  SpoolDrain drain;
  const std::string dir = data_dir + "/" + kSpoolDir;
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return drain;
    return Errno("stat " + dir);
  }
  // The spool itself must be owner-only; otherwise none of it is trusted, and
  // the whole directory is moved aside where nothing reads it.
  std::string unsafe = S_ISLNK(st.st_mode) ? std::string("a symbolic link, not a directory")
                                           : NotOwnerOnly(st, kSpoolDirMode, true);
  const Fd dir_fd(unsafe.empty() ? ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1);
  if (unsafe.empty() && dir_fd.get() < 0) unsafe = std::string("cannot be opened: ") + std::strerror(errno);
  if (unsafe.empty() && ::fstat(dir_fd.get(), &st) == 0) unsafe = NotOwnerOnly(st, kSpoolDirMode, true);
  if (!unsafe.empty()) {
    const std::string aside = fmt::format("{}.rejected-{}", dir, SystemClock().Now().value());
    const bool moved = ::rename(dir.c_str(), aside.c_str()) == 0;
    drain.problems.push_back(fmt::format("{}: the access spool is {}: none of its files was appended{}", dir, unsafe,
                                         moved ? "; the directory was moved to " + aside
                                               : std::string("; it could not be moved aside: ") + std::strerror(errno)));
    return drain;
  }
  std::vector<std::string> names;
  {
    DIR* listing = ::fdopendir(::dup(dir_fd.get()));
    if (listing == nullptr) return Errno("list " + dir);
    while (const dirent* entry = ::readdir(listing)) {
      const std::string name = entry->d_name;
      // Dot names: ".", "..", and files SpoolAccess is still writing.
      if (name.starts_with(".") || name.ends_with(kRejectedSuffix)) continue;
      names.push_back(name);
    }
    ::closedir(listing);
  }
  std::sort(names.begin(), names.end());  // named by time: oldest first
  bool changed = false;
  for (const std::string& name : names) {
    SpooledFile f = ReadSpooledFile(dir_fd.get(), name);
    if (f.problem.empty()) {
      Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(f.requests), wait);
      if (!r.ok()) {
        const StatusCode code = r.status().code();
        if (code == StatusCode::kIoError || code == StatusCode::kFailedPrecondition || code == StatusCode::kUnavailable) {
          return r.status();  // the log cannot write now (or reaches no writer): keep the file for the next time
        }
        f.problem = r.status().message();
      }
    }
    changed = true;
    if (!f.problem.empty()) {
      const std::string aside = name + kRejectedSuffix;
      if (::renameat(dir_fd.get(), name.c_str(), dir_fd.get(), aside.c_str()) != 0) {
        return Errno("rename " + dir + "/" + name + " to " + aside);
      }
      drain.problems.push_back(dir + "/" + name + ": " + f.problem + "; nothing of it was appended, moved aside to " +
                               aside);
      continue;
    }
    if (::unlinkat(dir_fd.get(), name.c_str(), 0) != 0) return Errno("unlink " + dir + "/" + name);
    ++drain.files;
    drain.events += f.events;
  }
  if (changed && ::fsync(dir_fd.get()) != 0) return Errno("fsync " + dir);
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
    const std::optional<uint64_t> position = ParseUint64(key.substr(prefix.size()));
    if (!position) {
      inner = Status::Corruption("the access projection's key " + QuotedText(key) + " does not end in a position");
      return false;
    }
    a.position = Position(*position);
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
