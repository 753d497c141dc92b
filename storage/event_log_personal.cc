// EventLog: personal data (event_log.h, "Personal data"): the key vault
// behind the log, opening sealed parts, finding people, erasure, rotation.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <tuple>

#include "core/json.h"
#include "storage/event_log.h"
#include "storage/event_log_internal.h"
#include "storage/key_vault.h"
#include "storage/keys.h"
#include "storage/table_file.h"

namespace custodian {

Status EventLog::OpenVault() {
  if (options_.master_key_file.empty()) {
    vault_problem_ = Status::FailedPrecondition("the store was opened without a master key");
    return Status::Ok();
  }
  if (keys_cf_ == nullptr) {
    vault_problem_ = Status::FailedPrecondition("the store holds no personal data yet (it has no keys family)");
    return Status::Ok();
  }
  Result<std::unique_ptr<KeyVault>> vault = KeyVault::Open(db_.get(), keys_cf_, options_.master_key_file,
                                                           /*create=*/!read_only(), read_only());
  if (!vault.ok()) {
    // Storage failures stop the open; a missing or wrong key leaves the store
    // serving what is not personal.
    if (vault.status().code() == StatusCode::kIoError) return vault.status();
    vault_problem_ = vault.status();
    return Status::Ok();
  }
  vault_ = std::move(*vault);
  vault_->SetBlindSpillAt(options_.blind_spill_at);
  // Erasures the log committed (the rules keep every one under
  // "erased/<subject id>", core/rules.h, rule 'erased'): whatever the keys
  // family still says, their parts open as erased and nobody finds them, in
  // this process and in a read-only one.
  std::vector<std::tuple<std::string, uint64_t, std::string>> committed;
  {
    const std::string prefix = "rule/erased/";
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      // "position P" or "position P: reason".
      const std::string value = it->value().ToString();
      uint64_t position = 0;
      std::string reason;
      if (value.starts_with("position ")) {
        position = std::strtoull(value.c_str() + 9, nullptr, 10);
        if (size_t colon = value.find(": "); colon != std::string::npos) reason = value.substr(colon + 2);
      }
      committed.emplace_back(std::string(it->key().ToStringView().substr(prefix.size())), position, std::move(reason));
    }
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "list the erased subjects"));
  }
  for (const auto& [subject, position, reason] : committed) vault_->NoteErased(subject, position, reason);
  if (!read_only()) {
    // Erasures made after the backup this store was restored from, or cut
    // short by a crash: made again, and purged.
    Result<size_t> again = vault_->ReapplyErasures();
    if (!again.ok()) return again.status();
    // Committed erasures whose keys were not destroyed (the process died in
    // between, or the destruction failed), or are back in the store (files
    // copied back in).
    size_t unfinished = 0;
    for (const auto& [subject, position, reason] : committed) {
      Result<bool> holds_key = vault_->HoldsKey(subject);
      if (!holds_key.ok()) return holds_key.status();
      Result<bool> marked = vault_->HasErasedMarker(subject);
      if (!marked.ok()) return marked.status();
      if (*marked && !*holds_key) continue;  // marker written and key gone: done
      CUSTODIAN_RETURN_IF_ERROR(vault_->Erase(subject, position, reason));
      ++unfinished;
    }
    erasures_reapplied_ = *again + unfinished;
    if (erasures_reapplied_ > 0) CUSTODIAN_RETURN_IF_ERROR(vault_->Purge(handles_));
  }
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> EventLog::RuleRecords(std::string_view prefix) const {
  const std::string start = "rule/" + std::string(prefix);
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    out.emplace_back(it->key().ToString().substr(start.size()), it->value().ToString());
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read the rule state"));
  return out;
}

Result<std::optional<std::string>> EventLog::RuleRecord(std::string_view name) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, "rule/" + std::string(name), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the rule state"));
  return std::optional<std::string>(std::move(value));
}

Status EventLog::PersonalStatus() const { return vault_ ? Status::Ok() : vault_problem_; }

size_t EventLog::keys_rewrapped() const { return vault_ ? vault_->rewrapped_from_retired() : 0; }

Result<bool> EventLog::HoldsPersonalData() const {
  if (keys_cf_ == nullptr) return false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
  for (const char* prefix : {"e/", "k/"}) {  // "keys" in storage/key_vault.h
    it->Seek(prefix);
    if (it->Valid() && it->key().starts_with(prefix)) return true;
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read the keys family"));
  return false;
}

Result<EventLog::PersonalView> EventLog::OpenPersonal(const Event& e) const {
  PersonalView view;
  if (e.personal.empty()) return view;
  if (!vault_) {
    view.state = PersonalView::State::kUnavailable;
    view.why = vault_problem_.message();
    return view;
  }
  Result<KeyVault::Opened> opened = vault_->Open(e);
  if (!opened.ok() && opened.status().code() == StatusCode::kNotFound && options_.replica) {
    // Data keys stay on the node that sealed with them (docs/scale-out.md).
    view.state = PersonalView::State::kUnavailable;
    view.why = "this node holds no key for " + e.personal.subject + " (data keys are not replicated between nodes)";
    return view;
  }
  if (!opened.ok()) return opened.status();
  if (opened->state == KeyVault::Opened::State::kErased) {
    view.state = PersonalView::State::kErased;
    view.erased_position = opened->erased_position;
    view.erased_reason = opened->erased_reason;
    return view;
  }
  view.state = PersonalView::State::kOpen;
  view.json = std::move(opened->json);
  return view;
}

Result<std::string> EventLog::PersonalJson(const Event& e) const {
  Result<PersonalView> view = OpenPersonal(e);
  if (!view.ok()) return view.status();
  switch (view->state) {
    case PersonalView::State::kNone:
      return std::string();
    case PersonalView::State::kOpen:
      return std::move(view->json);
    case PersonalView::State::kErased:
      return "{\"erased\":{\"position\":" +
             (view->erased_position ? std::to_string(*view->erased_position) : std::string("null")) +
             ",\"reason\":" + JsonQuote(view->erased_reason) + "}}";
    case PersonalView::State::kUnavailable:
      return "{\"sealed_for\":" + JsonQuote(e.personal.subject) + ",\"unavailable\":" + JsonQuote(view->why) + "}";
  }
  return std::string();
}

Status EventLog::ShowPersonal(Event& e) const {
  Result<std::string> json = PersonalJson(e);
  if (!json.ok()) return json.status();
  e.personal_plain = std::move(*json);
  return Status::Ok();
}

Result<std::vector<std::string>> EventLog::FindSubjects(BlindKind kind, std::string_view value) const {
  if (!vault_) return vault_problem_;
  if (!vault_->BlindTailLoaded()) CUSTODIAN_RETURN_IF_ERROR(LoadBlindTail());  // a read-only log, lazily
  return vault_->Subjects(kind, value);
}

Status EventLog::LoadBlindTail() const {
  if (!vault_) return Status::Ok();
  if (!read_only()) RemoveStrayTableFiles(dir_, "blind-");  // their entries are rebuilt below
  // A read-only log that catches up with the writer meanwhile forgets the
  // tail: one rebuilt from before is not kept, and is rebuilt again.
  constexpr int kAttempts = 3;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const uint64_t generation = vault_->BlindTailGeneration();  // before the watermark and the end are read
    Result<uint64_t> from = vault_->BlindIndexedTo();
    if (!from.ok()) return from.status();
    const uint64_t end = end_.load(std::memory_order_acquire);
    std::vector<std::string> entries;
    CUSTODIAN_RETURN_IF_ERROR(ScanAll(Position(std::min(*from, end)), [&](const Event& e) {
      if (e.personal.empty()) return true;
      // A part that does not open here (its key is on another node) has no
      // entries here, as when the round was applied.
      Result<std::vector<std::string>> of = vault_->IndexSealed(e);
      if (of.ok()) {
        for (std::string& key : *of) entries.push_back(std::move(key));
      }
      return true;
    }).WithContext("rebuild the blind index from the sealed events"));
    if (vault_->SetBlindTail(std::move(entries), std::min(*from, end), end, generation)) return Status::Ok();
  }
  return Status::Unavailable("the log moved on " + std::to_string(kAttempts) +
                             " times while the people index was rebuilt from it; try again");
}

Status EventLog::DestroySubjectKey(const std::string& subject, uint64_t position, const std::string& reason) {
  if (read_only()) return Status::FailedPrecondition("erasure needs the store open read-write");
  if (!vault_) return vault_problem_;
  if (vault_->IsErased(subject)) return Status::Ok();  // the log destroyed it as it wrote subject.erased
  CUSTODIAN_RETURN_IF_ERROR(vault_->Erase(subject, position, reason));
  return vault_->Purge(handles_);
}

Result<size_t> EventLog::RotateMasterKey(const std::function<void(std::string_view)>& pause) {
  if (read_only()) return Status::FailedPrecondition("a rotation needs the store open read-write");
  if (!vault_) return vault_problem_;
  Result<size_t> n = vault_->RotateMaster(pause);
  if (!n.ok()) return n;
  CUSTODIAN_RETURN_IF_ERROR(vault_->Purge(handles_));  // the old wrappings leave the files too
  return n;
}

}  // namespace custodian
