// The key vault on its own (storage/key_vault.h), over a real RocksDB with a
// keys family and a real master key: what the writer's rounds rely on when
// they take the new data keys (TakeNewKeys) and write them with the events.
#include "storage/key_vault.h"
// The header under test comes first, to prove it is self-contained.

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "storage/keys.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::RandomId;
using testing::TempDir;

// A store of two families, default and keys, as the log has (among others).
struct VaultStore {
  // `name`: the store's directory under `dir`; every store of `dir` has the
  // same master key (dir/keys), as a cluster's nodes do.
  explicit VaultStore(const TempDir& dir, const std::string& name = "store") {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {keys::kKeysFamily, rocksdb::ColumnFamilyOptions()}};
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.Sub(name), families, &handles, &raw).ok());
    db.reset(raw);
    Result<std::unique_ptr<KeyVault>> opened =
        KeyVault::Open(db.get(), handles[1], dir.Sub("keys/master.key"), /*create=*/true, /*read_only=*/false);
    REQUIRE(opened.ok());
    vault = std::move(*opened);
  }
  ~VaultStore() {
    vault.reset();
    for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  }
  // Writes a round's batch as the writer does, and tells the vault.
  void Write(rocksdb::WriteBatch& batch) {
    REQUIRE(db->Write(rocksdb::WriteOptions(), &batch).ok());
    vault->NewKeysWritten();
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<KeyVault> vault;
};

// A contact.added about contact `contact` of customer-1, with a name.
Event Contact(const std::string& contact, const std::string& name) {
  Event e;
  e.id = RandomId();
  e.stream = "customer-1";
  e.type = "contact.added";
  e.actor = "staff-1";
  e.data = R"({"contact_id":")" + contact + "\"}";
  e.personal_plain = R"({"name":")" + name + "\"}";
  return e;
}

std::string Opened(KeyVault& vault, const Event& e) {
  Result<KeyVault::Opened> opened = vault.Open(e);
  REQUIRE(opened.ok());
  REQUIRE(opened->state == KeyVault::Opened::State::kOpen);
  return opened->json;
}

// The vault's one new key goes into a round that is written; then, with the
// cache cleared, `e` opens from the store and shows `name`.
void ExpectNewKeyWrittenAndOpens(VaultStore& store, const Event& e, const std::string& name) {
  KeyVault& vault = *store.vault;
  rocksdb::WriteBatch round;
  vault.TakeNewKeys(round);
  CHECK(round.Count() == 1);
  store.Write(round);
  vault.ForgetCachedKeys();
  CHECK(Opened(vault, e).find(name) != std::string::npos);
}

TEST_CASE("A subject's key taken into a round being written is the key its next part is sealed with, "
          "even once the cache has dropped it") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;

  Event first = Contact("c-1", "Ada Lovelace");
  REQUIRE(vault.Seal(first).ok());
  // The writer takes the new key into its round; the round is not written yet.
  rocksdb::WriteBatch round;
  vault.TakeNewKeys(round);
  REQUIRE(round.Count() == 1);

  // Meanwhile enough other subjects are sealed for that the cache of data keys
  // reaches its bound (100,000) and is cleared.
  for (int i = 0; i < 100'000; ++i) {
    Event other = Contact("o-" + std::to_string(i), "Other Person");
    REQUIRE(vault.Seal(other).ok());
  }
  // A second part about the first subject, sealed while its key is neither
  // cached nor in the store.
  Event second = Contact("c-1", "Ada King");
  REQUIRE(vault.Seal(second).ok());

  store.Write(round);
  rocksdb::WriteBatch next;
  vault.TakeNewKeys(next);
  store.Write(next);

  // Both parts open with the key the store holds (read again, not cached).
  vault.ForgetCachedKeys();
  CHECK(Opened(vault, first).find("Ada Lovelace") != std::string::npos);
  CHECK(Opened(vault, second).find("Ada King") != std::string::npos);
}

TEST_CASE("A round whose keys were taken and not published gives them back, and they are written with a later one") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;

  Event e = Contact("c-1", "Ada Lovelace");
  REQUIRE(vault.Seal(e).ok());
  std::vector<KeyVault::NewKey> taken = vault.TakeNewKeyRecords();
  REQUIRE(taken.size() == 1);
  vault.ReturnNewKeys(std::move(taken));  // the cluster did not take the round

  ExpectNewKeyWrittenAndOpens(store, e, "Ada Lovelace");
}

TEST_CASE("A master key rotation waits for the round that holds new data keys, and then re-wraps them too") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;

  Event e = Contact("c-1", "Ada Lovelace");
  REQUIRE(vault.Seal(e).ok());
  rocksdb::WriteBatch round;
  vault.TakeNewKeys(round);
  Result<size_t> early = vault.RotateMaster(nullptr);
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == StatusCode::kUnavailable);

  store.Write(round);
  Result<size_t> rotated = vault.RotateMaster(nullptr);
  REQUIRE(rotated.ok());
  CHECK(*rotated == 1);
  vault.ForgetCachedKeys();
  CHECK(Opened(vault, e).find("Ada Lovelace") != std::string::npos);
}

TEST_CASE("A key made here and never shared gives way to the cluster's key for the subject, and writes sealed "
          "with it are refused") {
  TempDir dir;
  VaultStore here(dir, "node-a"), writer(dir, "node-b");  // two nodes, one key directory
  KeyVault& a = *here.vault;

  // Node A, writing, sealed a part for the subject; its round never reached
  // the cluster (it lost its term), so the key K2 is in no share.
  Event lost = Contact("c-1", "Ada Lovelace");
  uint64_t lost_tag = 0;
  REQUIRE(a.Seal(lost, &lost_tag).ok());
  Result<bool> knows = a.Knows(Contact("c-1", "x").stream + "/contact-c-1");
  REQUIRE(knows.ok());
  CHECK_FALSE(*knows);  // made here, never shared: the cluster is asked

  // Node B, the writer now, made K1 for the same subject and shared it.
  Event kept = Contact("c-1", "Ada King");
  uint64_t kept_tag = 0;
  REQUIRE(writer.vault->Seal(kept, &kept_tag).ok());
  std::vector<KeyVault::NewKey> shared = writer.vault->TakeNewKeyRecords();
  REQUIRE(shared.size() == 1);
  CHECK(kept_tag != lost_tag);

  // A applies B's round: it adopts K1, which opens B's part at once.
  REQUIRE(a.Adopt(shared[0].subject, shared[0].record).ok());
  CHECK(Opened(a, kept).find("Ada King") != std::string::npos);
  CHECK_FALSE(a.SealedWithDropped({lost_tag}));

  // The writer's thread drops K2 and puts K1 in force.
  a.DropUnsharedNewKeys();
  CHECK(a.SealedWithDropped({lost_tag}));
  CHECK_FALSE(a.SealedWithDropped({kept_tag}));
  knows = a.Knows(shared[0].subject);
  REQUIRE(knows.ok());
  CHECK(*knows);
  rocksdb::WriteBatch round;
  a.TakeNewKeys(round);
  CHECK(round.Count() == 1);  // K1's record, which B shared
  here.Write(round);
  a.ForgetCachedKeys();
  CHECK(Opened(a, kept).find("Ada King") != std::string::npos);

  // Sealed again on A, the subject's part uses K1.
  Event again = Contact("c-1", "Ada K.");
  uint64_t again_tag = 0;
  REQUIRE(a.Seal(again, &again_tag).ok());
  CHECK(again_tag == kept_tag);
}

// Seals `e` on `vault` with a new key, which a round takes and shares and
// then gives back (its publish failed): returns the key's record, as shared.
KeyVault::NewKey SealSharedAndGivenBack(KeyVault& vault, Event& e, uint64_t* tag) {
  REQUIRE(vault.Seal(e, tag).ok());
  std::vector<KeyVault::NewKey> shared = vault.TakeNewKeyRecords();
  REQUIRE(shared.size() == 1);
  KeyVault::NewKey mine = shared[0];
  vault.ReturnNewKeys(std::move(shared));
  return mine;
}

TEST_CASE("A key made here that the cluster holds already (this node shared it) is kept, not dropped") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;
  Event e = Contact("c-1", "Ada Lovelace");
  uint64_t tag = 0;
  // Shared with a round whose publish then failed: given back, still made here.
  const KeyVault::NewKey mine = SealSharedAndGivenBack(vault, e, &tag);
  Result<bool> knows = vault.Knows(mine.subject);
  REQUIRE(knows.ok());
  CHECK_FALSE(*knows);
  // The share's last record for the subject is this node's own.
  REQUIRE(vault.Adopt(mine.subject, mine.record).ok());
  vault.DropUnsharedNewKeys();
  CHECK_FALSE(vault.SealedWithDropped({tag}));
  knows = vault.Knows(mine.subject);
  REQUIRE(knows.ok());
  CHECK(*knows);
  ExpectNewKeyWrittenAndOpens(store, e, "Ada Lovelace");
}

TEST_CASE("A round of the log of record applied here writes the keys adopted from the cluster, not those made here") {
  TempDir dir;
  VaultStore here(dir, "node-a"), writer(dir, "node-b");
  KeyVault& a = *here.vault;
  Event made = Contact("c-1", "Ada Lovelace");  // sealed on A, whose round never went out
  REQUIRE(a.Seal(made).ok());
  Event theirs = Contact("c-2", "Grace Hopper");  // another subject, sealed and shared by B
  REQUIRE(writer.vault->Seal(theirs).ok());
  std::vector<KeyVault::NewKey> shared = writer.vault->TakeNewKeyRecords();
  REQUIRE(shared.size() == 1);
  REQUIRE(a.Adopt(shared[0].subject, shared[0].record).ok());

  rocksdb::WriteBatch pinned;
  a.TakeNewKeys(pinned, /*adopted_only=*/true);
  CHECK(pinned.Count() == 1);  // B's key only
  here.Write(pinned);
  a.ForgetCachedKeys();
  CHECK(Opened(a, theirs).find("Grace Hopper") != std::string::npos);
  Result<bool> knows = a.Knows(shared[0].subject);
  REQUIRE(knows.ok());
  CHECK(*knows);
  // A's own key is still waiting, not in the store: the cluster is asked for that subject.
  knows = a.Knows("customer-1/contact-c-1");
  REQUIRE(knows.ok());
  CHECK_FALSE(*knows);
}

TEST_CASE("A key this node dropped that turns out to be the cluster's is in force again when adopted") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;
  Event e = Contact("c-1", "Ada Lovelace");
  uint64_t tag = 0;
  // Shared (the share took it first), then the round was fenced: given back, and dropped.
  const KeyVault::NewKey mine = SealSharedAndGivenBack(vault, e, &tag);
  vault.DropUnsharedNewKeys();
  CHECK(vault.SealedWithDropped({tag}));
  // The next writer found it in the share and sealed with it; this node adopts it.
  REQUIRE(vault.Adopt(mine.subject, mine.record).ok());
  CHECK_FALSE(vault.SealedWithDropped({tag}));
  Event again = Contact("c-1", "Ada K.");
  uint64_t again_tag = 0;
  REQUIRE(vault.Seal(again, &again_tag).ok());
  CHECK(again_tag == tag);
}


TEST_CASE("A blind-index tail rebuilt while a catch-up forgot the one held is not kept, and searches do not use it") {
  TempDir dir;
  VaultStore store(dir);
  KeyVault& vault = *store.vault;
  Event e = Contact("c-1", "Ada Lovelace");
  Result<std::vector<std::string>> entries = vault.Seal(e);
  REQUIRE(entries.ok());
  REQUIRE_FALSE(entries->empty());
  // A rebuild that reads the events, then a catch-up forgets the tail, then the rebuild ends: refused.
  const uint64_t before = vault.BlindTailGeneration();
  vault.ForgetBlindTail();
  CHECK_FALSE(vault.SetBlindTail(*entries, 0, 5, before));
  CHECK_FALSE(vault.BlindTailLoaded());
  Result<std::vector<std::string>> found = vault.Subjects(BlindKind::kName, "Lovelace");
  REQUIRE(found.ok());
  CHECK(found->empty());
  // Rebuilt again after the catch-up: kept, and found.
  CHECK(vault.SetBlindTail(*entries, 0, 5, vault.BlindTailGeneration()));
  CHECK(vault.BlindTailLoaded());
  found = vault.Subjects(BlindKind::kName, "Lovelace");
  REQUIRE(found.ok());
  CHECK(*found == std::vector<std::string>{"customer-1/contact-c-1"});
}

}  // namespace
}  // namespace custodian
