// The events custodian-bench writes (tools/bench.cc): deterministic, so that
// the EventLog and its peer of a workload store the same events.
//
// Three mixes:
//   kInteractions  every event an `interaction.logged` with a ~280-byte
//                  payload and no contact: the classic workloads.
//   kPersonal      the same, but every third event is about one of
//                  kContactsPerCustomer contacts of its customer and carries
//                  a personal part (docs/events.md, "Personal data"),
//                  alternately a `contact.added` with {name, email, phone}
//                  and an `interaction.logged` (data.contact_id) with
//                  {notes}. Each contact is a subject with its own key, so a
//                  run creates, caches and reuses keys as an import of a CRM
//                  would (50,000 subjects at 10,000 customers).
//   kPersonalFree  exactly the kPersonal events (same types, same data, same
//                  draws), without their personal parts: the peer that the
//                  personal-data workloads are compared with.
// A contact's name, e-mail and phone follow from its subject, so its events
// repeat the same values (and blind-index terms).
//
// Not thread-safe: one factory per thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/time.h"

namespace custodian::bench {

inline constexpr uint64_t kContactsPerCustomer = 5;

enum class Mix { kInteractions, kPersonal, kPersonalFree };

class EventFactory {
 public:
  EventFactory(uint64_t seed, uint64_t streams, Mix mix = Mix::kInteractions)
      : rng_(seed), streams_(streams), mix_(mix) {}

  // An event for a random stream.
  Event Next() { return Make(rng_() % streams_); }

  // Events for streams drawn from a shuffled deck of all streams, so that
  // every stream gets the same number of events: the import's dataset.
  Event NextFromDeck();

 private:
  Event Make(uint64_t stream);
  // Turns `e` into an event about one of its customer's contacts.
  void MakePersonal(Event& e);

  std::mt19937_64 rng_;
  uint64_t streams_;
  Mix mix_;
  uint64_t made_ = 0;
  std::vector<uint64_t> deck_;
  size_t deck_pos_ = 0;
  Timestamp now_ = SystemClock().Now();
};

// The mean size of an encoded record of `mix` (a personal part sealed as the
// log seals it), over a sample of the factory's events.
double MeanRecordBytes(uint64_t seed, uint64_t streams, Mix mix);

}  // namespace custodian::bench
