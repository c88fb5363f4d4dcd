// Host names as TLS sees them: a client's server name (SNI) or a request's
// Host against the names a certificate or an Ingress carries. One rule
// everywhere, the one browsers, Go and ingress controllers apply: names
// compare without case and without a trailing dot; a wildcard is "*." and a
// name, and stands for exactly one label ("*.example.com" covers
// "a.example.com", neither "example.com" nor "a.b.example.com").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kgw::tls {

// Names are at most 253 characters (RFC 1035); SNI may carry 255.
inline constexpr size_t max_host_name = 255;

// Lowercase, without one trailing dot, into `out` (at least max_host_name
// bytes); the length, or 0 when the name is empty or too long.
size_t normalize_host(std::string_view host, char* out);
std::string normalize_host(std::string_view host);

// The wildcard that would cover `host` (normalized): "a.b.c" -> "*.b.c",
// written into `out` (at least max_host_name + 1 bytes); 0 when the host has
// a single label or is itself a wildcard.
size_t wildcard_of(std::string_view host, char* out);

// Whether `pattern` (a certificate's DNS name or an Ingress host, wildcards
// allowed) covers `host` (a concrete name, or a wildcard: "*.a.b" is covered
// by "*.a.b" only). Both are normalized first.
bool name_covers(std::string_view pattern, std::string_view host);

}  // namespace kgw::tls
