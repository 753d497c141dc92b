// Edits of an evidence bundle's JSON for tests of the verifiers.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

namespace custodian::testing {

// `bundle` (a format 3 bundle's JSON) as a format 2 bundle would be: no
// completeness part, and the summary without its sentence about the stream
// map. What a bundle made before 2026-12-05 looks like, and also an insider's
// downgrade of a complete one.
inline std::string AsFormat2Bundle(const std::string& bundle) {
  boost::json::value b = boost::json::parse(bundle);
  boost::json::object& o = b.as_object();
  o.erase("completeness");
  o["format"] = "custodian-evidence/2";
  std::string summary(o.at("summary").as_string());
  const size_t from = summary.find(" The stream map signed"), to = summary.find(" Check it offline");
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  summary.erase(from, to - from);
  o["summary"] = summary;
  return boost::json::serialize(b);
}

}  // namespace custodian::testing
