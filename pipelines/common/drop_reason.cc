#include "pipelines/common/drop_reason.h"

namespace kgw {

namespace {
constexpr const char* names[] = {
#define KGW_DROP_NAME(name, desc) #name,
    KGW_DROP_REASONS(KGW_DROP_NAME)
#undef KGW_DROP_NAME
};
constexpr const char* descriptions[] = {
#define KGW_DROP_DESC(name, desc) desc,
    KGW_DROP_REASONS(KGW_DROP_DESC)
#undef KGW_DROP_DESC
};
}  // namespace

const char* drop_reason_name(drop_reason r) {
  auto i = static_cast<unsigned>(r);
  return i < drop_reason_count ? names[i] : "invalid";
}

const char* drop_reason_description(drop_reason r) {
  auto i = static_cast<unsigned>(r);
  return i < drop_reason_count ? descriptions[i] : "invalid";
}

}  // namespace kgw
