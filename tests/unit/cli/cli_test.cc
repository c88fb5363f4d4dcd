#include "control/cli/cli.h"

#include <gtest/gtest.h>

namespace kgw {
namespace {

TEST(CliSplit, SemicolonsNewlinesCommentsAndBlanks) {
  auto v = split_commands("show port stats all; show lcores\n# a comment\n  show counters  # trailing\n;;\n");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "show port stats all");
  EXPECT_EQ(v[1], "show lcores");
  EXPECT_EQ(v[2], "show counters");
}

TEST(CliSplit, EmptyInputGivesNoCommands) {
  EXPECT_TRUE(split_commands("").empty());
  EXPECT_TRUE(split_commands(" ; # nothing\n").empty());
}

TEST(CliHelp, ListsEveryCommand) {
  auto h = cli_help_text();
  for (const char* c : {"show port stats", "show port info", "show lcores", "show counters", "clear port stats",
                        "show service", "show conntrack", "show endpoints", "show neighbors", "clear neighbors", "show routes", "show config status", "set log level", "reload", "help", "quit"})
    EXPECT_NE(h.find(c), std::string::npos) << c;
}

}  // namespace
}  // namespace kgw
