#include "core/record.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/string.hpp>

#include <bit>
#include <streambuf>
#include <type_traits>

namespace custodian {
namespace {

// Reads a string exactly as cereal writes it (u64 length, then the bytes),
// but refuses a length longer than the whole record: a corrupt length must
// give Corruption, not an allocation of gigabytes before the read fails.
template <class Archive>
void LoadString(Archive& ar, size_t max_bytes, std::string* s) {
  cereal::size_type size;
  ar(cereal::make_size_tag(size));
  if (size > max_bytes) {
    throw std::runtime_error("a string length of " + std::to_string(size) + " bytes runs past the record's end");
  }
  s->resize(static_cast<size_t>(size));
  ar(cereal::binary_data(s->data(), static_cast<size_t>(size)));
}

// The persisted form. Field order is the format: never reorder, only append
// fields under a new version (docs/event-format.md). Version 2 appends
// recorded_by; a record without one is still written as version 1, byte for
// byte as before.
template <uint32_t kVersion>
struct RecordOut {
  const Event* e;

  template <class Archive>
  void save(Archive& ar, const uint32_t /*version*/) const {
    int64_t occurred = e->occurred_at.value(), recorded = e->recorded_at.value();
    uint64_t position = e->position.value(), version = e->version.value();
    uint8_t scheme = static_cast<uint8_t>(e->personal.scheme);
    ar(position, version, recorded, e->id.bytes(), e->stream, e->type, e->schema, e->actor, occurred,
       e->source, e->correlation_id, e->causation_id, e->data, scheme, e->personal.subject,
       e->personal.nonce, e->personal.ciphertext);
    if constexpr (kVersion >= 2) ar(e->recorded_by);
  }
};

// What DecodeRecord reads: any version up to kRecordVersion.
struct RecordV {
  Event* e;
  size_t max_string_bytes = 0;  // for load: the size of the whole record

  template <class Archive>
  void load(Archive& ar, const uint32_t version) {
    if (version > kRecordVersion) throw std::runtime_error("newer");
    int64_t occurred, recorded;
    uint64_t position, stream_version;
    uint8_t scheme;
    std::array<uint8_t, EventId::kSize> id;
    auto str = [&](std::string* s) { LoadString(ar, max_string_bytes, s); };
    ar(position, stream_version, recorded, id);
    str(&e->stream);
    str(&e->type);
    ar(e->schema);
    str(&e->actor);
    ar(occurred);
    str(&e->source);
    str(&e->correlation_id);
    str(&e->causation_id);
    str(&e->data);
    ar(scheme);
    str(&e->personal.subject);
    str(&e->personal.nonce);
    str(&e->personal.ciphertext);
    if (version >= 2) {
      str(&e->recorded_by);
      if (e->recorded_by.empty()) throw std::runtime_error("a version-2 record with an empty recorded_by");
    } else {
      e->recorded_by.clear();
    }
    e->id = EventId(id);
    e->position = Position(position);
    e->version = StreamVersion(stream_version);
    e->recorded_at = Timestamp(recorded);
    e->occurred_at = Timestamp(occurred);
    if (scheme > static_cast<uint8_t>(PersonalSection::Scheme::kAes256Gcm)) {
      throw std::runtime_error("unknown personal scheme");
    }
    e->personal.scheme = static_cast<PersonalSection::Scheme>(scheme);
  }
};

// Reads a record in place, with no copy.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());
    setg(p, p, p + bytes.size());
  }
};

// cereal's portable binary format, little-endian, appended straight to a
// std::string: the bytes of PortableBinaryOutputArchive with the
// LittleEndian option, without a std::ostream and a virtual call per field
// between (half of an import's encoding time). DecodeRecord reads with
// PortableBinaryInputArchive, and the golden records (tests/core/golden,
// every field set) pin that the bytes are the same.
class StringOutputArchive : public cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit StringOutputArchive(std::string* out) : OutputArchive(this), out_(out) {
    (*this)(uint8_t{1});  // the portable archive's flag: the data is little-endian
  }

  template <size_t kElementSize>
  void SaveLittleEndian(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    if constexpr (std::endian::native == std::endian::little || kElementSize == 1) {
      out_->append(bytes, size);
    } else {
      for (size_t i = 0; i < size; i += kElementSize) {
        for (size_t j = kElementSize; j-- > 0;) out_->push_back(bytes[i + j]);
      }
    }
  }

 private:
  std::string* out_;
};

template <class T>
  requires std::is_arithmetic_v<T>
void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const T& t) {
  ar.SaveLittleEndian<sizeof(T)>(&t, sizeof(T));
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.SaveLittleEndian<sizeof(std::remove_pointer_t<T>)>(bd.data, static_cast<size_t>(bd.size));
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::SizeTag<T>& t) {
  ar(t.size);
}

}  // namespace
}  // namespace custodian

CEREAL_CLASS_VERSION(custodian::RecordV, 2);
CEREAL_CLASS_VERSION(custodian::RecordOut<1>, 1);
CEREAL_CLASS_VERSION(custodian::RecordOut<2>, 2);

namespace custodian {

static_assert(kRecordVersion == 2, "update CEREAL_CLASS_VERSION with kRecordVersion");

std::string EncodeRecord(const Event& e) {
  std::string out;
  out.reserve(e.data.size() + e.stream.size() + e.type.size() + e.actor.size() + e.source.size() +
              e.correlation_id.size() + e.causation_id.size() + e.personal.subject.size() + e.personal.nonce.size() +
              e.personal.ciphertext.size() + e.recorded_by.size() + 168);
  // Little-endian on every host, as docs/event-format.md defines the record
  // (cereal's default is the host's order).
  StringOutputArchive ar(&out);
  if (e.recorded_by.empty()) {
    ar(RecordOut<1>{&e});
  } else {
    ar(RecordOut<2>{&e});
  }
  return out;
}

void SetRecordLogFields(std::string* record, Position position, StreamVersion version, Timestamp recorded_at) {
  // endianness flag (1) and class version (4), then the three fields.
  constexpr size_t kPositionOffset = 5;
  auto put = [&](size_t offset, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) (*record)[offset + i] = static_cast<char>(v >> (8 * i));
  };
  put(kPositionOffset, position.value());
  put(kPositionOffset + 8, version.value());
  put(kPositionOffset + 16, static_cast<uint64_t>(recorded_at.value()));
}

bool PeekRecordStream(std::string_view record, Position* position, StreamVersion* version, std::string_view* stream) {
  // flag, class version, position, version, recorded_at, id: 45 bytes; then the stream's u64 length.
  constexpr size_t kStreamOffset = 45;
  if (record.size() < kStreamOffset + 8 || record[0] != 1 || record[1] < 1 || record[1] > 2 ||
      record.substr(2, 3) != std::string_view("\0\0\0", 3)) {
    return false;
  }
  auto get = [&](size_t offset) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(record[offset + i])} << (8 * i);
    return v;
  };
  const uint64_t length = get(kStreamOffset);
  if (length > record.size() - kStreamOffset - 8) return false;
  *position = Position(get(5));
  *version = StreamVersion(get(13));
  *stream = record.substr(kStreamOffset + 8, length);
  return true;
}

Status DecodeRecord(std::string_view bytes, Event* out) {
  ViewBuf buf(bytes);
  std::istream is(&buf);
  try {
    cereal::PortableBinaryInputArchive ar(is);
    RecordV r{out, bytes.size()};
    ar(r);
  } catch (const std::exception& ex) {
    if (std::string_view(ex.what()) == "newer") {
      return Status::Unsupported("record written by a newer format than this build reads (record version " +
                                 std::to_string(kRecordVersion) + ")");
    }
    return Status::Corruption("record of " + std::to_string(bytes.size()) + " bytes does not decode: " + ex.what());
  }
  if (is.peek() != std::char_traits<char>::eof()) {
    return Status::Corruption("record of " + std::to_string(bytes.size()) + " bytes has trailing bytes");
  }
  return Status::Ok();
}

}  // namespace custodian
