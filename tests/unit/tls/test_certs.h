// Certificates for the TLS tests, made in-process at test time (no key is
// committed): a CA, leaves it signs with the names asked for, and YAML for
// kubernetes.io/tls Secrets holding them.
#pragma once

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "pipelines/l7/tls/tls_certs.h"

namespace kgw::tls::test {

struct pem_pair {
  std::string cert, key;
};

inline int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

inline pem_pair make_cert(const std::string& cn, const std::vector<std::string>& names, const pem_pair* ca = nullptr,
                          int64_t not_before = now_s() - 3600, int64_t not_after = now_s() + 86400 * 30,
                          key_kind key = key_kind::ec_p256, bool is_ca = false) {
  pem_material issuer;
  std::string why;
  if (ca) {
    EXPECT_EQ(load_pem(ca->cert, ca->key, issuer, why), pem_fault::none) << why;
  }
  cert_request r;
  r.common_name = cn;
  r.dns_names = names;
  r.not_before = not_before;
  r.not_after = not_after;
  r.key = key;
  r.ca = is_ca;
  r.issuer = ca ? &issuer : nullptr;
  pem_pair p;
  EXPECT_TRUE(generate_certificate(r, p.cert, p.key, why)) << why;
  return p;
}

inline pem_pair make_ca(const std::string& cn = "kgw test CA") {
  return make_cert(cn, {}, nullptr, now_s() - 3600, now_s() + 86400 * 365, key_kind::ec_p256, true);
}

inline std::string base64(const std::string& in) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[v >> 12 & 63], t[v >> 6 & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += {t[v >> 18], t[v >> 12 & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += {t[v >> 18], t[v >> 12 & 63], t[v >> 6 & 63], '='};
  }
  return out;
}

// A kubernetes.io/tls Secret document (data, base64), its values on lines of their own.
inline std::string secret_yaml(const std::string& ns, const std::string& name, const std::string& cert,
                               const std::string& key, const std::string& type = "kubernetes.io/tls") {
  return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\ntype: " + type +
         "\ndata:\n  tls.crt: " + base64(cert) + "\n  tls.key: " + base64(key) + "\n";
}

}  // namespace kgw::tls::test
