#include "dataplane/config/config_file.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "dataplane/config/read_file.h"

namespace kgw::config_detail {

config_file::config_file(const std::string& file, std::vector<config_error>& errs)
    : file_(file), errs_(errs), reader_(yaml::dialect::kgw, [this](yaml::issue&& i) {
        add_error(errs_, file_, std::move(i.field), std::move(i.message), i.line, i.column);
      }) {}

yaml::node config_file::parse(std::string_view text) {
  stream_ = yaml::parse(text);
  if (const auto& e = stream_.error()) {
    add_error(errs_, file_, "", fmt::format("YAML syntax error: {}", e->message), e->line, e->column);
    return {};
  }
  const auto& docs = stream_.documents();
  yaml::node root = docs.empty() ? yaml::node() : docs[0].root;
  if (!root.is_map()) {
    if (!root.present()) add_error(errs_, file_, "", "the top level must be a map of keys, got an empty document");
    else error(root, "", fmt::format("the top level must be a map of keys, got {}", yaml::reader::describe(root)));
    return {};
  }
  reader_.problems(docs[0].problems);
  // yaml-cpp read the first document and ignored the rest; a second one is a mistake.
  for (size_t i = 1; i < docs.size(); ++i)
    if (docs[i].root.present()) error(docs[i].root, "", "a second document (the file holds one map of keys)");
  return root;
}

std::optional<unsigned> config_file::get_unsigned(yaml::node n, std::string_view field) {
  auto v = reader_.integer(n, field, 0, UINT32_MAX);
  return v ? std::optional<unsigned>(static_cast<unsigned>(*v)) : std::nullopt;
}

std::optional<std::string> config_file::get_string(yaml::node n, std::string_view field) {
  auto v = reader_.string(n, field);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

void config_file::sort_errors(size_t from) {
  std::stable_sort(errs_.begin() + static_cast<long>(from), errs_.end(), [](const config_error& a, const config_error& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
}

void add_error(std::vector<config_error>& errs, const std::string& file, std::string field, std::string message,
               int line, int column) {
  config_error e;
  e.file = file;
  e.line = line;
  e.column = line > 0 ? column : 0;
  e.field = std::move(field);
  e.message = std::move(message);
  errs.push_back(std::move(e));
}

bool read_text_file(const std::string& path, std::string& out, std::vector<config_error>& errs) {
  std::string why;
  if (read_file(path, out, why)) return true;
  add_error(errs, path, "", fmt::format("cannot read file: {}", why));
  return false;
}

std::string quote(std::string_view s) { return fmt::format("\"{}\"", s); }

bool valid_desc_count(unsigned v) { return v >= 64 && v <= 16384 && (v & (v - 1)) == 0; }

}  // namespace kgw::config_detail
