// Multi-document YAML (manifest files) read safely.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace kgw {

// YAML::LoadAll without yaml-cpp 0.7's endless loop on a stray ',' at document
// level (", a" or "- a\n,": the parser stops advancing and LoadAll adds empty
// documents forever; found by fuzzing the manifest parser). A first pass over
// the parser's events notices a document starting where the previous one
// started and throws a YAML::ParserException at that mark; otherwise the text
// is loaded as usual. The first pass costs about as much as the load itself.
std::vector<YAML::Node> load_all_documents(const std::string& text);

}  // namespace kgw
