// YAML reading helpers for the slow-path config parsers: typed getters that
// record a config_error (file, line, column, field) instead of throwing, so
// that one pass reports every problem. yaml-cpp types stay out of the public
// config headers.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

namespace config_detail {
std::string join_field(const std::string& parent, const std::string& key);
void add_error(std::vector<config_error>& errs, const std::string& file, const YAML::Mark& mark,
               const std::string& field, const std::string& message);
YAML::Mark mark_of(const YAML::Node& n);
std::string describe(const YAML::Node& n);
std::string quote(const std::string& s);
std::string join_names(const std::vector<std::string>& names);
bool read_text_file(const std::string& path, std::string& out, std::vector<config_error>& errs);
bool load_yaml_map(const std::string& text, const std::string& file, YAML::Node& root,
                   std::vector<config_error>& errs);

std::map<std::string, YAML::Node> map_entries(const YAML::Node& n, const std::string& field,
                                              const std::vector<std::string>& allowed,
                                              const std::string& file, std::vector<config_error>& errs);
const YAML::Node* find(const std::map<std::string, YAML::Node>& m, const std::string& key);
void missing(const YAML::Node& parent, const std::string& field, const std::string& file,
             std::vector<config_error>& errs);
std::optional<std::string> get_string(const YAML::Node& n, const std::string& field, const std::string& file,
                                      std::vector<config_error>& errs);
std::optional<unsigned> get_unsigned(const YAML::Node& n, const std::string& field, const std::string& file,
                                     std::vector<config_error>& errs);
std::optional<bool> get_bool(const YAML::Node& n, const std::string& field, const std::string& file,
                             std::vector<config_error>& errs);
bool for_each_item(const YAML::Node& n, const std::string& field, const std::string& file,
                   std::vector<config_error>& errs,
                   const std::function<void(const YAML::Node&, const std::string&)>& each);
void sort_errors(std::vector<config_error>& errs, size_t from);
bool valid_desc_count(unsigned v);
}  // namespace config_detail

}  // namespace kgw
