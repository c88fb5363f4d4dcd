#include "dataplane/config/case_list.h"

#include <fmt/format.h>

#include "dataplane/config/read_file.h"
#include "dataplane/config/yaml/parse.h"

namespace kgw {

int run_case_list(const std::string& path, const std::function<bool(yaml::node, size_t)>& check) {
  std::string text, why;
  if (!read_file(path, text, why)) {
    fmt::print(stderr, "{}: cannot read file\n", path);
    return 1;
  }
  yaml::stream doc = yaml::parse(text);
  if (const auto& e = doc.error()) {
    fmt::print(stderr, "{}:{}: YAML: {}\n", path, e->line, e->message);
    return 1;
  }
  yaml::node root = doc.documents().empty() ? yaml::node() : doc.documents()[0].root;
  yaml::node list = root.is_map() ? root.get("cases") : root;
  if (!list.is_sequence()) {
    fmt::print(stderr, "{}: expected a list of cases (or a map with a `cases:` list)\n", path);
    return 1;
  }
  int passed = 0, failed = 0;
  for (size_t i = 0; i < list.size(); i++) (check(list.item(i), i) ? passed : failed)++;
  fmt::print("{} passed, {} failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace kgw
