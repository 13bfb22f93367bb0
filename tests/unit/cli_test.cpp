#include "runner/cli/command_line.h"

#include <gtest/gtest.h>

#include "runner/common/errors.h"
#include "runner/tools/doctor/doctor.h"
#include "runner/tools/drop/drop.h"
#include "runner/tools/rst/rst.h"
#include "runner/tools/trace/trace.h"

namespace skbtrail {
namespace {

Command parse(std::vector<std::string> args) { return parse_command_line(args); }

std::string usage_error(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Cli, DropOptionsAreParsed) {
  const auto command = parse({"drop", "--dport", "9", "-c", "1", "--json", "--saddr", "127.0.0.1", "--proto", "tcp",
                              "--stack", "--duration", "2m", "--perf-pages", "128", "-N", "4026531840"});
  const auto* drop = command.options<DropOptions>();
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->filter.dport, 9);
  EXPECT_EQ(drop->filter.saddr->to_string(), "127.0.0.1");
  EXPECT_EQ(drop->filter.proto, L4Protocol::Tcp);
  EXPECT_EQ(drop->filter.netns, 4026531840u);
  EXPECT_EQ(drop->run.count, 1u);
  EXPECT_TRUE(drop->run.json);
  EXPECT_TRUE(drop->stack);
  EXPECT_EQ(drop->run.duration, std::chrono::minutes(2));
  EXPECT_EQ(drop->run.perf_pages, 128);
  EXPECT_TRUE(drop->summary);
}

TEST(Cli, ShortFilterAliases) {
  const auto command = parse({"drop", "-H", "fd00::1", "-P", "53", "-p", "1234"});
  const auto& drop = command.get<DropOptions>();
  EXPECT_EQ(drop.filter.addr->to_string(), "fd00::1");
  EXPECT_EQ(drop.filter.port, 53);
  EXPECT_EQ(drop.filter.pid, 1234u);
}

TEST(Cli, BadInputNamesTheInput) {
  EXPECT_NE(usage_error({"drop", "--addr", "1.2.3"}).find("--addr '1.2.3'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--port", "70000"}).find("--port '70000'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--bogus"}).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "stray"}).find("positional"), std::string::npos);
  EXPECT_NE(usage_error({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(usage_error({}).find("no command"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "-c", "0"}).find("--count '0'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--perf-pages", "100"}).find("power of two"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--headers", "magic"}).find("--headers 'magic'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--kernel-version-code", "x"}).find("--kernel-version-code 'x'"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--dport"}).find("dport"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--proto", "icmp", "--dport", "80"}).find("ICMP has no ports"), std::string::npos);
}

TEST(Cli, ErrorsAreOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"drop", "--addr", "1.2.3"}, {"drop", "--bogus"}, {"drop", "--duration", "5y"}, {"nope"}}) {
    const std::string message = usage_error(args);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(Cli, Durations) {
  EXPECT_EQ(parse_duration_option("10"), std::chrono::seconds(10));
  EXPECT_EQ(parse_duration_option("10s"), std::chrono::seconds(10));
  EXPECT_EQ(parse_duration_option("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration_option("1h"), std::chrono::hours(1));
  EXPECT_THROW(parse_duration_option("0"), UsageError);
  EXPECT_THROW(parse_duration_option("-1"), UsageError);
  EXPECT_THROW(parse_duration_option("10d"), UsageError);
}

TEST(Cli, HeaderOptions) {
  const auto command = parse({"drop", "--kernel-headers", "/usr/src/kernels/3.10.0-1160.el7.x86_64",
                              "--kernel-release", "3.10.0-1160.el7.x86_64", "--kernel-version-code", "4.15.18",
                              "--force-headers", "--cache-dir", "/tmp/c"});
  const auto& h = command.get<DropOptions>().run.headers;
  EXPECT_EQ(h.kernel_headers, "/usr/src/kernels/3.10.0-1160.el7.x86_64");
  EXPECT_EQ(h.kernel_release, "3.10.0-1160.el7.x86_64");
  EXPECT_EQ(h.version_code, (4u << 16) + (15u << 8) + 18u);
  EXPECT_TRUE(h.force);
  EXPECT_EQ(h.cache_root, "/tmp/c");
  EXPECT_EQ(parse({"drop", "--kernel-version-code", "266002"}).get<DropOptions>().run.headers.version_code,
            266002u);
  EXPECT_EQ(parse({"drop", "--headers", "btf"}).get<DropOptions>().run.headers.mode, HeaderMode::Btf);
  EXPECT_THROW(parse({"drop", "--headers", "btf", "--kernel-headers", "/x"}), UsageError);
  EXPECT_NE(usage_error({"drop", "--force-headers"}).find("add --kernel-headers"), std::string::npos);
  EXPECT_NE(usage_error({"drop", "--kernel-release", "4.4.0"}).find("add --kernel-headers"), std::string::npos);
}

TEST(Cli, HelpDocumentsEveryOptionWithExamples) {
  const auto text = parse({"drop", "--help"}).text();
  for (const char* option : {"--addr", "--saddr", "--daddr", "--port", "--sport", "--dport", "--proto", "--pid",
                             "--netns", "--json", "--count", "--duration", "--stack", "--headers", "--kernel-headers",
                             "--kernel-release", "--kernel-version-code", "--force-headers", "examples:"})
    EXPECT_NE(text.find(option), std::string::npos) << option;
  EXPECT_NE(parse({"--help"}).text().find("doctor"), std::string::npos);
  EXPECT_NE(parse({"doctor", "--help"}).text().find("--no-compile"), std::string::npos);
}

TEST(Cli, TraceHelpHasAnExampleForEveryOption) {
  const auto text = parse({"trace", "--help"}).text();
  const auto examples = text.substr(text.find("examples:"));
  for (const char* option :
       {"--proto", "-H", "--saddr", "--daddr", "-P", "--sport", "--dport", "--icmpid", "-p", "-N", "--ifname",
        "--tcp-flags", "--iptable", "--callstack", "--dropstack", "--keep", "--explain", "-T", "-t", "--probes",
        "--add-probe", "--exclude", "--list-probes", "--json", "-c", "--duration"})
    EXPECT_NE(examples.find(std::string(" ") + option + " "), std::string::npos) << option;
}

TEST(Cli, TraceOptions) {
  const auto command = parse({"trace", "--proto", "icmp", "-H", "10.0.0.2", "--icmpid", "22", "--iptable", "--keep",
                              "--explain", "-T", "--ifname", "veth0", "--probes", "ip_rcv,icmp_rcv", "--add-probe",
                              "ip_route_input_noref:arg1", "--exclude", "nf_hook_slow", "--dropstack"});
  const auto& t = command.get<TraceOptions>();
  EXPECT_EQ(t.icmp_id, 22);
  EXPECT_TRUE(t.hops.netfilter && t.keep && t.explain && t.date && t.dropstack && !t.callstack);
  EXPECT_EQ(t.filter.ifname, "veth0");
  EXPECT_EQ(t.hops.only, (std::vector<std::string>{"ip_rcv", "icmp_rcv"}));
  ASSERT_EQ(t.hops.added.size(), 1u);
  EXPECT_EQ(t.hops.added[0].name, "ip_route_input_noref");
  EXPECT_EQ(t.hops.exclude, std::vector<std::string>{"nf_hook_slow"});
  EXPECT_EQ(parse({"trace", "--probes", "@my.probes"}).get<TraceOptions>().probes_file, "my.probes");
  EXPECT_NE(usage_error({"trace", "--proto", "udp", "--tcp-flags", "S"}).find("--tcp-flags"), std::string::npos);
  const RstOptions r = parse({"rst", "--ifname", "veth1", "--tcp-flags", "SA"}).get<RstOptions>();
  EXPECT_EQ(r.filter.ifname, "veth1");
  EXPECT_EQ(r.filter.tcp_flags, 0x12);
  EXPECT_NE(usage_error({"rst", "--ifname", "a-name-far-too-long"}).find("--ifname 'a-name-far-too-long'"),
            std::string::npos);
  EXPECT_NE(usage_error({"trace", "--proto", "tcp", "--icmpid", "3"}).find("--icmpid"), std::string::npos);
  EXPECT_NE(usage_error({"trace", "-T", "-t"}).find("choose one clock"), std::string::npos);
}

TEST(Cli, Doctor) {
  const auto command = parse({"doctor", "--no-compile", "--headers", "btf"});
  const auto& doctor = command.get<DoctorOptions>();
  EXPECT_FALSE(doctor.compile);
  EXPECT_EQ(doctor.headers.mode, HeaderMode::Btf);
}

}  // namespace
}  // namespace skbtrail
