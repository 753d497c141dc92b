#include "cluster/forward.h"

#include <charconv>

#include "core/json.h"

namespace custodian::cluster {
namespace {

// The next line of `bytes` from `*at` (without its newline); false at the end.
bool NextLine(std::string_view bytes, size_t* at, std::string_view* line) {
  if (*at >= bytes.size()) return false;
  const size_t nl = bytes.find('\n', *at);
  const size_t end = nl == std::string_view::npos ? bytes.size() : nl;
  *line = bytes.substr(*at, end - *at);
  *at = end + 1;
  return true;
}

bool ParseU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits "a b c rest..." into `n` words and the rest of the line.
bool Words(std::string_view line, size_t n, std::vector<std::string_view>* out, std::string_view* rest) {
  out->clear();
  for (size_t i = 0; i < n; ++i) {
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    out->push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  *rest = line;
  return true;
}

constexpr uint64_t kMaxCount = 1u << 24;

}  // namespace

std::string EncodeForward(const std::vector<AppendRequest>& requests, ForwardFraming framing) {
  const bool current = framing == ForwardFraming::kCurrent;
  std::string out = (current ? "CFWD2 " : "CFWD1 ") + std::to_string(requests.size()) + "\n";
  for (const AppendRequest& r : requests) {
    out += std::to_string(static_cast<int>(r.expected.kind())) + " " + std::to_string(r.expected.version().value()) +
           " " + std::to_string(r.events.size()) + " " + r.stream + "\n";
    for (const Event& e : r.events) {
      out += EventToJson(e, current ? JsonFields::kForwarded : JsonFields::kProducer);  // + who appended it
      out += '\n';
    }
  }
  return out;
}

Result<std::vector<AppendRequest>> DecodeForward(std::string_view bytes) {
  size_t at = 0, line_no = 0;
  std::string_view line;
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("forwarded append, line " + std::to_string(line_no) + ": " + what);
  };
  ++line_no;
  uint64_t n = 0;
  const bool current = NextLine(bytes, &at, &line) && line.starts_with("CFWD2 ");
  if ((!current && !line.starts_with("CFWD1 ")) || !ParseU64(line.substr(6), &n) || n > kMaxCount) {
    return bad("not a forwarded append");
  }
  const RecordedBy recorded_by = current ? RecordedBy::kKeep : RecordedBy::kIgnore;
  // A count alone allocates nothing: requests and events are kept as their
  // lines decode (a few bytes may claim 2^24 of each).
  std::vector<AppendRequest> requests;
  std::vector<std::string_view> w;
  for (uint64_t q = 0; q < n; ++q) {
    AppendRequest& r = requests.emplace_back();
    ++line_no;
    std::string_view stream;
    uint64_t kind = 0, version = 0, events = 0;
    if (!NextLine(bytes, &at, &line) || !Words(line, 3, &w, &stream) || !ParseU64(w[0], &kind) ||
        !ParseU64(w[1], &version) || !ParseU64(w[2], &events) || events > kMaxCount) {
      return bad("expected '<kind> <version> <events> <stream>'");
    }
    r.stream = std::string(stream);
    switch (static_cast<ExpectedVersion::Kind>(kind)) {
      case ExpectedVersion::Kind::kAny: r.expected = ExpectedVersion::Any(); break;
      case ExpectedVersion::Kind::kNoStream: r.expected = ExpectedVersion::NoStream(); break;
      case ExpectedVersion::Kind::kExactly: r.expected = ExpectedVersion::Exactly(StreamVersion(version)); break;
      default: return bad("unknown expected-version kind " + std::to_string(kind));
    }
    for (uint64_t i = 0; i < events; ++i) {
      ++line_no;
      if (!NextLine(bytes, &at, &line)) return bad("missing event");
      Result<Event> e = ParseEventJson(line, recorded_by);
      if (!e.ok()) return bad(e.status().message());
      r.events.push_back(std::move(*e));
    }
  }
  if (at < bytes.size()) return bad("trailing bytes");
  return requests;
}

bool RefusedForItsFraming(const Status& writer_said) {
  // The words every build's DecodeForward gives for a first line it does not know.
  return writer_said.code() == StatusCode::kInvalidArgument &&
         writer_said.message() == "forwarded append, line 1: not a forwarded append";
}

std::string EncodeForwardReply(const Result<std::vector<AppendResult>>& outcome) {
  if (!outcome.ok()) {
    return "ERR " + std::to_string(static_cast<int>(outcome.status().code())) + " " + outcome.status().message();
  }
  std::string out = "OK " + std::to_string(outcome->size()) + "\n";
  for (const AppendResult& r : *outcome) {
    out += std::to_string(r.written);
    for (size_t i = 0; i < r.positions.size(); ++i) {
      out += " " + std::to_string(r.positions[i].value()) + ":" + std::to_string(r.versions[i].value());
    }
    out += "\n";
  }
  return out;
}

Result<std::vector<AppendResult>> DecodeForwardReply(std::string_view bytes) {
  auto bad = [&] { return Status::Corruption("the writer's reply to a forwarded append is garbled"); };
  if (bytes.starts_with("ERR ")) {
    std::string_view rest = bytes.substr(4);
    const size_t sp = rest.find(' ');
    uint64_t code = 0;
    if (sp == std::string_view::npos || !ParseU64(rest.substr(0, sp), &code) || code == 0 ||
        code > static_cast<uint64_t>(StatusCode::kUnavailable)) {
      return bad();  // an error that is no error (0) would read as a success with nothing in it
    }
    return Status(static_cast<StatusCode>(code), std::string(rest.substr(sp + 1)));
  }
  size_t at = 0;
  std::string_view line;
  uint64_t n = 0;
  if (!NextLine(bytes, &at, &line) || !line.starts_with("OK ") || !ParseU64(line.substr(3), &n) || n > kMaxCount) {
    return bad();
  }
  std::vector<AppendResult> out;
  for (uint64_t i = 0; i < n; ++i) {
    AppendResult& r = out.emplace_back();
    if (!NextLine(bytes, &at, &line)) return bad();
    size_t sp = line.find(' ');
    uint64_t written = 0;
    if (!ParseU64(line.substr(0, sp), &written)) return bad();
    r.written = written;
    while (sp != std::string_view::npos) {
      line.remove_prefix(sp + 1);
      sp = line.find(' ');
      std::string_view item = line.substr(0, sp);
      const size_t colon = item.find(':');
      uint64_t p = 0, v = 0;
      if (colon == std::string_view::npos || !ParseU64(item.substr(0, colon), &p) || !ParseU64(item.substr(colon + 1), &v)) {
        return bad();
      }
      r.positions.push_back(Position(p));
      r.versions.push_back(StreamVersion(v));
    }
  }
  return out;
}

}  // namespace custodian::cluster
