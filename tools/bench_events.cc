#include "tools/bench_events.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "core/personal.h"
#include "core/record.h"

namespace custodian::bench {
namespace {

constexpr const char* kChannels[] = {"call", "email", "chat", "visit", "meeting"};  // docs/events.md
constexpr const char* kTopics[] = {"billing.dispute", "contract.renewal", "delivery.delay", "account.access",
                                   "product.question"};
constexpr const char* kNotes[] = {
    "Customer asked about the March invoice; explained the prorated charge and agreed on a follow-up call.",
    "Renewal discussed: customer wants the same tier for two more years if the support SLA stays as it is.",
    "Parcel held at the depot since Tuesday; rebooked delivery for Friday morning and waived the fee.",
    "Password reset link expired twice; verified identity by phone and re-sent it with a longer validity.",
};

// What the personal-data mix says about people.
constexpr const char* kFirstNames[] = {"Petra", "Jonas",  "Amira", "Lukas", "Sofia", "Mehmet", "Clara", "Felix",
                                       "Ines",  "Tobias", "Marta", "Noah",  "Lea",   "Karim",  "Anna",  "Emil"};
constexpr const char* kLastNames[] = {"Hartmann", "Schulz", "Okafor", "Novak",  "Weber",  "Yilmaz", "Becker", "Fischer",
                                      "Lindqvist", "Braun", "Moreau", "Kowalski", "Richter", "Haddad", "Wagner", "Costa"};
constexpr const char* kRoles[] = {"head of fleet operations", "procurement lead", "finance controller",
                                  "IT administrator", "managing director"};
constexpr const char* kDepartments[] = {"operations", "procurement", "finance", "IT", "management"};
constexpr const char* kPersonalNotes[] = {
    "Back from parental leave in May; wants to be called before 9am, never on Fridays.",
    "Prefers German on the phone; mentioned a knee operation in June, so no site visits until July.",
    "Asked us not to copy her manager on e-mails; she reports to the board herself since the merger.",
    "Moving to the Hamburg office in autumn; private mobile only for urgent delivery problems.",
};

// SplitMix64: a contact's details from its subject, whatever the draws.
uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Event EventFactory::NextFromDeck() {
  if (deck_pos_ == deck_.size()) {
    deck_.resize(streams_);
    for (uint64_t i = 0; i < streams_; ++i) deck_[i] = i;
    std::shuffle(deck_.begin(), deck_.end(), rng_);
    deck_pos_ = 0;
  }
  return Make(deck_[deck_pos_++]);
}

Event EventFactory::Make(uint64_t stream) {
  std::array<uint8_t, EventId::kSize> id;
  for (size_t i = 0; i < id.size(); i += 8) {
    const uint64_t r = rng_();
    std::memcpy(id.data() + i, &r, 8);
  }
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);  // version 4
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);  // RFC 4122 variant
  Event e;
  e.id = EventId(id);
  e.stream = "customer-" + std::to_string(stream);
  e.type = "interaction.logged";
  e.actor = "staff-" + std::to_string(rng_() % 200);
  constexpr int64_t kWeekMicros = 7LL * 24 * 3600 * kMicrosPerSecond;
  e.occurred_at = Timestamp(now_.value() - static_cast<int64_t>(rng_() % kWeekMicros));
  e.source = "crm";
  e.correlation_id = fmt::format("req-{:016x}", rng_());
  if (mix_ != Mix::kInteractions && made_++ % 3 == 2) {
    MakePersonal(e);
    return e;
  }
  e.data = fmt::format(
      R"({{"channel":"{}","direction":"{}","duration_s":{},"team":"retention","topic":"{}",)"
      R"("summary":"{}","tags":["follow-up","priority-{}"],"sentiment":{:.2f},"ticket":{}}})",
      kChannels[rng_() % std::size(kChannels)], rng_() % 2 ? "inbound" : "outbound", rng_() % 3600,
      kTopics[rng_() % std::size(kTopics)], kNotes[rng_() % std::size(kNotes)], rng_() % 4,
      static_cast<double>(rng_() % 200) / 100.0 - 1.0, rng_() % 10'000'000);
  return e;
}

void EventFactory::MakePersonal(Event& e) {
  const uint64_t contact = rng_() % kContactsPerCustomer;
  const uint64_t who = Mix64(std::strtoull(e.stream.c_str() + 9, nullptr, 10) * kContactsPerCustomer + contact);
  const std::string contact_id = fmt::format("con-{}", contact);
  if (rng_() % 2 == 0) {
    const std::string first = kFirstNames[who % std::size(kFirstNames)];
    const std::string last = kLastNames[(who >> 8) % std::size(kLastNames)];
    e.type = "contact.added";
    e.data = fmt::format(
        R"({{"contact_id":"{}","role":"{}","department":"{}","key_contact":{},"preferred_channel":"{}"}})",
        contact_id, kRoles[rng_() % std::size(kRoles)], kDepartments[rng_() % std::size(kDepartments)],
        rng_() % 2 ? "true" : "false", kChannels[rng_() % std::size(kChannels)]);
    e.personal_plain = fmt::format(R"({{"name":"{} {}","email":"{}.{}@{}.example.com","phone":"+49 40 555{:05}"}})",
                                   first, last, Lower(first), Lower(last), e.stream, (who >> 16) % 100'000);
  } else {
    e.data = fmt::format(
        R"({{"channel":"{}","direction":"{}","contact_id":"{}","duration_s":{},"topic":"{}","summary":"{}"}})",
        kChannels[rng_() % std::size(kChannels)], rng_() % 2 ? "inbound" : "outbound", contact_id, rng_() % 3600,
        kTopics[rng_() % std::size(kTopics)], kNotes[rng_() % std::size(kNotes)]);
    e.personal_plain =
        fmt::format(R"({{"notes":"{}"}})", kPersonalNotes[rng_() % std::size(kPersonalNotes)]);
  }
  if (mix_ == Mix::kPersonalFree) e.personal_plain.clear();
}

double MeanRecordBytes(uint64_t seed, uint64_t streams, Mix mix) {
  EventFactory factory(seed, streams, mix);
  const std::string data_key(kDataKeyBytes, 'k');
  constexpr int kSample = 1'000;
  size_t total = 0;
  for (int i = 0; i < kSample; ++i) {
    Event e = factory.Next();
    e.position = Position(1'000'000 + i);
    e.version = StreamVersion(i);
    e.recorded_at = SystemClock().Now();
    if (!e.personal_plain.empty()) {
      Result<std::string> subject = PersonalSubject(e);
      Result<std::string> plain = CheckPersonalPart(e.type, e.personal_plain);
      Result<PersonalSection> sealed = !subject.ok() ? Result<PersonalSection>(subject.status())
                                       : !plain.ok() ? Result<PersonalSection>(plain.status())
                                                     : SealPersonal(e.id, *subject, data_key, *plain);
      if (!sealed.ok()) {
        fmt::print(stderr, "custodian-bench: the factory's personal part of a {} does not seal: {}\n", e.type,
                   sealed.status().ToString());
        std::exit(1);
      }
      e.personal = std::move(*sealed);
      e.personal_plain.clear();
    }
    total += EncodeRecord(e).size();
  }
  return static_cast<double>(total) / kSample;
}

}  // namespace custodian::bench
