// A dispute file (issue 17, "A dispute, end to end"): one folder a lawyer can
// hand over, about one customer at one time T, that verifies offline:
//
//   README.md                  what each file is, and how to check it with only the published key
//   customer-as-known.json     the customer as the company knew it at T (events recorded by T)
//   customer-as-happened.json  the customer as things had happened by T (events that occurred by
//                              T, whenever recorded; those recorded after T are listed)
//   responsibilities.json      who owned the customer at T, and who was responsible for each open
//                              request and promise then, on both clocks
//   timeline.txt, timeline.jsonl  every event of the customer, corrections and retractions beside
//                              what they fix
//   custody.jsonl              the chain of custody
//   evidence.json              the evidence bundle: every event with its inclusion proof, the signed
//                              checkpoint and the completeness proof (core/bundle.h)
//   verifier.vkey              the key the checkpoint and map note were signed with (for reference:
//                              check with the key the company publishes)
//
// Every read is recorded for the caller as the operations it is made of
// record them (timeline, customer_as_of, customer_as_of_business, custody, the bundle's
// export). The folder is owner-only (0700, files 0600): it holds the
// contacts' personal data as the caller may see it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

struct DisputeRequest {
  std::string customer;  // "customer-42"
  Timestamp at;
  std::string out;  // the folder to make; it must not exist, or be empty
};

struct DisputeFile {
  std::string name;  // "evidence.json"
  std::string what;  // one line
  uint64_t bytes = 0;
};

struct DisputeResult {
  std::string customer;
  Timestamp at;
  std::string dir;
  std::vector<DisputeFile> files;  // in the order the README lists them
  uint64_t events = 0;             // in the evidence bundle
  uint64_t tree_size = 0;          // of its checkpoint
  bool complete = false;           // the bundle proves completeness (format 3)
  std::string completeness;        // the verifier's sentence
  std::string verifier_key;
};

// Makes the folder `request.out` for `request.customer` at `request.at`.
// InvalidArgument when the folder exists and is not empty; NotFound for a
// customer with no events. The bundle is verified as written, with the
// store's key; when it does not verify, the folder is removed and the
// verifier's problem is returned as Corruption.
Result<DisputeResult> MakeDispute(EventLog& log, const Caller& caller, const DisputeRequest& request, Timestamp now);

// {"customer","at","dir","files":[{"name","what","bytes"}],"events","tree_size","complete","completeness","verifier_key"}
std::string DisputeResultToJson(const DisputeResult& r);

}  // namespace custodian
