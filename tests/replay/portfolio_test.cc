#include "replay/portfolio.h"

#include <catch2/catch.hpp>

#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::CrmFixture;
using testing::T;

const PortfolioEntry* Find(const Portfolio& p, const std::string& customer) {
  for (const auto& e : p.customers) {
    if (e.customer == customer) return &e;
  }
  return nullptr;
}

Portfolio Read(const MemoryState& state, const std::string& staff) {
  Result<Portfolio> p = ReadPortfolio(StateReader::Memory(state), staff);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return *p;
}

// staff-1 owns customer-1 (a deal, a request and a promise) and customer-2;
// on 2025-06-01 customer-1 is handed over to staff-2 while the request and
// the promise still sit with staff-1; on 2025-06-10 they follow.
void AddHistory(CrmFixture& f) {
  f.Join("staff-1", "north", "2025-01-01T08:00:00Z");
  f.Join("staff-2", "north", "2025-01-01T08:00:00Z");
  f.Join("staff-9", "management", "2025-01-01T08:00:00Z");
  const std::string c1 = "customer-1", c2 = "customer-2";
  f.Add(c1, "customer.registered", "staff-1", "2025-01-02T09:00:00Z", R"({"name":"Acme GmbH"})");
  f.Add(c1, "customer.owner_assigned", "staff-9", "2025-01-02T10:00:00Z", R"({"owner":"staff-1","reason":"initial"})");
  f.Add(c2, "customer.registered", "staff-1", "2025-01-03T09:00:00Z", R"({"name":"Bolt AG"})");
  f.Add(c2, "customer.owner_assigned", "staff-9", "2025-01-03T10:00:00Z", R"({"owner":"staff-1","reason":"initial"})");
  f.Add(c1, "deal.opened", "staff-1", "2025-01-05T10:00:00Z",
        R"({"deal_id":"d1","title":"Fleet","value":1000,"currency":"EUR","stage":"qualification"})");
  f.Add(c1, "deal.opened", "staff-1", "2025-01-05T11:00:00Z",
        R"({"deal_id":"d2","title":"Spares","value":50,"currency":"EUR","stage":"proposal"})");
  f.Add(c1, "deal.lost", "staff-1", "2025-01-20T11:00:00Z", R"({"deal_id":"d2"})");
  f.Add(c1, "request.opened", "staff-1", "2025-02-01T08:00:00Z", R"({"request_id":"r1","title":"Price list"})");
  f.Add(c1, "request.assigned", "staff-9", "2025-02-01T08:10:00Z", R"({"request_id":"r1","assignee":"staff-1"})");
  f.Add(c1, "request.opened", "staff-9", "2025-02-02T08:00:00Z", R"({"request_id":"r2","title":"Invoice copy"})");
  f.Add(c1, "commitment.made", "staff-1", "2025-02-03T10:00:00Z",
        R"({"commitment_id":"m1","promise":"Demo","due_at":"2025-07-01T00:00:00Z"})");
  f.Add(c1, "interaction.logged", "staff-1", "2025-03-01T15:00:00Z", R"({"channel":"call","direction":"outbound"})");
  // A late entry of an older call: it is not staff-1's last activity.
  f.Add(c1, "interaction.logged", "staff-1", "2025-02-20T15:00:00Z", R"({"channel":"email","direction":"outbound"})",
        "2025-03-02T00:00:00Z");
  f.Add(c1, "customer.owner_assigned", "staff-9", "2025-06-01T09:00:00Z",
        R"({"owner":"staff-2","previous_owner":"staff-1","reason":"handover","handover_id":"h1"})");
  f.Add(c1, "interaction.logged", "staff-2", "2025-06-02T11:00:00Z", R"({"channel":"visit","direction":"outbound"})");
  f.Add(c1, "request.assigned", "staff-9", "2025-06-10T08:00:00Z",
        R"({"request_id":"r1","assignee":"staff-2","previous_assignee":"staff-1","reason":"handover"})");
  f.Add(c1, "commitment.fulfilled", "staff-2", "2025-06-10T09:00:00Z", R"({"commitment_id":"m1"})");
}

TEST_CASE("before the handover the owner's portfolio holds both customers and their open work", "[replay][portfolio]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAsOf(*MakePortfolioProjection(), "2025-05-31T00:00:00Z");
  Portfolio p = Read(state, "staff-1");
  CHECK(p.joined);
  CHECK(p.team == "north");
  REQUIRE(p.customers.size() == 2);
  const PortfolioEntry* c1 = Find(p, "customer-1");
  REQUIRE(c1 != nullptr);
  CHECK(c1->owned);
  CHECK(c1->name == "Acme GmbH");
  CHECK(c1->owner_since == T("2025-01-02T10:00:00Z"));
  CHECK(c1->open_deals == 1);           // d2 was lost
  CHECK(c1->open_requests == 1);        // r1
  CHECK(c1->unassigned_requests == 1);  // r2
  CHECK(c1->open_commitments == 1);     // m1
  CHECK(c1->last_activity_at == T("2025-03-01T15:00:00Z"));
  CHECK(c1->last_activity_type == "interaction.logged");
  CHECK(Find(p, "customer-2")->owned);
  // staff-2 has nothing yet, but is known from staff.joined.
  CHECK(Read(state, "staff-2").customers.empty());
}

TEST_CASE("a handover moves the customer to the new owner and leaves unmoved work visible with the old one",
          "[replay][portfolio]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAsOf(*MakePortfolioProjection(), "2025-06-05T00:00:00Z");
  Portfolio old_owner = Read(state, "staff-1");
  REQUIRE(old_owner.customers.size() == 2);
  CHECK(old_owner.customers[0].customer == "customer-2");  // owned ones first
  CHECK(old_owner.customers[0].owned);
  const PortfolioEntry* left = Find(old_owner, "customer-1");
  REQUIRE(left != nullptr);
  CHECK_FALSE(left->owned);
  CHECK(left->owner == "staff-2");
  CHECK(left->open_deals == 0);
  CHECK(left->open_requests == 1);
  CHECK(left->open_commitments == 1);

  Portfolio new_owner = Read(state, "staff-2");
  REQUIRE(new_owner.customers.size() == 1);
  const PortfolioEntry& moved = new_owner.customers[0];
  CHECK(moved.customer == "customer-1");
  CHECK(moved.owned);
  CHECK(moved.owner_since == T("2025-06-01T09:00:00Z"));
  CHECK(moved.open_deals == 1);
  CHECK(moved.open_requests == 0);
  CHECK(moved.unassigned_requests == 1);
  CHECK(moved.open_commitments == 0);
  CHECK(moved.last_activity_at == T("2025-06-02T11:00:00Z"));

  // Once the request is reassigned and the promise kept, customer-1 leaves staff-1's portfolio.
  MemoryState now = f.ReplayAll(*MakePortfolioProjection());
  Portfolio after = Read(now, "staff-1");
  REQUIRE(after.customers.size() == 1);
  CHECK(after.customers[0].customer == "customer-2");
  CHECK(Read(now, "staff-2").customers[0].open_requests == 1);
}

TEST_CASE("the stored portfolio equals the replay, and a rebuild equals the incremental build", "[replay][portfolio]") {
  CrmFixture f;
  f.FoldEachAppend(MakePortfolioProjection());
  AddHistory(f);
  f.CheckRebuildEqualsIncremental(*MakePortfolioProjection());
  Result<Portfolio> stored = ReadPortfolio(StateReader::Stored(*f.log, kPortfolioProjection), "staff-2");
  REQUIRE(stored.ok());
  REQUIRE(stored->customers.size() == 1);
  CHECK(stored->customers[0].open_requests == 1);
  CHECK(PortfolioEntryToJson("staff-2", stored->customers[0]) ==
        PortfolioEntryToJson("staff-2", Read(f.ReplayAll(*MakePortfolioProjection()), "staff-2").customers[0]));
}

TEST_CASE("a member of staff the log does not know has no portfolio", "[replay][portfolio]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAll(*MakePortfolioProjection());
  CHECK(ReadPortfolio(StateReader::Memory(state), "staff-404").status().code() == StatusCode::kNotFound);
  // As of before anything was recorded, nobody is known.
  MemoryState empty = f.ReplayAsOf(*MakePortfolioProjection(), "2024-12-31T00:00:00Z");
  CHECK(empty.contents().empty());
}

TEST_CASE("a departure shows in the portfolio heading", "[replay][portfolio]") {
  CrmFixture f;
  AddHistory(f);
  f.Add("staff-1", "staff.departed", "system:hr-sync", "2025-07-01T00:00:00Z", R"({"reason":"resignation"})");
  Portfolio p = Read(f.ReplayAll(*MakePortfolioProjection()), "staff-1");
  CHECK(p.departed_at == T("2025-07-01T00:00:00Z"));
}

TEST_CASE("a departure announcement withdrawn (retracted) leaves the portfolio heading, the customers stay",
          "[replay][portfolio]") {
  CrmFixture f;
  f.FoldEachAppend(MakePortfolioProjection(f.log.get()));
  AddHistory(f);
  const Position announced = f.Add("staff-1", "staff.departure_announced", "system:hr-sync", "2025-06-01T00:00:00Z",
                                   R"({"effective_at":"2025-06-30T00:00:00Z"})");
  Result<std::vector<Event>> read = f.log->ReadStream("staff-1", StreamVersion(UINT64_MAX), Direction::kBackward, 1);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 1);
  REQUIRE(read->front().position == announced);
  const size_t held = Read(f.ReplayAll(*MakePortfolioProjection(f.log.get())), "staff-1").customers.size();
  CHECK(Read(f.ReplayAll(*MakePortfolioProjection(f.log.get())), "staff-1").announced_at == T("2025-06-01T00:00:00Z"));
  f.Add("staff-1", "event.retracted", "system:hr-sync", "2025-06-02T00:00:00Z",
        R"({"event_id":")" + read->front().id.ToString() + R"(","reason":"announced by mistake"})");
  Portfolio p = Read(f.ReplayAll(*MakePortfolioProjection(f.log.get())), "staff-1");
  CHECK_FALSE(p.announced_at.has_value());
  CHECK_FALSE(p.effective_at.has_value());
  CHECK(p.customers.size() == held);
  CHECK(held > 0);
  f.CheckRebuildEqualsIncremental(*MakePortfolioProjection(f.log.get()));
  Result<Portfolio> stored = ReadPortfolio(StateReader::Stored(*f.log, kPortfolioProjection), "staff-1");
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->announced_at.has_value());
}

}  // namespace
}  // namespace custodian
