// One of kgw's own config files (gateway.yaml, a NIC profile) being read: its
// YAML parsed, a reader in kgw's dialect whose issues become config_errors of
// the file (file, line, column, dotted field), and the helpers both parsers
// share. Internal to dataplane/config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "dataplane/config/yaml/parse.h"
#include "dataplane/config/yaml/reader.h"

namespace kgw::config_detail {

class config_file {
 public:
  config_file(const std::string& file, std::vector<config_error>& errs);
  config_file(const config_file&) = delete;  // its reader reports through `this`
  config_file& operator=(const config_file&) = delete;

  // The text's one document, which must be a map: its root, or an undefined
  // node with the error recorded (syntax, empty, not a map, a second document).
  yaml::node parse(std::string_view text);

  yaml::reader& read() { return reader_; }
  void error(yaml::node at, std::string field, std::string message) {
    reader_.error(at, std::move(field), std::move(message));
  }
  // `n` when it is a map (its keys not in `allowed` reported), else undefined:
  // every lookup in it misses.
  yaml::node entries(yaml::node n, std::string_view field, std::initializer_list<std::string_view> allowed) {
    if (!reader_.map(n, field)) return {};
    reader_.unknown_keys(n, field, allowed);
    return n;
  }
  void missing(yaml::node parent, std::string field) { error(parent, std::move(field), "required key is missing"); }
  // An unsigned 32-bit number (range checks with their own words are the caller's).
  std::optional<unsigned> get_unsigned(yaml::node n, std::string_view field);
  std::optional<std::string> get_string(yaml::node n, std::string_view field);

  // Errors from `from` on in document order (they are found section by section).
  void sort_errors(size_t from);

 private:
  const std::string& file_;
  std::vector<config_error>& errs_;
  yaml::stream stream_;
  yaml::reader reader_;
};

// An error about a file as a whole, or a place without a node.
void add_error(std::vector<config_error>& errs, const std::string& file, std::string field, std::string message,
               int line = 0, int column = 0);
bool read_text_file(const std::string& path, std::string& out, std::vector<config_error>& errs);
std::string quote(std::string_view s);
// Descriptor ring sizes: a power of two within 64..16384.
bool valid_desc_count(unsigned v);

}  // namespace kgw::config_detail
