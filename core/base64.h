// Standard base64 (RFC 4648, with padding) through OpenSSL.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian {

std::string Base64Encode(std::string_view bytes);

// Rejects anything that is not canonical padded base64.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace custodian
