#include "tools/demo_people.h"

#include <fmt/core.h>

#include <array>
#include <cctype>

#include "core/json.h"

namespace custodian::demo {
namespace {

__extension__ typedef unsigned __int128 Uint128;

// A different stream of numbers from the company's, from the same seed.
constexpr uint64_t kPeopleStream = 0x70656f706c652d31ULL;  // "people-1"

constexpr std::array<const char*, 40> kFirstNames = {
    "Anna",      "Petra",  "Jürgen",  "Thomas",     "Sabine",  "Katrin",  "Stefan", "Andreas", "Claudia",   "Markus",
    "Julia",     "Lukas",  "Sophie",  "Maximilian", "Lena",    "Felix",   "Monika", "Tobias",  "Eva",       "Martin",
    "Sanne",     "Joost",  "Marieke", "Pieter",     "Camille", "Étienne", "Chloé",  "Julien",  "Agnieszka", "Piotr",
    "Katarzyna", "Tomasz", "Mette",   "Søren",      "Ingrid",  "Lars",    "Astrid", "Henrik",  "Björn",     "Elin"};
constexpr std::array<const char*, 40> kLastNames = {
    "Hartmann", "Müller",    "Schneider", "Fischer",    "Weber",    "Becker",    "Hoffmann", "Schäfer",
    "Koch",     "Richter",   "Wagner",    "Zimmermann", "Brandt",   "Krüger",    "Vogel",    "Huber",
    "Gruber",   "Steiner",   "Meier",     "Keller",     "de Vries", "Jansen",    "Bakker",   "Visser",
    "Bernard",  "Dubois",    "Lefèvre",   "Moreau",     "Nowak",    "Kaczmarek", "Mazur",    "Wójcik",
    "Nielsen",  "Jørgensen", "Andersson", "Lindqvist",  "Berg",     "Johansson", "Dahl",     "Holm"};
constexpr std::array<const char*, 3> kMailProviders = {"mailbox.example", "webpost.example", "inbox.example"};

struct CountryPhone {
  const char* country;
  const char* code;
  std::array<const char*, 3> areas;
  const char* mobile;
};
constexpr std::array<CountryPhone, 8> kPhones = {{
    {"DE", "49", {"30", "40", "89"}, "151"},
    {"AT", "43", {"1", "316", "662"}, "664"},
    {"CH", "41", {"44", "31", "61"}, "79"},
    {"NL", "31", {"20", "10", "30"}, "6"},
    {"FR", "33", {"1", "4", "3"}, "6"},
    {"PL", "48", {"22", "12", "61"}, "501"},
    {"DK", "45", {"33", "86", "98"}, "20"},
    {"SE", "46", {"8", "31", "40"}, "70"},
}};

// Remarks about a person that a salesperson notes after a conversation:
// personal, so they go in the sealed part, never in data.summary.
constexpr std::array<const char*, 14> kRemarks = {"asked us to call after 3pm, kids' school run",
                                                  "back from parental leave in May; wants a catch-up call then",
                                                  "prefers e-mail to calls on Fridays",
                                                  "on holiday until the 20th; urgent orders go to the deputy",
                                                  "moving to the Hamburg office in the spring",
                                                  "wants a short written summary after every call",
                                                  "asked not to be called on Mondays",
                                                  "likes to have the quote a day before we meet",
                                                  "gets a new direct line next month and will send it",
                                                  "prefers meetings early in the morning",
                                                  "ran a marathon in October: ask how it went",
                                                  "works part-time from autumn, Tuesdays to Thursdays",
                                                  "prefers English in writing, German on the phone",
                                                  "asked to be copied on invoices from now on"};

// Lower-case ASCII for an e-mail address: umlauts and accents folded
// (ü -> ue, é -> e, ø -> oe, ...), spaces and other characters dropped.
std::string MailPart(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kFold = {{{"ä", "ae"},
                                                                                           {"ö", "oe"},
                                                                                           {"ü", "ue"},
                                                                                           {"ß", "ss"},
                                                                                           {"é", "e"},
                                                                                           {"è", "e"},
                                                                                           {"É", "e"},
                                                                                           {"ø", "oe"},
                                                                                           {"å", "aa"},
                                                                                           {"ń", "n"},
                                                                                           {"ś", "s"},
                                                                                           {"ó", "o"}}};
  std::string out;
  for (size_t i = 0; i < name.size();) {
    bool folded = false;
    for (const auto& [from, to] : kFold) {
      if (name.substr(i).starts_with(from)) {
        out += to;
        i += from.size();
        folded = true;
        break;
      }
    }
    if (folded) continue;
    const unsigned char c = static_cast<unsigned char>(name[i++]);
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

}  // namespace

DemoPeople::DemoPeople(uint64_t seed) : engine_(seed ^ kPeopleStream) {}

uint64_t DemoPeople::Below(uint64_t n) { return static_cast<uint64_t>((static_cast<Uint128>(engine_()) * n) >> 64); }

std::string DemoPeople::CompanyDomain(std::string_view name) {
  // The first two words and the customer number: "Hartmann Logistik GmbH 1001" -> "hartmann-logistik-1001".
  std::string words[2], number;
  size_t at = 0, word = 0;
  while (at < name.size()) {
    const size_t end = std::min(name.find(' ', at), name.size());
    const std::string_view w = name.substr(at, end - at);
    if (!w.empty() && std::isdigit(static_cast<unsigned char>(w.front()))) {
      number = MailPart(w);
    } else if (word < 2) {
      words[word++] = MailPart(w);
    }
    at = end + 1;
  }
  std::string domain;
  for (const std::string* part : {&words[0], &words[1], &number}) {
    if (!part->empty()) domain += (domain.empty() ? "" : "-") + *part;
  }
  return (domain.empty() ? std::string("customer") : domain) + ".example";
}

std::string DemoPeople::NewContact(std::string_view domain, std::string_view country) {
  // One draw per statement: the order of draws is the format.
  const std::string first = kFirstNames[Below(kFirstNames.size())];
  const std::string last = kLastNames[Below(kLastNames.size())];
  const uint64_t style = Below(10);
  const std::string host = domain.empty() ? kMailProviders[Below(kMailProviders.size())] : std::string(domain);
  std::string local = style < 6 ? MailPart(first) + "." + MailPart(last)
                                : (style < 9 ? MailPart(first).substr(0, 1) + "." + MailPart(last) : MailPart(first));
  if (domain.empty()) local += std::to_string(10 + Below(90));  // a mail provider's address is rarely just the name
  const CountryPhone* phone = &kPhones[0];
  for (const CountryPhone& p : kPhones) {
    if (country == p.country) phone = &p;
  }
  const char* area = phone->areas[Below(phone->areas.size())];
  const uint64_t line = Below(10'000);
  const bool mobile = Below(10) < 4;
  std::string personal = "{\"name\":" + JsonQuote(first + " " + last) + ",\"email\":" + JsonQuote(local + "@" + host) +
                         ",\"phone\":" + JsonQuote(fmt::format("+{} {} 555 {:04}", phone->code, area, line));
  if (mobile)
    personal += ",\"mobile\":" + JsonQuote(fmt::format("+{} {} 555 {:04}", phone->code, phone->mobile, Below(10'000)));
  return personal + "}";
}

std::string DemoPeople::ConversationNotes(double share) {
  if (Uniform() >= share) return "";
  return "{\"notes\":" + JsonQuote(kRemarks[Below(kRemarks.size())]) + "}";
}

}  // namespace custodian::demo
