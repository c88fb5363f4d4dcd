// The manifests directory as the NetworkPolicy model reads it: every
// document's kind classified as every reader of the directory does
// (dataplane/config/yaml/kubernetes_kinds.h), Lists opened, Pods, Namespaces
// and NetworkPolicies read; the other kinds are the other readers' business.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "control/policy/object_readers.h"
#include "dataplane/config/read_file.h"
#include "dataplane/config/yaml/kubernetes_kinds.h"
#include "dataplane/config/yaml/parse.h"

namespace kgw::policy {

namespace {

struct file_reader {
  const std::string& file;
  policy_manifests& out;
  std::vector<manifest_issue>& errors;
  std::vector<manifest_issue>& warnings;
  std::set<std::string>& seen;  // kind|namespace|name, for duplicates

  void document(yaml::node doc, std::string_view list_api = {}, std::string_view list_kind = {});
  void object(manifest::ctx& c, yaml::kube_kind what, yaml::node doc, std::string_view kind);
};

void file_reader::document(yaml::node doc, std::string_view list_api, std::string_view list_kind) {
  if (!doc.is_map()) return;  // the Services reader reports what is not an object
  std::string_view kind = doc.get("kind").text(), api = doc.get("apiVersion").text();
  if (!list_kind.empty()) {
    if (!doc.get("kind").present()) kind = list_kind;
    if (!doc.get("apiVersion").present()) api = list_api;
  }
  manifest::ctx c(file, errors, warnings);
  c.fallback_line = doc.line();
  yaml::kube_kind what = yaml::classify_kind(api, kind);
  if (what == yaml::kube_kind::list) {
    yaml::node items = doc.get("items");
    for (size_t i = 0; i < items.size() && items.is_sequence(); ++i)
      document(items.item(i), api, yaml::list_item_kind(kind));
    return;
  }
  if (what == yaml::kube_kind::pod || what == yaml::kube_kind::namespace_ || what == yaml::kube_kind::network_policy)
    object(c, what, doc, kind);
}

void file_reader::object(manifest::ctx& c, yaml::kube_kind what, yaml::node doc, std::string_view kind) {
  yaml::node meta = doc.get("metadata");
  if (!c.r.map(meta, "metadata")) {
    if (!meta.present()) c.error(doc, "metadata", "metadata is required");
    return;
  }
  // A Namespace has no namespace; the others default to "default".
  const bool namespaced = what != yaml::kube_kind::namespace_;
  std::string ns = "default";
  if (auto n = c.r.string(meta.get("namespace"), "metadata.namespace"); n && !n->empty() && namespaced) ns = *n;
  auto name = c.r.string(meta.get("name"), "metadata.name");
  if (!name || name->empty()) {
    c.error(meta.get("name").present() ? meta.get("name") : meta, "metadata.name", "name is required");
    return;
  }
  c.object = namespaced ? ns + "/" + std::string(*name) : std::string(*name);
  if (auto why = manifest::check_dns_label(namespaced ? ns : std::string(*name)); !why.empty()) {
    c.error(namespaced ? meta.get("namespace") : meta.get("name"), namespaced ? "metadata.namespace" : "metadata.name",
            why);
    return;
  }
  if (!seen.insert(fmt::format("{}|{}", kind, c.object)).second) {
    c.error(meta.get("name"), "metadata.name", fmt::format("duplicate {} {}", kind, c.object));
    return;
  }
  switch (what) {
    case yaml::kube_kind::pod: {
      pod_object p{file, doc.line(), ns, std::string(*name)};
      read_pod(c, doc, p);
      out.pods.push_back(std::move(p));
      return;
    }
    case yaml::kube_kind::namespace_: {
      namespace_object n{file, doc.line(), std::string(*name)};
      read_namespace(c, doc, n);
      out.namespaces.push_back(std::move(n));
      return;
    }
    default: {
      network_policy p;
      p.file = file;
      p.line = doc.line();
      p.ns = ns;
      p.name = *name;
      if (read_network_policy(c, doc, p)) out.policies.push_back(std::move(p));
      return;
    }
  }
}

void parse_text(const std::string& file, const std::string& text, policy_manifests& out,
                std::vector<manifest_issue>& errors, std::vector<manifest_issue>& warnings,
                std::set<std::string>& seen) {
  yaml::stream docs = yaml::parse(text);
  if (const auto& e = docs.error()) {
    errors.push_back(manifest_issue{file, e->line, "", "", "invalid YAML: " + e->message});
    return;
  }
  file_reader r{file, out, errors, warnings, seen};
  for (const auto& d : docs.documents()) r.document(d.root);
}

}  // namespace

void parse_policy_manifests(const std::string& file, const std::string& text, policy_manifests& out,
                            std::vector<manifest_issue>& errors, std::vector<manifest_issue>& warnings) {
  std::set<std::string> seen;
  parse_text(file, text, out, errors, warnings, seen);
}

void merge_policy_manifests(const std::vector<const policy_manifests*>& files, policy_manifests& out,
                            std::vector<manifest_issue>& errors) {
  // kind|id -> where it was first defined: an object is one of a kind
  // across the directory, as within a file (parse_text found those).
  std::map<std::string, std::pair<std::string, int>> first;
  auto keep = [&](std::string_view kind, const auto& o, const std::string& id, auto& into) {
    auto [at, fresh] = first.emplace(fmt::format("{}|{}", kind, id), std::make_pair(o.file, o.line));
    if (fresh) into.push_back(o);
    else
      errors.push_back(manifest_issue{o.file, o.line, id, "metadata.name",
                                      fmt::format("duplicate {} {} (first defined at {}:{})", kind, id,
                                                  at->second.first, at->second.second)});
  };
  out = {};
  for (const policy_manifests* f : files) {
    if (!f) continue;
    for (const auto& p : f->pods) keep("Pod", p, p.id(), out.pods);
    for (const auto& n : f->namespaces) keep("Namespace", n, n.name, out.namespaces);
    for (const auto& p : f->policies) keep("NetworkPolicy", p, p.id(), out.policies);
  }
}

bool load_policy_manifests(const std::string& path, policy_manifests& out, std::vector<manifest_issue>& errors,
                           std::vector<manifest_issue>& warnings) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& ent : fs::directory_iterator(path, ec)) {
      auto ext = ent.path().extension().string();
      if (ent.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json"))
        files.push_back(ent.path().string());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    errors.push_back(manifest_issue{path, 0, "", "", "no such file or directory"});
    return false;
  }
  std::vector<policy_manifests> each(files.size());
  std::vector<const policy_manifests*> parsed;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string text, why;
    if (!read_file(files[i], text, why)) errors.push_back(manifest_issue{files[i], 0, "", "", "cannot read file: " + why});
    else parse_policy_manifests(files[i], text, each[i], errors, warnings);
    parsed.push_back(&each[i]);
  }
  merge_policy_manifests(parsed, out, errors);
  return true;
}

}  // namespace kgw::policy
