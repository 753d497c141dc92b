#include "replay/silent.h"

#include <catch2/catch.hpp>

#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::CrmFixture;
using testing::T;

// customer-1 (staff-1) last contacted 2025-01-01T00:00:00Z; 60 days later is
// 2025-03-02T00:00:00Z. customer-2 has no owner. customer-3 (staff-1) was
// registered 2025-01-10 and never contacted.
void AddHistory(CrmFixture& f) {
  f.Join("staff-1", "north", "2024-12-01T08:00:00Z");
  f.Join("staff-9", "management", "2024-12-01T08:00:00Z");
  f.Add("customer-1", "customer.registered", "staff-9", "2024-12-02T09:00:00Z", R"({"name":"Acme GmbH"})");
  f.Add("customer-1", "customer.owner_assigned", "staff-9", "2024-12-02T10:00:00Z",
        R"({"owner":"staff-1","reason":"initial"})");
  f.Add("customer-1", "interaction.logged", "staff-1", "2024-12-20T10:00:00Z",
        R"({"channel":"email","direction":"outbound"})");
  f.Add("customer-1", "interaction.logged", "staff-1", "2025-01-01T00:00:00Z",
        R"({"channel":"call","direction":"inbound"})");
  f.Add("customer-2", "customer.registered", "staff-9", "2024-12-03T09:00:00Z", R"({"name":"Bolt AG"})");
  f.Add("customer-3", "customer.registered", "staff-9", "2025-01-10T09:00:00Z", R"({"name":"Crane Ltd"})");
  f.Add("customer-3", "customer.owner_assigned", "staff-9", "2025-01-10T10:00:00Z",
        R"({"owner":"staff-1","reason":"initial"})");
}

SilentReport Find(const MemoryState& state, int days, const char* now) {
  Result<SilentReport> r = FindSilentCustomers(StateReader::Memory(state), days, T(now));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

bool Lists(const SilentReport& r, const std::string& customer) {
  for (const auto& s : r.silent) {
    if (s.customer == customer) return true;
  }
  return false;
}

TEST_CASE("a customer contacted exactly N days ago is not silent, N days and a second, or N+1 days, is",
          "[replay][silent]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAll(*MakeSilentProjection());
  CHECK_FALSE(Lists(Find(state, 60, "2025-03-02T00:00:00Z"), "customer-1"));
  CHECK(Lists(Find(state, 60, "2025-03-02T00:00:01Z"), "customer-1"));
  SilentReport r = Find(state, 60, "2025-03-03T00:00:00Z");
  REQUIRE(Lists(r, "customer-1"));
  const SilentCustomer& s = r.silent.front();
  CHECK(s.customer == "customer-1");
  CHECK(s.days_silent == 61);
  CHECK(s.owner == "staff-1");
  CHECK(s.name == "Acme GmbH");
  CHECK(s.last_contact == T("2025-01-01T00:00:00Z"));
  CHECK(s.last_contact_channel == "call");
  CHECK(s.last_contact_by == "staff-1");
  // A shorter window finds it sooner; the unowned customer-2 is never listed.
  CHECK(Lists(Find(state, 30, "2025-02-01T00:00:00Z"), "customer-1"));
  CHECK_FALSE(Lists(Find(state, 0, "2026-01-01T00:00:00Z"), "customer-2"));
}

TEST_CASE("a customer never contacted is measured from its first event", "[replay][silent]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAll(*MakeSilentProjection());
  CHECK_FALSE(Lists(Find(state, 60, "2025-03-11T09:00:00Z"), "customer-3"));  // exactly 60 days
  SilentReport r = Find(state, 60, "2025-03-12T09:00:00Z");
  REQUIRE(Lists(r, "customer-3"));
  CHECK_FALSE(r.silent.back().last_contact.has_value());
  CHECK(r.silent.back().silent_since == T("2025-01-10T09:00:00Z"));
  // Longest silent first.
  CHECK(r.silent.front().customer == "customer-1");
}

TEST_CASE("a contact after now does not count, so a later contact ends the silence only from then",
          "[replay][silent]") {
  CrmFixture f;
  AddHistory(f);
  f.Add("customer-1", "interaction.logged", "staff-1", "2025-04-01T00:00:00Z", R"({"channel":"visit","direction":"outbound"})");
  MemoryState state = f.ReplayAll(*MakeSilentProjection());
  CHECK(Lists(Find(state, 60, "2025-03-20T00:00:00Z"), "customer-1"));
  CHECK_FALSE(Lists(Find(state, 60, "2025-04-02T00:00:00Z"), "customer-1"));
}

TEST_CASE("wins and orders with no contact in the N days before them are found, boundaries included",
          "[replay][silent]") {
  CrmFixture f;
  AddHistory(f);
  f.Add("customer-1", "deal.opened", "staff-1", "2024-12-20T11:00:00Z",
        R"({"deal_id":"d1","title":"Fleet","value":1000,"currency":"EUR","stage":"proposal"})");
  // Exactly 60 days after the last contact: contacted in time.
  f.Add("customer-1", "deal.won", "staff-1", "2025-03-02T00:00:00Z", R"({"deal_id":"d1"})");
  // One second later: not.
  f.Add("customer-1", "order.placed", "staff-1", "2025-03-02T00:00:01Z",
        R"({"order_id":"o1","value":900,"currency":"EUR","deal_id":"d1"})");
  MemoryState state = f.ReplayAll(*MakeSilentProjection());
  SilentReport r = Find(state, 60, "2025-04-01T00:00:00Z");
  REQUIRE(r.wins.size() == 1);
  CHECK(r.wins[0].type == "order.placed");
  CHECK(r.wins[0].id == "o1");
  CHECK(r.wins[0].last_contact_before == T("2025-01-01T00:00:00Z"));
  CHECK(r.wins[0].owner == "staff-1");
  // Before the order happened, nothing to report.
  CHECK(Find(state, 60, "2025-03-02T00:00:00Z").wins.empty());
}

TEST_CASE("a late-entered contact before a win clears it, but not in a replay as of before it was recorded",
          "[replay][silent]") {
  CrmFixture f;
  AddHistory(f);
  f.Add("customer-3", "order.placed", "staff-1", "2025-05-01T00:00:00Z",
        R"({"order_id":"o9","value":10,"currency":"EUR"})");
  // A meeting of 2025-04-15, entered on 2025-06-01.
  f.Add("customer-3", "interaction.logged", "staff-1", "2025-04-15T00:00:00Z",
        R"({"channel":"meeting","direction":"outbound"})", "2025-06-01T00:00:00Z");
  SilentReport before = Find(f.ReplayAsOf(*MakeSilentProjection(), "2025-05-31T00:00:00Z"), 60, "2025-05-31T00:00:00Z");
  REQUIRE(before.wins.size() == 1);
  CHECK_FALSE(before.wins[0].last_contact_before.has_value());
  CHECK(Find(f.ReplayAll(*MakeSilentProjection()), 60, "2025-06-02T00:00:00Z").wins.empty());
}

TEST_CASE("a rebuild of the silent projection equals the incremental build", "[replay][silent]") {
  CrmFixture f;
  f.FoldEachAppend(MakeSilentProjection());
  AddHistory(f);
  f.Add("customer-1", "order.placed", "staff-1", "2025-05-01T00:00:00Z",
        R"({"order_id":"o1","value":900,"currency":"EUR"})");
  f.CheckRebuildEqualsIncremental(*MakeSilentProjection());
  Result<SilentReport> stored =
      FindSilentCustomers(StateReader::Stored(*f.log, kSilentProjection), 60, T("2025-05-02T00:00:00Z"));
  REQUIRE(stored.ok());
  CHECK(stored->silent.size() == 2);
  CHECK(stored->wins.size() == 1);
  CHECK(FindSilentCustomers(StateReader::Stored(*f.log, kSilentProjection), -1, T("2025-05-02T00:00:00Z"))
            .status()
            .code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custodian
