// Profiles and the canned-script index: every bundled profile expands to a
// command line the CLI accepts, with hops that exist in the probe list.
#include "runner/data/profiles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <variant>

#include "runner/cli/command_line.h"
#include "runner/common/errors.h"
#include "runner/tools/profiles/profiles_tool.h"
#include "runner/tools/rst/rst.h"
#include "runner/tools/trace/trace.h"
#include "runner/data/probe_list.h"

namespace skbtrail {
namespace {

TEST(Profiles, EveryBundledProfileParsesAsACommand) {
  const auto& profiles = bundled_profiles();
  ASSERT_GE(profiles.size(), 5u);
  const auto hops = default_probe_list();
  for (const auto& p : profiles) {
    SCOPED_TRACE(p.name);
    EXPECT_FALSE(p.description.empty());
    const Command c = parse_command_line({"run", p.name});
    EXPECT_FALSE(c.shows_text());
    // --probes names must be in the hop list (the kernel check happens at run time).
    const auto it = std::find(p.options.begin(), p.options.end(), "--probes");
    if (it == p.options.end()) continue;
    ASSERT_NE(it + 1, p.options.end());
    std::string list = *(it + 1);
    for (size_t start = 0; start <= list.size();) {
      const auto comma = list.find(',', start);
      const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      EXPECT_TRUE(std::any_of(hops.begin(), hops.end(), [&](const HopSpec& h) { return h.name == name; })) << name;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
}

TEST(Profiles, RunAppendsTheUsersOptions) {
  const auto args = expand_profile("rst", {"-P", "8080"});
  EXPECT_EQ(args, (std::vector<std::string>{"rst", "--stack", "-P", "8080"}));
  const RstOptions rst = parse_command_line({"run", "rst", "-P", "8080"}).get<RstOptions>();
  EXPECT_TRUE(rst.stack);
  EXPECT_EQ(rst.filter.port, 8080);
  const TraceOptions trace = parse_command_line({"run", "iptables", "-H", "10.0.0.2"}).get<TraceOptions>();
  EXPECT_TRUE(trace.hops.netfilter);
  EXPECT_TRUE(trace.filter.addr.has_value());
  try {
    expand_profile("nope", {});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("run: no profile 'nope' (profiles: rst, drop"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_command_line({"run"}), UsageError);
}

TEST(Profiles, FileErrorsNameTheLine) {
  auto error_of = [](const char* text) {
    try {
      parse_profiles(text, "my.profiles", tracing_tool_names());
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("[a]\ncommand = ping\n"), "my.profiles:2: command 'ping': a profile runs drop, rst or trace");
  EXPECT_EQ(error_of("[a]\ncolour = red\n"), "my.profiles:2: unknown key 'colour' (description, command, options)");
  EXPECT_EQ(error_of("[a]\ndescription = x\n"), "my.profiles:1: profile [a] has no command");
  EXPECT_EQ(error_of("command = rst\n"), "my.profiles:1: a key before the first [profile]");
  EXPECT_EQ(error_of("[a]\ncommand = rst\n[a]\ncommand = drop\n"), "my.profiles:3: profile [a] is defined twice");
}

TEST(Profiles, ListShowsProfilesAndScriptsWithTheirNeeds) {
  const auto scripts = bundled_bpftrace_scripts();
  std::vector<std::string> names;
  for (const auto& s : scripts) {
    names.push_back(s.name);
    EXPECT_FALSE(s.summary.empty()) << s.name;
    EXPECT_NE(s.needs.find("kernel"), std::string::npos) << s.name << ": " << s.needs;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"conntrack_invalid.bt", "drop_watch.bt", "iptables_path.bt",
                                             "iptables_path_4x.bt", "nf_drops.bt", "rst.bt"}));
  const std::string text = list_text();
  EXPECT_NE(text.find("  iptables   which iptables table and chain decided"), std::string::npos) << text;
  EXPECT_NE(text.find("= skbtrail rst --stack"), std::string::npos) << text;
  EXPECT_NE(text.find("needs: kprobes (CONFIG_KPROBES), kernel 4.1+"), std::string::npos) << text;
  const auto printed = parse_command_line({"list", "--print", "rst.bt"}).text();
  EXPECT_EQ(printed.rfind("#!/usr/bin/env bpftrace", 0), 0u);
  EXPECT_THROW(parse_command_line({"list", "--print", "nope.bt"}), UsageError);
}

}  // namespace
}  // namespace skbtrail
