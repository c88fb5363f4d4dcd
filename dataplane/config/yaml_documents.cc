#include "dataplane/config/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

namespace kgw {

namespace {

// Notices the parser standing still: a document that starts at the mark where
// the previous one started.
class stall_detector : public YAML::EventHandler {
 public:
  bool stalled = false;
  YAML::Mark at;
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (started_ && mark.pos == last_.pos) {
      stalled = true;
      at = mark;
    }
    started_ = true;
    last_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  bool started_ = false;
  YAML::Mark last_;
};

}  // namespace

std::vector<YAML::Node> load_all_documents(const std::string& text) {
  {
    std::istringstream in(text);
    YAML::Parser parser(in);
    stall_detector d;
    while (parser.HandleNextDocument(d)) {
      if (d.stalled) throw YAML::ParserException(d.at, "unexpected ',' outside a flow collection");
    }
  }
  return YAML::LoadAll(text);
}

}  // namespace kgw
