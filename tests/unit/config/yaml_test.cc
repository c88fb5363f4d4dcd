// The YAML front end: the tree libyaml's events build (positions, styles,
// duplicates, aliases, limits), libyaml's errors, and the typed getters of
// both dialects.
#include "dataplane/config/yaml/parse.h"
#include "dataplane/config/yaml/reader.h"
#include "dataplane/config/yaml/scalar.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kgw::yaml {
namespace {

std::string error_of(std::string_view text) {
  stream s = parse(text);
  if (!s.error()) return "no error";
  return std::to_string(s.error()->line) + ":" + std::to_string(s.error()->column) + ": " + s.error()->message;
}

TEST(YamlParse, PositionsAndStyles) {
  stream s = parse("a: 80\nb: \"80\"\nc:\n  - x\n  - 'y'\nd: {e: [1, 2]}\nf:\ng: ~\nh: |\n  text\n");
  ASSERT_FALSE(s.error());
  ASSERT_EQ(s.documents().size(), 1u);
  node r = s.documents()[0].root;
  ASSERT_TRUE(r.is_map());
  EXPECT_EQ(r.line(), 1);
  EXPECT_EQ(r.column(), 1);
  EXPECT_EQ(r.size(), 7u);
  node a = r.get("a"), b = r.get("b");
  EXPECT_TRUE(a.is_scalar() && a.plain());
  EXPECT_EQ(a.text(), "80");
  EXPECT_EQ(a.column(), 4);
  EXPECT_TRUE(b.is_scalar());
  EXPECT_FALSE(b.plain());
  EXPECT_EQ(b.text(), "80");
  EXPECT_EQ(b.column(), 4);  // the opening quote
  node c = r.get("c");
  ASSERT_TRUE(c.is_sequence());
  EXPECT_EQ(c.line(), 4);  // the first '-'
  EXPECT_EQ(c.column(), 3);
  EXPECT_EQ(c.item(1).text(), "y");
  EXPECT_FALSE(c.item(1).plain());
  node e = r.get("d").get("e");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e.item(1).text(), "2");
  EXPECT_EQ(e.column(), 8);
  EXPECT_TRUE(r.get("f").is_null());
  EXPECT_FALSE(r.get("f").present());
  EXPECT_TRUE(r.get("g").is_null());
  EXPECT_EQ(r.get("h").text(), "text\n");
  EXPECT_FALSE(r.get("h").plain());
  EXPECT_FALSE(r.get("zz").defined());
  EXPECT_FALSE(a.get("x").defined());  // not a map
}

TEST(YamlParse, QuotedNullIsAString) {
  stream s = parse("a: null\nb: 'null'\nc: !!str ~\n");
  node r = s.documents()[0].root;
  EXPECT_TRUE(r.get("a").is_null());
  EXPECT_TRUE(r.get("b").is_scalar());
  EXPECT_TRUE(r.get("c").is_scalar());
  EXPECT_FALSE(r.get("c").plain());  // tagged
}

TEST(YamlParse, Documents) {
  stream s = parse("a: 1\n---\n---\nb: 2\n...\n");
  ASSERT_EQ(s.documents().size(), 3u);
  EXPECT_TRUE(s.documents()[1].root.is_null());
  EXPECT_EQ(s.documents()[2].root.get("b").text(), "2");
  EXPECT_EQ(s.documents()[2].root.line(), 4);
  EXPECT_TRUE(parse("").documents().empty());
  EXPECT_TRUE(parse("# only a comment\n").documents().empty());
}

TEST(YamlParse, Json) {
  stream s = parse("{\"apiVersion\":\"v1\",\n\t\"ports\": [{\"port\":80}, {\"port\": \"81\"}], \"x\": null}");
  ASSERT_FALSE(s.error()) << s.error()->message;
  node r = s.documents()[0].root;
  EXPECT_EQ(r.get("apiVersion").text(), "v1");
  EXPECT_TRUE(r.get("ports").item(0).get("port").plain());
  EXPECT_FALSE(r.get("ports").item(1).get("port").plain());
  EXPECT_TRUE(r.get("x").is_null());
}

TEST(YamlParse, DuplicateKeys) {
  stream s = parse("a: 1\nb:\n  - {x: 1, y: 2, x: 3}\na: 2\n");
  ASSERT_FALSE(s.error());
  const document& d = s.documents()[0];
  ASSERT_EQ(d.problems.size(), 2u);
  EXPECT_EQ(d.problems[0].line, 3);
  EXPECT_EQ(d.problems[0].column, 18);
  EXPECT_EQ(d.problems[0].field, "b[0].x");
  EXPECT_EQ(d.problems[0].message, "duplicate key \"x\" (first at line 3)");
  EXPECT_EQ(d.problems[1].field, "a");
  EXPECT_EQ(d.problems[1].line, 4);
  // The first stays.
  EXPECT_EQ(d.root.size(), 2u);
  EXPECT_EQ(d.root.get("a").text(), "1");
  EXPECT_EQ(d.root.get("b").item(0).get("x").text(), "1");
  EXPECT_EQ(d.root.get("b").item(0).size(), 2u);
}

TEST(YamlParse, MergeKeys) {
  // Explicit keys win over merged ones wherever they stand; of a list of
  // merged maps the earlier wins; merged keys are no duplicates.
  stream s = parse(R"(base: &b {port: 80, protocol: TCP, name: web}
extra: &e {port: 81, appProtocol: http, name: other}
one:
  <<: *b
  port: 8080
two:
  name: mine
  <<: [*b, *e]
three:
  <<: [*e, *b]
)");
  ASSERT_FALSE(s.error()) << s.error()->message;
  const document& d = s.documents()[0];
  EXPECT_TRUE(d.problems.empty());
  node one = d.root.get("one"), two = d.root.get("two"), three = d.root.get("three");
  EXPECT_EQ(one.size(), 3u);
  EXPECT_EQ(one.get("port").text(), "8080");
  EXPECT_EQ(one.get("protocol").text(), "TCP");
  EXPECT_FALSE(one.get("<<").defined());
  EXPECT_EQ(two.size(), 4u);
  EXPECT_EQ(two.get("name").text(), "mine");
  EXPECT_EQ(two.get("port").text(), "80");
  EXPECT_EQ(two.get("appProtocol").text(), "http");
  EXPECT_EQ(three.get("port").text(), "81");
  EXPECT_EQ(three.get("name").text(), "other");
  EXPECT_EQ(three.get("protocol").text(), "TCP");
  // A merged value keeps the line it was written at.
  EXPECT_EQ(one.get("protocol").line(), 1);
}

TEST(YamlParse, MergeKeyProblems) {
  // A quoted "<<" is an ordinary key; a merge of a scalar is a problem; a
  // key given twice next to a merge is still a duplicate.
  stream s = parse("a: &a {x: 1}\nb:\n  \"<<\": 1\nc:\n  <<: 5\nd:\n  <<: *a\n  y: 1\n  y: 2\n");
  ASSERT_FALSE(s.error());
  const document& d = s.documents()[0];
  EXPECT_EQ(d.root.get("b").get("<<").text(), "1");
  ASSERT_EQ(d.problems.size(), 2u);
  EXPECT_EQ(d.problems[0].field, "c.<<");
  EXPECT_EQ(d.problems[0].line, 5);
  EXPECT_EQ(d.problems[0].message, "a merge key (<<) needs a map or a list of maps as its value");
  EXPECT_EQ(d.problems[1].field, "d.y");
  EXPECT_EQ(d.problems[1].message, "duplicate key \"y\" (first at line 8)");
  EXPECT_EQ(d.root.get("d").get("y").text(), "1");
  EXPECT_EQ(d.root.get("d").get("x").text(), "1");
}

TEST(YamlParse, DuplicateKeysNameTheFirstInALargeMap) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  text += "k7: again\nk7: thrice\n";
  stream s = parse(text);
  const auto& p = s.documents()[0].problems;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].message, "duplicate key \"k7\" (first at line 8)");
  EXPECT_EQ(p[1].message, "duplicate key \"k7\" (first at line 8)");
}

TEST(YamlParse, DuplicateKeysInALargeMap) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  text += "k500: again\n";
  stream s = parse(text);
  ASSERT_EQ(s.documents()[0].problems.size(), 1u);
  EXPECT_EQ(s.documents()[0].problems[0].line, 1001);
  EXPECT_EQ(s.documents()[0].root.size(), 1000u);
  EXPECT_EQ(s.documents()[0].root.get("k500").text(), "500");
}

TEST(YamlParse, AliasesShareTheirNode) {
  stream s = parse("base: &b {port: 80}\nfirst: *b\nsecond: *b\n");
  ASSERT_FALSE(s.error());
  node r = s.documents()[0].root;
  EXPECT_TRUE(r.get("first") == r.get("base"));
  EXPECT_EQ(r.get("second").get("port").text(), "80");
}

TEST(YamlParse, AliasErrors) {
  EXPECT_EQ(error_of("a: *nope\n"), "1:4: alias *nope names no node before it (or the node it is in)");
  // An alias inside the node it names would make a cycle.
  EXPECT_EQ(error_of("a: &x [1, *x]\n"), "1:11: alias *x names no node before it (or the node it is in)");
  // Anchors belong to their document.
  EXPECT_EQ(error_of("a: &x 1\n---\nb: *x\n"), "3:4: alias *x names no node before it (or the node it is in)");
}

TEST(YamlParse, AliasBombIsBounded) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + char(c - 1);
    text += "]\n";
  }
  EXPECT_EQ(error_of(text), "5:36: aliases stand for more than 100000 nodes");
}

TEST(YamlParse, DepthIsBounded) {
  EXPECT_EQ(error_of(std::string(300, '[') + std::string(300, ']')), "1:257: more than 256 levels of nested collections");
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')), "no error");
}

TEST(YamlParse, SyntaxErrors) {
  EXPECT_EQ(error_of("node:\n  name: a\n   bad: x\n"), "3:7: mapping values are not allowed in this context");
  EXPECT_EQ(error_of("a: [1, 2\nb: 3\n"),
            "2:2: did not find expected ',' or ']' (while parsing a flow sequence at line 1)");
  EXPECT_EQ(error_of("a: \"x\n"), "2:1: found unexpected end of stream (while scanning a quoted scalar at line 1)");
  EXPECT_EQ(error_of("a: 1\n\tb: 2\n"),
            "2:1: found a tab character that violates indentation (while scanning a plain scalar at line 1)");
}

TEST(YamlParse, StrayCommas) {
  // yaml-cpp 0.7 looped forever on these (found by fuzz_manifests).
  EXPECT_EQ(error_of(", a\n"), "1:1: unexpected ',' outside a flow collection");
  EXPECT_EQ(error_of("- a\n,\n"), "2:1: unexpected ',' outside a flow collection");
  EXPECT_EQ(error_of("a: 1\n---\n- a\n,\n"), "4:1: unexpected ',' outside a flow collection");
  EXPECT_EQ(error_of("a: b,\n"), "no error");  // part of a plain scalar
  EXPECT_EQ(parse("a: b,\n").documents()[0].root.get("a").text(), "b,");
  EXPECT_EQ(error_of("a: [1\n  , 2]\n"), "no error");
  // Inside a flow collection, libyaml's own words.
  EXPECT_EQ(error_of("a: [1, , 2]\n").find("unexpected ','"), std::string::npos);
}

TEST(YamlParse, BadEncoding) {
  EXPECT_EQ(error_of("a: 1\nb: \xff\n"), "2:4: invalid leading UTF-8 octet (#xFF)");
  EXPECT_EQ(error_of(std::string("a: \0\n", 5)), "1:4: control characters are not allowed (#x00)");
}

TEST(YamlScalar, Resolution) {
  for (const char* s : {"", "~", "null", "Null", "NULL"}) EXPECT_TRUE(null_text(s)) << s;
  EXPECT_FALSE(null_text("nULL"));
  for (const char* s : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
    EXPECT_EQ(bool_text(s), std::optional<bool>(true)) << s;
  for (const char* s : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
    EXPECT_EQ(bool_text(s), std::optional<bool>(false)) << s;
  for (const char* s : {"tRUE", "1", "0", "", "yess"}) EXPECT_FALSE(bool_text(s)) << s;
  EXPECT_EQ(decimal_text("80"), 80);
  EXPECT_EQ(decimal_text("+80"), 80);
  EXPECT_EQ(decimal_text("-1"), -1);
  for (const char* s : {"", "+", "-", "+-1", "0x50", "1_000", "1e3", " 1", "80 ", "99999999999999999999"})
    EXPECT_FALSE(decimal_text(s)) << s;
  bool overflow = false;
  EXPECT_EQ(unsigned_text("007", overflow), 7u);
  EXPECT_FALSE(unsigned_text("-1", overflow));
  EXPECT_FALSE(unsigned_text("+1", overflow));
  EXPECT_FALSE(unsigned_text("99999999999999999999", overflow));
  EXPECT_TRUE(overflow);
  EXPECT_FALSE(unsigned_text("99999999999999999999x", overflow));
  EXPECT_FALSE(overflow);
}

struct collected {
  std::vector<std::string> lines;
  reader::sink sink() {
    return [this](issue&& i) {
      lines.push_back(std::to_string(i.line) + ":" + std::to_string(i.column) + ": " + (i.warning ? "warning: " : "") +
                      i.field + ": " + i.message);
    };
  }
};

TEST(YamlReader, KgwDialect) {
  stream s = parse("a: \"4\"\nb: x\nc: [1]\nd:\ne: 4294967296\nf: \"yes\"\ng: maybe\nh: {k: 1, z: 2}\n");
  node r = s.documents()[0].root;
  collected c;
  reader rd(dialect::kgw, c.sink());
  EXPECT_EQ(rd.integer(r.get("a"), "a", 0, UINT32_MAX), 4);
  EXPECT_FALSE(rd.integer(r.get("b"), "b", 0, UINT32_MAX));
  EXPECT_FALSE(rd.integer(r.get("e"), "e", 0, UINT32_MAX));
  EXPECT_FALSE(rd.string(r.get("c"), "c"));
  EXPECT_FALSE(rd.string(r.get("d"), "d"));
  EXPECT_EQ(rd.boolean(r.get("f"), "f"), true);
  EXPECT_FALSE(rd.boolean(r.get("g"), "g"));
  EXPECT_FALSE(rd.sequence(r.get("b"), "b"));
  EXPECT_FALSE(rd.map(r.get("c"), "c"));
  rd.unknown_keys(r.get("h"), "h", {"k"});
  EXPECT_EQ(c.lines, (std::vector<std::string>{
                         "2:4: b: expected an unsigned integer, got \"x\"",
                         "5:4: e: number out of range: 4294967296",
                         "3:4: c: expected a string, got a list",
                         "4:3: d: expected a string, got null",
                         "7:4: g: expected true or false, got \"maybe\"",
                         "2:4: b: expected a list, got \"x\"",
                         "3:4: c: expected a map, got a list",
                         "8:11: h.z: unknown key \"z\" (allowed: k)",
                     }));
}

TEST(YamlReader, KubernetesDialect) {
  stream s = parse("a: \"80\"\nb: eighty\nc: 70000\nd:\ne: yes\nf: \"yes\"\ng: [1]\nh: {k: 1, z: 2}\n");
  node r = s.documents()[0].root;
  collected c;
  reader rd(dialect::kubernetes, c.sink());
  EXPECT_FALSE(rd.integer(r.get("a"), "a", 1, 65535));
  EXPECT_FALSE(rd.integer(r.get("b"), "b", 1, 65535));
  EXPECT_FALSE(rd.integer(r.get("c"), "c", 1, 65535));
  EXPECT_FALSE(rd.integer(r.get("d"), "d", 1, 65535));  // absent: no issue
  EXPECT_FALSE(rd.string(r.get("d"), "d"));
  EXPECT_FALSE(rd.string(r.get("missing"), "missing"));
  EXPECT_EQ(rd.boolean(r.get("e"), "e"), true);
  EXPECT_FALSE(rd.boolean(r.get("f"), "f"));
  EXPECT_FALSE(rd.boolean(r.get("g"), "g"));
  EXPECT_FALSE(rd.string(r.get("g"), "g"));
  EXPECT_FALSE(rd.map(r.get("d"), "d"));
  EXPECT_FALSE(rd.sequence(r.get("h"), "h"));
  rd.unknown_keys(r.get("h"), "h", {"k"});
  EXPECT_EQ(c.lines, (std::vector<std::string>{
                         "1:4: a: expected an integer, got the quoted string \"80\"",
                         "2:4: b: expected an integer, got \"eighty\"",
                         "3:4: c: 70000 out of range 1..65535",
                         "6:4: f: expected a boolean, got \"yes\"",
                         "7:4: g: expected a boolean",
                         "7:4: g: expected a string",
                         "8:4: h: expected a list",
                         "8:11: warning: h.z: unknown field, ignored",
                     }));
}

TEST(YamlReader, FieldPaths) {
  EXPECT_EQ(reader::index("spec.ports", 12), "spec.ports[12]");
  EXPECT_EQ(reader::join("", "a"), "a");
  EXPECT_EQ(reader::join("spec", "a"), "spec.a");
  EXPECT_EQ(path("endpoints[3]", ".addresses", 0).str(), "endpoints[3].addresses[0]");
  EXPECT_EQ(path("endpoints[3]", ".nodeName").str(), "endpoints[3].nodeName");
  EXPECT_EQ(path(std::string("spec.type")).str(), "spec.type");
  stream s = parse("ports: [{name: a}, {name: b}]\n");
  std::vector<std::string> seen;
  collected c;
  reader rd(dialect::kgw, c.sink());
  EXPECT_TRUE(rd.items(s.documents()[0].root.get("ports"), "ports",
                       [&](node n, const std::string& f) { seen.push_back(f + "=" + std::string(n.get("name").text())); }));
  EXPECT_EQ(seen, (std::vector<std::string>{"ports[0]=a", "ports[1]=b"}));
  EXPECT_FALSE(rd.items(s.documents()[0].root, "top", [](node, const std::string&) {}));
  EXPECT_EQ(c.lines, std::vector<std::string>{"1:1: top: expected a list, got a map"});
}

}  // namespace
}  // namespace kgw::yaml
