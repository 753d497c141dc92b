// The people of the demo company (tools/demo_data.h): a generated name,
// e-mail and phone for every contact person, and now and then a personal
// remark in the notes of a conversation with one of them. They go in the
// events' personal parts, which the log seals (docs/events.md, "Personal
// data").
//
// Determinism: everything comes from its own std::mt19937_64 seeded from the
// demo's seed, so the same seed gives the same people, and drawing them
// leaves the rest of the company's randomness (and so the rest of the
// company) as it was. E-mail domains end in ".example" and phone numbers use
// the 555 exchange: fictional, as RFC 2606 reserves that domain.
//
// Not thread-safe; one per generator.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace custodian::demo {

class DemoPeople {
 public:
  explicit DemoPeople(uint64_t seed);

  // The e-mail domain of a company registered under `name` ("Hartmann
  // Logistik GmbH 1001" -> "hartmann-logistik-1001.example").
  static std::string CompanyDomain(std::string_view name);

  // A new contact's personal part for contact.added (compact JSON): name,
  // e-mail at `domain` (at a mail provider when empty: the contact of a
  // customer who is a person), phone in the style of `country` (an ISO code,
  // e.g. "DE"), and a mobile for some.
  std::string NewContact(std::string_view domain, std::string_view country);

  // The personal part of a logged conversation: {"notes": "..."} about the
  // person spoken with, for about `share` of them; empty for the rest.
  std::string ConversationNotes(double share);

 private:
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  uint64_t Below(uint64_t n);
  std::mt19937_64 engine_;
};

}  // namespace custodian::demo
