#include "pipelines/l7/tls/sni.h"

#include <cstring>

namespace kgw::tls {

size_t normalize_host(std::string_view host, char* out) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > max_host_name) return 0;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return host.size();
}

std::string normalize_host(std::string_view host) {
  char buf[max_host_name];
  return std::string(buf, normalize_host(host, buf));
}

size_t wildcard_of(std::string_view host, char* out) {
  if (host.starts_with("*.")) return 0;
  size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= host.size()) return 0;
  std::string_view rest = host.substr(dot);  // ".b.c"
  if (rest.size() + 1 > max_host_name) return 0;
  out[0] = '*';
  std::memcpy(out + 1, rest.data(), rest.size());
  return rest.size() + 1;
}

bool name_covers(std::string_view pattern, std::string_view host) {
  char p[max_host_name], h[max_host_name], w[max_host_name + 1];
  size_t np = normalize_host(pattern, p), nh = normalize_host(host, h);
  if (np == 0 || nh == 0) return false;
  std::string_view ps(p, np), hs(h, nh);
  if (ps == hs) return true;
  if (!ps.starts_with("*.")) return false;
  size_t nw = wildcard_of(hs, w);
  return nw && std::string_view(w, nw) == ps;
}

}  // namespace kgw::tls
