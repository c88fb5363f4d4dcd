// A whole file into a string, the way every slow-path reader loads its text
// (gateway.yaml, NIC profiles, manifests): one open, reads until end of file,
// no stream buffers in between.
#pragma once

#include <cstddef>
#include <string>

namespace kgw {

// False with `why` (strerror's words) when the file cannot be opened or read.
// `size_hint`: the size a stat just gave, to read it in one go.
bool read_file(const std::string& path, std::string& out, std::string& why, size_t size_hint = 0);

}  // namespace kgw
