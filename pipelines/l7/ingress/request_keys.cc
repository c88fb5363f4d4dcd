// Request host normalization and the path of a request target.
#include "pipelines/l7/ingress/request_keys.h"

namespace kgw::ingress {

int normalize_request_host(std::string_view host, char (&buf)[max_host_len + 1]) noexcept {
  size_t n = host.size();
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    n = close == std::string_view::npos ? host.size() : close + 1;
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) n = colon;
  }
  if (n > 0 && host[n - 1] == '.') n--;
  if (n > max_host_len) return -1;
  for (size_t i = 0; i < n; i++) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  buf[n] = 0;
  return int(n);
}

std::string_view request_path(std::string_view target) noexcept {
  for (size_t i = 0; i < target.size(); i++)
    if (target[i] == '?' || target[i] == '#') return target.substr(0, i);
  return target;
}

}  // namespace kgw::ingress
