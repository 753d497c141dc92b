// Who may read a store's files (DESIGN.md, Identity and roles: "Store files
// are owner-only"). A store holds every customer's history and the checkpoint
// key: another local account that can read its files reads everything,
// unrecorded. EventLog creates stores owner-only (the directory 0700, its
// files 0600); these functions find and mend stores made otherwise (by an
// older build, a copy, a restore, a loose umask).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace custodian {

struct LoosePath {
  std::string path;
  mode_t mode = 0;  // the permission bits found
};

// Every path in the store directory (itself included, recursively) that
// grants any permission to its group or to others. Symbolic links are not
// followed. NotFound when `dir` does not exist.
Result<std::vector<LoosePath>> FindLooseStorePaths(const std::string& dir);

// Removes every group and other permission under `dir` (itself included):
// directories become at most 0700, files at most 0600. Returns what it
// changed.
Result<std::vector<LoosePath>> TightenStorePermissions(const std::string& dir);

// The whole of a file that holds a secret (a key file, a node's credentials),
// refused unless it is a regular file that only its owner may read or write,
// so that a secret never lies open by mistake. `what` names it in messages
// ("NATS credentials file"): NotFound "no <what> at <path>";
// FailedPrecondition, saying to chmod 600, when its group or others have any
// permission. A message never holds the file's contents.
Result<std::string> ReadOwnerOnlyFile(const std::string& path, const std::string& what);

}  // namespace custodian
