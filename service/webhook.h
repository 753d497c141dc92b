// The alert webhook: one HTTP/1.1 POST of a JSON body.
#pragma once

#include <string>

#include "core/status.h"

namespace custodian {

// POSTs `body` (JSON) to an http:// or https:// URL (core/webhook_url.h);
// Ok on a 2xx answer. https verifies the server's certificate against the
// system's CA store, or only against the PEM file $CUSTODIAN_WEBHOOK_CA_FILE
// names, and the URL's host; a user and password in the URL go as HTTP Basic
// authentication. Each step (connecting, the TLS handshake, sending, the
// answer) gives up after 5 s, so a receiver that never answers holds the
// caller no longer. Errors name the URL with its credential redacted.
Status PostJson(const std::string& url, const std::string& body);

}  // namespace custodian
