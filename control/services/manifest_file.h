// One manifest file: its YAML documents into the objects the Services model
// reads (Service, EndpointSlice, and the items of a v1 List), each kind
// checked, duplicates within the file found; other kinds kgw reads elsewhere
// (Node, Ingress, IngressClass) are passed over. Internal to the Services model.
#pragma once

#include <memory>
#include <string>

#include "control/services/parsed_manifest.h"

namespace kgw {

// Never throws: anything wrong is in the parse's errors.
std::shared_ptr<const parsed_file> parse_manifest_file(const std::string& file, const std::string& text);

}  // namespace kgw
