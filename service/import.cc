#include "service/import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>

#include "core/canonical.h"
#include "core/fd.h"
#include "core/personal.h"
#include "core/json.h"
#include "core/sha256.h"
#include "core/time.h"
#include "core/validation.h"

namespace custodian {
namespace {

std::string Errno(int err) { return std::strerror(err); }

// Reads lines from a descriptor, refusing a line as soon as it passes
// kMaxLineBytes: a 300 MB line or /dev/zero costs 4 MiB of memory, not more.
// Strips a UTF-8 byte-order mark at the very start and a '\r' before '\n'.
class LineReader {
 public:
  explicit LineReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) { buffer_.resize(1 << 20); }

  // The next line in *line (its number in *number); false at the end.
  Result<bool> Next(std::string* line, uint64_t* number) {
    line->clear();
    bool started = false;
    for (;;) {
      if (pos_ == len_) {
        if (eof_) {
          if (line->empty() && !partial_) return false;
          partial_ = false;
          return Finish(line, number);
        }
        const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          return Status::IoError("reading " + name_ + " failed at line " + std::to_string(line_ + 1) + ": " +
                                 Errno(errno));
        }
        if (n == 0) {
          eof_ = true;
          continue;
        }
        base_ += len_;
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      const char* begin = buffer_.data() + pos_;
      const void* nl = std::memchr(begin, '\n', len_ - pos_);
      const size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - begin) : len_ - pos_;
      if (line->size() + take > kMaxLineBytes) {
        return Status::InvalidArgument("line " + std::to_string(line_ + 1) + " of " + name_ + " is longer than " +
                                       std::to_string(kMaxLineBytes) +
                                       " bytes, the most an event's JSON may take; nothing was written");
      }
      if (!started) {
        offset_ = base_ + pos_;
        started = true;
      }
      line->append(begin, take);
      partial_ = true;
      pos_ += take;
      if (nl) {
        ++pos_;  // the '\n'
        partial_ = false;
        return Finish(line, number);
      }
    }
  }

  uint64_t lines() const { return line_; }
  // Where the line Next gave last starts in the file (ReadLineAt reads it again).
  uint64_t offset() const { return offset_; }

 private:
  Result<bool> Finish(std::string* line, uint64_t* number) {
    *number = ++line_;
    if (line_ == 1 && line->starts_with("\xEF\xBB\xBF")) line->erase(0, 3);
    if (!line->empty() && line->back() == '\r') line->pop_back();
    return true;
  }

  int fd_;
  std::string name_;
  std::vector<char> buffer_;
  size_t pos_ = 0, len_ = 0;
  uint64_t base_ = 0;    // the file offset of buffer_[0]
  uint64_t offset_ = 0;  // of the last line's first byte
  bool eof_ = false, partial_ = false;
  uint64_t line_ = 0;
};

// The line that starts at `offset` of `fd`, as LineReader gave it (without
// the byte-order mark of the first line and a carriage return at its end),
// read without moving the file's offset.
Result<std::string> ReadLineAt(int fd, uint64_t offset, const std::string& name) {
  std::string line;
  std::vector<char> buffer(size_t{64} << 10);
  for (uint64_t at = offset;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("reading " + name + " again failed: " + Errno(errno));
    }
    const void* nl = std::memchr(buffer.data(), '\n', static_cast<size_t>(n));
    const size_t take =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - buffer.data()) : static_cast<size_t>(n);
    if (line.size() + take > kMaxLineBytes) return Status::IoError(name + " changed while it was checked");
    line.append(buffer.data(), take);
    if (nl || n == 0) break;
    at += static_cast<uint64_t>(n);
  }
  if (offset == 0 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

// An unnamed, owner-only file in $TMPDIR (or /tmp): gone when closed.
Result<Fd> AnonymousFile() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp && *tmp ? tmp : "/tmp";
  Fd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.get() >= 0) return fd;
  std::string path = dir + "/custodian-import-XXXXXX";
  Fd named(::mkstemp(path.data()));
  if (named.get() < 0) return Status::IoError("cannot make a temporary file in " + dir + ": " + Errno(errno));
  ::unlink(path.c_str());
  return named;
}

// The input, readable twice: a regular file as it is, anything else first
// copied (line by line, with the limit) to an anonymous file. Unless invalid
// lines are to be skipped, the copy stops at the first line that is not UTF-8
// text, which no event can be: a stream of noise (a device, a wrong pipe) is
// refused at once rather than copied whole to the temporary directory.
Result<Fd> OpenInput(const std::string& path, std::string* name, bool stop_at_noise) {
  *name = path == "-" ? "standard input" : path;
  Fd in(path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Status::InvalidArgument("cannot open " + *name + ": " + Errno(errno));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return Status::IoError("cannot stat " + *name + ": " + Errno(errno));
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(*name + " is a directory; give a JSON Lines file (one event per line), or - for "
                                           "standard input");
  }
  if (S_ISREG(st.st_mode)) return in;
  Result<Fd> copy = AnonymousFile();
  if (!copy.ok()) return copy.status();
  LineReader reader(in.get(), *name);
  std::string line, out;
  uint64_t number = 0;
  for (;;) {
    Result<bool> more = reader.Next(&line, &number);
    if (!more.ok()) return more.status();
    if (!*more || !out.empty()) {
      if (!out.empty() && ::write(copy->get(), out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
        return Status::IoError("cannot copy " + *name + " to a temporary file: " + Errno(errno));
      }
      out.clear();
    }
    if (!*more) break;
    if (stop_at_noise && !IsValidUtf8(line)) {
      return Status::InvalidArgument("invalid JSON: the text is not valid UTF-8")
          .WithContext("line " + std::to_string(number));
    }
    out += line;
    out.push_back('\n');
  }
  if (::lseek(copy->get(), 0, SEEK_SET) != 0) return Status::IoError("cannot rewind the copy of " + *name);
  return std::move(*copy);
}

// Lines are taken in chunks: at most `events` non-blank lines and about
// kChunkBytes. The first pass hashes each chunk; the second checks a chunk's
// hash before writing any of it, so a file changed between the passes is
// refused, never written unchecked. A chunk is one atomic batch.
constexpr size_t kChunkBytes = 4 << 20;

class ChunkHasher {
 public:
  void Line(uint64_t number, std::string_view line) {
    hasher_->Update(std::string_view(reinterpret_cast<const char*>(&number), sizeof number));
    const uint64_t size = line.size();
    hasher_->Update(std::string_view(reinterpret_cast<const char*>(&size), sizeof size));
    hasher_->Update(line);
  }
  Hash256 Finish() {
    Hash256 h = hasher_->Finish();
    hasher_ = std::make_unique<Sha256Hasher>();
    return h;
  }

 private:
  std::unique_ptr<Sha256Hasher> hasher_ = std::make_unique<Sha256Hasher>();
};

struct Seen {
  uint64_t content;  // the first 8 bytes of its ContentHash
  uint64_t line;
  // Of an event accepted to be written (not one already in the log): where
  // its line starts and the position it was checked at, for rule 'fix' when
  // a later line fixes it (RuleDryRun::FindChecked).
  uint64_t offset = UINT64_MAX;
  uint64_t position = 0;
};

uint64_t ContentKey(const Event& e) {
  const Hash256 h = ContentHash(e);
  uint64_t k;
  std::memcpy(&k, h.data(), sizeof k);
  // The producer's personal part, not yet sealed, is not in the content hash.
  if (!e.personal_plain.empty()) k ^= std::hash<std::string>{}(e.personal_plain) * 0x9e3779b97f4a7c15ULL;
  return k;
}

// Whether `e`, read from the input, is `stored`, the event the log holds
// under its id: the same content, with the personal part compared opened
// (the log holds it sealed). A part that cannot be opened any more (its
// subject was erased) or here (no master key) cannot differ in anything
// that still exists: the retry is the same event.
Result<bool> SameAsStored(const EventLog& log, const Event& e, const Event& stored) {
  if (e.personal_plain.empty() != stored.personal.empty()) return false;
  Event probe = e;
  probe.personal = stored.personal;
  probe.personal_plain.clear();
  if (ContentHash(probe) != ContentHash(stored)) return false;
  if (e.personal_plain.empty()) return true;
  Result<EventLog::PersonalView> view = log.OpenPersonal(stored);
  if (!view.ok()) return view.status();
  if (view->state != EventLog::PersonalView::State::kOpen) return true;
  Result<std::string> plain = CheckPersonalPart(e.type, e.personal_plain);
  return plain.ok() && *plain == view->json;
}

bool Skippable(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kConflict ||
         s.code() == StatusCode::kRuleViolation;
}

// One line read and parsed in the first pass, waiting for its id lookup.
struct Pending {
  uint64_t line;
  uint64_t offset;  // where the line starts in the file
  Event event;
};

}  // namespace

Result<ImportReport> ImportJsonLines(EventLog& log, const std::string& path, const ImportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.batch_events == 0 || options.batch_events > 100'000) {
    return Status::InvalidArgument("the batch size must be from 1 to 100000 events, not " +
                                   std::to_string(options.batch_events));
  }
  if (log.read_only()) return Status::FailedPrecondition("an import needs the store open read-write");
  std::string name;
  Result<Fd> input = OpenInput(path, &name, !options.skip_invalid);
  if (!input.ok()) return input.status();
  ImportReport report;
  auto progress = [&](std::string_view phase, uint64_t lines) {
    if (options.progress) options.progress(phase, lines);
  };

  // --- Pass 1: check everything, write nothing ---
  boost::unordered_flat_map<EventId, Seen, EventIdHash> seen;  // accepted or already in the log
  std::vector<uint64_t> leave_out;  // lines not to write: repeats, events already in the log, skipped
  std::vector<Hash256> chunk_hashes;
  // A fix of an event earlier in the file is checked against that event,
  // read again from the file: no event is kept in memory for it.
  auto find_checked = [&](const EventId& id) -> Result<std::optional<Event>> {
    auto it = seen.find(id);
    if (it == seen.end() || it->second.offset == UINT64_MAX) return std::optional<Event>();
    Result<std::string> text = ReadLineAt(input->get(), it->second.offset, name);
    if (!text.ok()) return text.status();
    Result<Event> e = ParseEventJson(*text);
    if (!e.ok() || e->id != id) {
      return Status::FailedPrecondition(name + " changed while it was checked: line " +
                                        std::to_string(it->second.line) + " is not the event it held");
    }
    e->position = Position(it->second.position);
    return std::optional<Event>(std::move(*e));
  };
  RuleDryRun rules(log, [&](const EventId& id) { return seen.contains(id); }, find_checked);
  uint64_t next_position = log.end().value();
  const Timestamp now = SystemClock().Now();  // later than now in pass 2: what is not in the future stays so

  std::vector<Pending> pending;
  auto refuse = [&](uint64_t line, const Status& s) -> Status {
    Status named = s.WithContext("line " + std::to_string(line));
    if (!options.skip_invalid || !Skippable(s)) return named;
    report.skipped.emplace_back(line, s.message());
    leave_out.push_back(line);
    return Status::Ok();
  };
  // Looks up the ids of the pending lines at once, then checks each in order.
  auto check_pending = [&]() -> Status {
    std::vector<EventId> ids;
    ids.reserve(pending.size());
    for (const Pending& p : pending) ids.push_back(p.event.id);
    Result<std::vector<std::optional<Position>>> stored = log.PositionsOf(ids);
    if (!stored.ok()) return stored.status();
    for (size_t i = 0; i < pending.size(); ++i) {
      Event& e = pending[i].event;
      const uint64_t line = pending[i].line;
      const uint64_t content = ContentKey(e);
      if (auto it = seen.find(e.id); it != seen.end()) {
        if (it->second.content == content) {
          ++report.repeated;
          leave_out.push_back(line);
          continue;
        }
        CUSTODIAN_RETURN_IF_ERROR(refuse(line, Status::Conflict("event id " + e.id.ToString() +
                                                                " is already used on line " +
                                                                std::to_string(it->second.line) +
                                                                " with other content; an id names one event")));
        continue;
      }
      if (std::optional<Position> at = (*stored)[i]) {
        // The same id in the log: the same event, or a conflict.
        Result<std::vector<Event>> original = log.ReadAll(*at, 1);
        if (!original.ok()) return original.status();
        Result<bool> same = original->empty() ? Result<bool>(false) : SameAsStored(log, e, original->front());
        if (!same.ok()) return same.status();
        if (!*same) {
          CUSTODIAN_RETURN_IF_ERROR(refuse(
              line, Status::Conflict("event id " + e.id.ToString() + " is already in the log at position " +
                                     std::to_string(at->value()) +
                                     " with other content; an id names one event forever, so give a new event a "
                                     "new id")));
          continue;
        }
        ++report.already_present;
        leave_out.push_back(line);  // nothing to write (and a part of an erased person could not be sealed again)
        seen.emplace(e.id, Seen{content, line});
        continue;
      }
      e.position = Position(next_position);  // as the writer would number it
      if (Status s = rules.Check(e); !s.ok()) {
        CUSTODIAN_RETURN_IF_ERROR(refuse(line, s));
        continue;
      }
      seen.emplace(e.id, Seen{content, line, pending[i].offset, next_position});
      ++next_position;
    }
    pending.clear();
    return Status::Ok();
  };

  {
    LineReader reader(input->get(), name);
    ChunkHasher hasher;
    size_t chunk_events = 0, chunk_bytes = 0;
    std::string text;
    uint64_t number = 0;
    for (;;) {
      Result<bool> more = reader.Next(&text, &number);
      if (!more.ok()) return more.status();
      if (!*more) break;
      if (number % 4096 == 0) progress("checking", number);
      if (IsBlank(text)) continue;
      ++report.events;
      hasher.Line(number, text);
      chunk_bytes += text.size();
      if (++chunk_events >= options.batch_events || chunk_bytes >= kChunkBytes) {
        chunk_hashes.push_back(hasher.Finish());
        chunk_events = chunk_bytes = 0;
      }
      Result<Event> e = ParseEventJson(text);
      Status s = e.ok() ? ValidateEvent(*e, now) : e.status();
      if (!s.ok()) {
        CUSTODIAN_RETURN_IF_ERROR(refuse(number, s));
        continue;
      }
      pending.push_back({number, reader.offset(), std::move(*e)});
      if (pending.size() >= 1024) CUSTODIAN_RETURN_IF_ERROR(check_pending());
    }
    CUSTODIAN_RETURN_IF_ERROR(check_pending());
    if (chunk_events > 0) chunk_hashes.push_back(hasher.Finish());
    report.lines = reader.lines();
  }
  std::sort(leave_out.begin(), leave_out.end());
  seen = {};
  progress("checked", report.lines);

  // --- Pass 2: write, chunk by chunk ---
  if (::lseek(input->get(), 0, SEEK_SET) != 0) return Status::IoError("cannot read " + name + " a second time");
  LineReader reader(input->get(), name);
  ChunkHasher hasher;
  size_t chunk = 0, chunk_events = 0, chunk_bytes = 0;
  std::vector<AppendRequest> batch;
  std::vector<uint64_t> batch_lines;
  auto leave = leave_out.begin();
  std::future<Result<std::vector<AppendResult>>> in_flight;
  std::pair<uint64_t, uint64_t> in_flight_lines{0, 0};
  auto wait = [&]() -> Status {
    if (!in_flight.valid()) return Status::Ok();
    Result<std::vector<AppendResult>> r = in_flight.get();
    if (!r.ok()) {
      return r.status().WithContext(fmt::format(
          "writing lines {}-{} failed after {} events were written; nothing of those lines was written, and "
          "running the import again completes it (event ids are idempotent)",
          in_flight_lines.first, in_flight_lines.second, report.written));
    }
    for (const AppendResult& a : *r) report.written += a.written;
    return Status::Ok();
  };
  // The input changed since it was checked: what was written stays (it was
  // checked), nothing after it is written.
  auto changed = [&](const std::string& where) {
    Status w = wait();
    return Status::FailedPrecondition(
        name + " changed while it was imported: " + where + " differs from what was checked; the " +
        std::to_string(report.written) + " checked events before it were written and nothing from there on" +
        (w.ok() ? "" : " (" + w.message() + ")") + "; check the input and import it again");
  };
  auto submit = [&]() -> Status {
    // The chunk read must be the chunk checked.
    if (chunk >= chunk_hashes.size() || hasher.Finish() != chunk_hashes[chunk]) {
      return changed("the part that ends at line " + std::to_string(reader.lines()));
    }
    ++chunk;
    chunk_events = chunk_bytes = 0;
    CUSTODIAN_RETURN_IF_ERROR(wait());  // one batch in flight while the next is read
    if (batch.empty()) return Status::Ok();
    in_flight_lines = {batch_lines.front(), batch_lines.back()};
    in_flight = log.AppendBatchAsync(std::move(batch));
    batch.clear();
    batch_lines.clear();
    progress("writing", reader.lines());
    return Status::Ok();
  };
  std::string text;
  uint64_t number = 0;
  for (;;) {
    Result<bool> more = reader.Next(&text, &number);
    if (!more.ok()) {
      Status w = wait();
      return more.status();
    }
    if (!*more) break;
    if (IsBlank(text)) continue;
    hasher.Line(number, text);
    chunk_bytes += text.size();
    const bool ends_chunk = ++chunk_events >= options.batch_events || chunk_bytes >= kChunkBytes;
    while (leave != leave_out.end() && *leave < number) ++leave;
    if (leave == leave_out.end() || *leave != number) {
      Result<Event> e = ParseEventJson(text);
      if (!e.ok()) return changed("line " + std::to_string(number));
      if (batch.empty() || batch.back().stream != e->stream) {
        batch.emplace_back();
        batch.back().stream = e->stream;
      }
      batch.back().events.push_back(std::move(*e));
      batch_lines.push_back(number);
    }
    if (ends_chunk) CUSTODIAN_RETURN_IF_ERROR(submit());
  }
  if (chunk_events > 0) CUSTODIAN_RETURN_IF_ERROR(submit());
  CUSTODIAN_RETURN_IF_ERROR(wait());
  report.already_present = report.events - report.skipped.size() - report.repeated - report.written;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string ImportReportToJson(const ImportReport& r) {
  std::string skipped = "[";
  for (size_t i = 0; i < r.skipped.size(); ++i) {
    if (i) skipped += ",";
    skipped += fmt::format("{{\"line\":{},\"error\":{}}}", r.skipped[i].first, JsonQuote(r.skipped[i].second));
  }
  skipped += "]";
  return fmt::format(
      "{{\"lines\":{},\"events\":{},\"written\":{},\"already_present\":{},\"repeated\":{},\"skipped\":{},"
      "\"seconds\":{:.3f}}}",
      r.lines, r.events, r.written, r.already_present, r.repeated, skipped, r.seconds);
}

}  // namespace custodian
