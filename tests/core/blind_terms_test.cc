// The normalised forms the blind index finds a value under (core/personal.h,
// BlindTerms), and the name words it leaves out.
#include "core/personal.h"
// The header under test comes first, to prove it is self-contained.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace custodian {
namespace {

using V = std::vector<std::string>;

TEST_CASE("an e-mail is found in lower case and trimmed, a phone by its digits and leading +") {
  CHECK(BlindTerms(BlindKind::kEmail, "  Ana.Lima@Acme.Example ") == V{"ana.lima@acme.example"});
  CHECK(BlindTerms(BlindKind::kEmail, "not an address").empty());
  CHECK(BlindTerms(BlindKind::kPhone, "+49 (40) 555-0262") == V{"+49405550262"});
  CHECK(BlindTerms(BlindKind::kPhone, "12-34").empty());  // fewer than five digits
}

TEST_CASE("a name is found by each word of two letters or more, and the one-letter words are said apart") {
  V too_short;
  CHECK(BlindTerms(BlindKind::kName, "Mary J. O'Neil-Smith, a Mary", &too_short) == V{"mary", "neil", "smith"});
  CHECK(too_short == V{"j", "o", "a"});  // each once, in order
  V none;
  CHECK(BlindTerms(BlindKind::kName, "Sud Bau GmbH", &none) == V{"sud", "bau", "gmbh"});
  CHECK(none.empty());
  CHECK(BlindTerms(BlindKind::kName, "J.").empty());  // without the list, simply left out
}

TEST_CASE("a name or an e-mail is found whatever the case of its letters, in every script") {
  CHECK(BlindTerms(BlindKind::kName, "ÉTIENNE Öztürk") == V{"étienne", "öztürk"});
  CHECK(BlindTerms(BlindKind::kName, "étienne ÖZTÜRK") == BlindTerms(BlindKind::kName, "Étienne Öztürk"));
  CHECK(BlindTerms(BlindKind::kName, "ŁUKASZ ŠIMEK Ἀθηνᾶ ЖУКОВ") == V{"łukasz", "šimek", "ἀθηνᾶ", "жуков"});
  CHECK(BlindTerms(BlindKind::kEmail, "ÉLISE@Société.Example") == V{"élise@société.example"});
  // A word is two letters or more, not two bytes: "É" and "東" are one.
  V too_short;
  CHECK(BlindTerms(BlindKind::kName, "É. Dupont 東 京都", &too_short) == V{"dupont", "京都"});
  CHECK(too_short == V{"é", "東"});
}

}  // namespace
}  // namespace custodian
