// `show certificates`: the certificates TLS serves, as published (subject,
// DNS names, expiry, SHA-256 fingerprint, the host names that select each,
// the default), and the dataplane's self-signed one. Never a key.
#pragma once

#include <cstdint>
#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

std::string format_certificates(const shared_state& s, int64_t now_unix);

}  // namespace kgw
