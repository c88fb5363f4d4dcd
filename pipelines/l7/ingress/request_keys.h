// What of an HTTP request the route table matches on: the Host, normalized as the
// rule hosts are, and the path part of the request target. Into caller memory: a
// worker calls these per request.
#pragma once

#include <cstddef>
#include <string_view>

namespace kgw::ingress {

inline constexpr size_t max_host_len = 253;  // longer request hosts match no host rule

// Request host normalization into a caller buffer: lowercase, ":port" removed (an
// IPv6 literal keeps its brackets), one trailing '.' removed. Returns the length, or
// -1 when the result would be longer than max_host_len.
int normalize_request_host(std::string_view host, char (&buf)[max_host_len + 1]) noexcept;
// The path part of a request target: up to the first '?' or '#'.
std::string_view request_path(std::string_view target) noexcept;

}  // namespace kgw::ingress
