#include "storage/replicated_round.h"

#include <cstring>

#include "core/record.h"
#include "storage/event_log.h"

namespace custodian {
namespace {

constexpr char kMagic[4] = {'C', 'R', 'N', 'D'};
constexpr uint32_t kVersion = 1;
// A round is at most max_batch_bytes of events (4 MiB by default); nothing
// in one is anywhere near these.
constexpr uint32_t kMaxCount = 1u << 24;

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  out->append(b, sizeof(T));
}

void PutBytes(std::string* out, std::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  bool Get(T* v) {
    if (b_.size() - at_ < sizeof(T)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) x |= static_cast<uint64_t>(static_cast<uint8_t>(b_[at_ + i])) << (8 * i);
    at_ += sizeof(T);
    *v = static_cast<T>(x);
    return true;
  }
  bool Bytes(std::string_view* s) {
    uint32_t n = 0;
    if (!Get(&n) || b_.size() - at_ < n) return false;
    *s = b_.substr(at_, n);
    at_ += n;
    return true;
  }
  bool Fixed(size_t n, std::string_view* s) {
    if (b_.size() - at_ < n) return false;
    *s = b_.substr(at_, n);
    at_ += n;
    return true;
  }
  size_t at() const { return at_; }
  bool done() const { return at_ == b_.size(); }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

}  // namespace

std::string EncodeRoundHeader(uint64_t epoch, uint64_t first_position, uint64_t end_position, Timestamp recorded_at,
                              const Hash256& root, uint32_t writes) {
  std::string out(kMagic, sizeof(kMagic));
  Put<uint32_t>(&out, kVersion);
  Put<uint64_t>(&out, epoch);
  Put<uint64_t>(&out, first_position);
  Put<uint64_t>(&out, end_position);
  Put<int64_t>(&out, recorded_at.value());
  out.append(reinterpret_cast<const char*>(root.data()), root.size());
  Put<uint32_t>(&out, writes);
  return out;
}

void EncodeRoundWrite(const std::vector<AppendRequest>& requests, const std::vector<std::string>& records,
                      std::string* out) {
  Put<uint32_t>(out, static_cast<uint32_t>(requests.size()));
  size_t k = 0;
  for (const AppendRequest& r : requests) {
    PutBytes(out, r.stream);
    Put<uint8_t>(out, static_cast<uint8_t>(r.expected.kind()));
    Put<uint64_t>(out, r.expected.version().value());
    Put<uint32_t>(out, static_cast<uint32_t>(r.events.size()));
    for (size_t i = 0; i < r.events.size(); ++i) PutBytes(out, records[k++]);
  }
}

Result<ReplicatedRound> DecodeRound(std::string_view bytes) {
  auto bad = [&](const Reader& r, std::string_view what) {
    return Status::Corruption("not a replicated round: " + std::string(what) + " at byte " + std::to_string(r.at()) +
                              " of " + std::to_string(bytes.size()));
  };
  Reader r(bytes);
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return bad(r, "no CRND marker");
  }
  uint32_t magic = 0, version = 0, writes = 0;
  (void)r.Get(&magic);
  if (!r.Get(&version)) return bad(r, "truncated");
  if (version != kVersion) {
    return Status::Unsupported("replicated round of format " + std::to_string(version) + ", this node reads " +
                               std::to_string(kVersion) + ": upgrade this node");
  }
  ReplicatedRound round;
  int64_t recorded = 0;
  std::string_view root;
  if (!r.Get(&round.epoch) || !r.Get(&round.first_position) || !r.Get(&round.end_position) || !r.Get(&recorded) ||
      !r.Fixed(round.root.size(), &root) || !r.Get(&writes)) {
    return bad(r, "truncated header");
  }
  if (writes > kMaxCount || round.end_position < round.first_position) return bad(r, "impossible header");
  round.recorded_at = Timestamp(recorded);
  std::memcpy(round.root.data(), root.data(), round.root.size());
  // Counts come from the message: what is kept grows with what really
  // decodes, never with a count alone (a few bytes claiming 2^24 of each).
  for (uint32_t w = 0; w < writes; ++w) {
    auto& write = round.writes.emplace_back();
    uint32_t requests = 0;
    if (!r.Get(&requests) || requests > kMaxCount) return bad(r, "bad request count");
    for (uint32_t q = 0; q < requests; ++q) {
      AppendRequest& req = write.emplace_back();
      std::string_view stream;
      uint8_t kind = 0;
      uint64_t expected = 0;
      uint32_t events = 0;
      if (!r.Bytes(&stream) || !r.Get(&kind) || !r.Get(&expected) || !r.Get(&events) || events > kMaxCount) {
        return bad(r, "truncated request");
      }
      req.stream = std::string(stream);
      switch (static_cast<ExpectedVersion::Kind>(kind)) {
        case ExpectedVersion::Kind::kAny: req.expected = ExpectedVersion::Any(); break;
        case ExpectedVersion::Kind::kNoStream: req.expected = ExpectedVersion::NoStream(); break;
        case ExpectedVersion::Kind::kExactly: req.expected = ExpectedVersion::Exactly(StreamVersion(expected)); break;
        default: return bad(r, "unknown expected-version kind " + std::to_string(kind));
      }
      for (uint32_t i = 0; i < events; ++i) {
        std::string_view record;
        if (!r.Bytes(&record)) return bad(r, "truncated record");
        CUSTODIAN_RETURN_IF_ERROR(DecodeRecord(record, &req.events.emplace_back())
                                      .WithContext("replicated round, record at byte " +
                                                   std::to_string(r.at() - record.size())));
      }
    }
  }
  if (!r.done()) return bad(r, "trailing bytes");
  return round;
}

}  // namespace custodian
