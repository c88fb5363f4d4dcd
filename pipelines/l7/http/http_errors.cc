#include "pipelines/l7/http/http_errors.h"

namespace kgw::http {

const char* error_name(error e) {
  static const char* const names[] = {
#define KGW_HTTP_ERROR_NAME(name, status, text) #name,
      KGW_HTTP_ERRORS(KGW_HTTP_ERROR_NAME)
#undef KGW_HTTP_ERROR_NAME
  };
  unsigned i = static_cast<unsigned>(e);
  return i < error_count ? names[i] : "?";
}

const char* error_text(error e) {
  static const char* const texts[] = {
#define KGW_HTTP_ERROR_TEXT(name, status, text) text,
      KGW_HTTP_ERRORS(KGW_HTTP_ERROR_TEXT)
#undef KGW_HTTP_ERROR_TEXT
  };
  unsigned i = static_cast<unsigned>(e);
  return i < error_count ? texts[i] : "?";
}

uint16_t error_status(error e) {
  static const uint16_t statuses[] = {
#define KGW_HTTP_ERROR_STATUS(name, status, text) status,
      KGW_HTTP_ERRORS(KGW_HTTP_ERROR_STATUS)
#undef KGW_HTTP_ERROR_STATUS
  };
  unsigned i = static_cast<unsigned>(e);
  return i < error_count ? statuses[i] : 400;
}

}  // namespace kgw::http
