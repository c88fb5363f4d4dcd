#include "pipelines/l7/tcp/tcp_counters.h"

namespace kgw::tcp {

const char* tcp_drop_name(tcp_drop d) {
  static const char* const names[] = {
#define KGW_TCP_DROP_NAME(name, text) #name,
      KGW_TCP_DROPS(KGW_TCP_DROP_NAME)
#undef KGW_TCP_DROP_NAME
  };
  unsigned i = static_cast<unsigned>(d);
  return i < tcp_drop_count ? names[i] : "?";
}

const char* tcp_drop_description(tcp_drop d) {
  static const char* const texts[] = {
#define KGW_TCP_DROP_TEXT(name, text) text,
      KGW_TCP_DROPS(KGW_TCP_DROP_TEXT)
#undef KGW_TCP_DROP_TEXT
  };
  unsigned i = static_cast<unsigned>(d);
  return i < tcp_drop_count ? texts[i] : "?";
}

const char* tcp_state_name(tcp_state s) {
  static const char* const names[] = {"CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                      "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                      "CLOSING",    "LAST-ACK",   "TIME-WAIT"};
  unsigned i = static_cast<unsigned>(s);
  return i < tcp_state_count ? names[i] : "?";
}

}  // namespace kgw::tcp
