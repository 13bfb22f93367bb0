#include "runner/tools/drop/drop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include "runner/common/errors.h"
#include "runner/kernel/kallsyms.h"
#include "runner/bpf/stack_map.h"
#include "runner/data/rules.h"
#include "runner/output/json_line.h"
#include "runner/output/packet_format.h"
#include "runner/tools/drop/drop_reporter.h"
#include "runner/output/address_namer.h"

namespace skbtrail {
namespace {

class DropFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    std::istringstream in(
        "ffffffff81a2b000 T tcp_v4_rcv\nffffffff81a40000 T sk_skb_reason_drop\nffffffff81b00000 T udp_rcv\nffffffff81c00000 T nf_hook_slow\n");
    kallsyms_ = Kallsyms::parse(in);
    const auto format = parse_tracepoint_format(
        "field:enum skb_drop_reason reason;\toffset:36;\tsize:4;\tsigned:0;\n"
        "print fmt: \"%s\", __print_symbolic(REC->reason, { 2, \"NOT_SPECIFIED\" }, { 3, \"NO_SOCKET\" })\n");
    reasons_ = ValueNames(*format.symbolic_for("reason"));
  }

  static skbtrail_drop_event v4_syn() {
    skbtrail_drop_event ev{};
    ev.ts_ns = 5'000'123'000;  // + offset 1'700'000'000 s -> 2023-11-14T22:13:25.000123Z
    ev.skbaddr = 0xffff888100c5bae0;
    ev.location = 0xffffffff81a2b099;
    ev.pid = 31583;
    ev.tid = 31584;
    ev.netns = 4026531833;
    ev.reason = 3;
    ev.stack_id = -1;
    ev.ifindex = 1;
    std::strcpy(ev.comm, "nc");
    std::strcpy(ev.ifname, "lo");
    ev.pkt.l3_proto = 0x0800;
    ev.pkt.l4_proto = 6;
    ::inet_pton(AF_INET, "127.0.0.1", &ev.pkt.saddr[0]);
    ::inet_pton(AF_INET, "127.0.0.2", &ev.pkt.daddr[0]);
    ev.pkt.sport = htons(39408);
    ev.pkt.dport = htons(9);
    ev.pkt.tcp_flags = 0x02;
    return ev;
  }

  static skbtrail_drop_event v6_udp() {
    skbtrail_drop_event ev = v4_syn();
    ev.pkt = {};
    ev.pkt.l3_proto = 0x86dd;
    ev.pkt.l4_proto = 17;
    ::inet_pton(AF_INET6, "fd00::1", ev.pkt.saddr);
    ::inet_pton(AF_INET6, "fd00::2", ev.pkt.daddr);
    ev.pkt.sport = htons(5353);
    ev.pkt.dport = htons(53);
    ev.location = 0xffffffff81b00010;
    ev.reason = 2;
    return ev;
  }

  // The reporter with its output, read back as text after each call.
  struct Harness {
    DropReporter reporter;
    Output output;
    std::string header() {
      reporter.begin(output);
      return output.take();
    }
    void diagnose_with(const RuleSet* rules, bool quiet) { reporter.diagnose_with(rules, quiet); }
    void append_event(std::string& out, const skbtrail_drop_event& ev, std::span<const uint64_t> stack) {
      reporter.report(ev, stack, output);
      out += output.take();
    }
    void append_lost(std::string& out, int cpu, uint64_t count) {
      reporter.lost(0, cpu, count, output);
      out += output.take();
    }
    void append_summary(std::string& out) {
      reporter.end(output);
      out += output.take();
    }
  };
  Harness reporter(bool json, bool has_reason = true, const RuleSet* pseudo = nullptr) {
    return Harness{DropReporter(names_, reasons_, has_reason, pseudo),
                   Output(json, MonotonicToWall(1'700'000'000'000'000'000LL))};
  }

  Kallsyms kallsyms_;
  AddressNamer names_{kallsyms_};
  ValueNames reasons_;
};

TEST_F(DropFormat, JsonIpv4Tcp) {
  auto r = reporter(true);
  std::string out;
  r.append_event(out, v4_syn(), {});
  EXPECT_EQ(out,
            "{\"type\":\"drop\",\"time\":\"2023-11-14T22:13:25.000123Z\",\"ts_ns\":5000123000,\"comm\":\"nc\","
            "\"pid\":31583,\"tid\":31584,\"netns\":4026531833,\"ifindex\":1,\"ifname\":\"lo\",\"proto\":\"TCP\","
            "\"saddr\":\"127.0.0.1\",\"daddr\":\"127.0.0.2\",\"sport\":39408,\"dport\":9,\"tcp_flags\":\"SYN\","
            "\"reason\":\"NO_SOCKET\",\"reason_code\":3,\"location\":\"tcp_v4_rcv+0x99\","
            "\"skb\":\"0xffff888100c5bae0\"}\n");
}

TEST_F(DropFormat, JsonIpv6UdpWithStack) {
  auto r = reporter(true);
  std::string out;
  const uint64_t stack[] = {0xffffffff81a40090, 0xffffffff81b00010};
  r.append_event(out, v6_udp(), stack);
  EXPECT_NE(out.find("\"proto\":\"UDP\",\"saddr\":\"fd00::1\",\"daddr\":\"fd00::2\",\"sport\":5353,\"dport\":53"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("tcp_flags"), std::string::npos);
  EXPECT_NE(out.find("\"reason\":\"NOT_SPECIFIED\""), std::string::npos);
  EXPECT_NE(out.find("\"stack\":[\"sk_skb_reason_drop+0x90\",\"udp_rcv+0x10\"]"), std::string::npos) << out;
}

TEST_F(DropFormat, TextColumnsAndStack) {
  auto r = reporter(false);
  std::string out = r.header();
  const uint64_t stack[] = {0xffffffff81a40090};
  r.append_event(out, v4_syn(), stack);
  r.append_event(out, v6_udp(), {});
  std::istringstream lines(out);
  std::string header, first, frame, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, frame);
  std::getline(lines, second);
  EXPECT_EQ(header.find("TIME"), 0u);
  // Columns line up: every field starts where its title does.
  for (const auto& [title, value] : std::vector<std::pair<std::string, std::string>>{
           {"COMM", "nc"}, {"IFACE", "lo"}, {"PROTO", "TCP"}, {"SOURCE", "127.0.0.1:39408 -> 127.0.0.2:9"},
           {"FLAGS", "SYN"}, {"REASON", "NO_SOCKET"}, {"LOCATION", "tcp_v4_rcv+0x99"}})
    EXPECT_EQ(first.find(value), header.find(title)) << title << "\n" << header << "\n" << first;
  EXPECT_EQ(first.substr(0, 15), "22:13:25.000123");
  EXPECT_EQ(frame, "    sk_skb_reason_drop+0x90");
  EXPECT_NE(second.find("[fd00::1]:5353 -> [fd00::2]:53"), std::string::npos) << second;
  EXPECT_EQ(second.find("[fd00::1]"), header.find("SOURCE"));
}

TEST_F(DropFormat, KernelsWithoutReasonsPrintNone) {
  auto json = reporter(true, false);
  std::string out;
  json.append_event(out, v4_syn(), {});
  EXPECT_EQ(out.find("reason"), std::string::npos) << out;
  auto text = reporter(false, false);
  out.clear();
  text.append_event(out, v4_syn(), {});
  EXPECT_NE(out.find(" -  "), std::string::npos) << out;
}

// Below 5.17 the location stands in for the reason: tcp_v4_rcv freeing a
// SYN is most likely NO_SOCKET, said as a pseudo-reason (~), from the rules.
TEST_F(DropFormat, PseudoReasonFromTheLocationWithoutReasons) {
  const RuleSet rules = RuleSet::load("drop.rules", {});
  auto text = reporter(false, false, &rules);
  std::string out;
  text.append_event(out, v4_syn(), {});
  EXPECT_NE(out.find(" ~NO_SOCKET "), std::string::npos) << out;
  EXPECT_NE(out.find("tcp_v4_rcv+0x99"), std::string::npos) << out;
  auto json = reporter(true, false, &rules);
  out.clear();
  json.append_event(out, v4_syn(), {});
  EXPECT_NE(out.find("\"pseudo_reason\":\"NO_SOCKET\",\"location\":\"tcp_v4_rcv+0x99\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"reason\""), std::string::npos) << out;
  // Kernels with reasons say the real one only.
  auto with_reason = reporter(true, true, &rules);
  out.clear();
  with_reason.append_event(out, v4_syn(), {});
  EXPECT_EQ(out.find("pseudo_reason"), std::string::npos) << out;
}

TEST_F(DropFormat, NonIpAndIcmp) {
  auto r = reporter(true);
  skbtrail_drop_event ev = v4_syn();
  ev.pkt = {};
  std::string out;
  r.append_event(out, ev, {});
  EXPECT_NE(out.find("\"proto\":\"-\""), std::string::npos);
  EXPECT_EQ(out.find("saddr"), std::string::npos);
  ev = v4_syn();
  ev.pkt.l4_proto = 1;
  ev.pkt.icmp_type = 8;
  out.clear();
  r.append_event(out, ev, {});
  EXPECT_NE(out.find("\"proto\":\"ICMP\",\"saddr\":\"127.0.0.1\",\"daddr\":\"127.0.0.2\",\"icmp_type\":8"),
            std::string::npos)
      << out;
  EXPECT_EQ(packet_tuple(ev.pkt), "127.0.0.1 -> 127.0.0.2");
}

TEST_F(DropFormat, SummaryCountsByReasonAndLocation) {
  auto r = reporter(false);
  std::string out;
  r.append_event(out, v4_syn(), {});
  r.append_event(out, v4_syn(), {});
  r.append_event(out, v6_udp(), {});
  r.append_lost(out, 1, 7);
  EXPECT_NE(out.find("--- 7 events lost on cpu 1 (ring full"), std::string::npos) << out;
  out.clear();
  r.append_summary(out);
  EXPECT_NE(out.find("--- 3 drops, 7 lost ---"), std::string::npos) << out;
  const auto first = out.find("       2  NO_SOCKET                  tcp_v4_rcv+0x99");
  const auto second = out.find("       1  NOT_SPECIFIED              udp_rcv+0x10");
  EXPECT_NE(first, std::string::npos) << out;
  EXPECT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second);

  auto json = reporter(true);
  out.clear();
  json.append_event(out, v4_syn(), {});
  json.append_lost(out, 0, 2);
  out.clear();
  json.append_summary(out);
  EXPECT_EQ(out,
            "{\"type\":\"summary\",\"drops\":1,\"lost\":2,\"by_reason_location\":[{\"reason\":\"NO_SOCKET\","
            "\"location\":\"tcp_v4_rcv+0x99\",\"count\":1}]}\n");
}

TEST_F(DropFormat, DecodeRejectsShortSamples) {
  skbtrail_drop_event ev = v4_syn();
  std::vector<uint8_t> raw(sizeof(ev) + 4);  // perf pads samples
  std::memcpy(raw.data(), &ev, sizeof(ev));
  auto r = reporter(true);
  StackMap stacks;
  EXPECT_TRUE(r.reporter.sample(0, raw, stacks, r.output));
  const std::string decoded = r.output.take();
  EXPECT_NE(decoded.find("\"pid\":31583"), std::string::npos) << decoded;
  EXPECT_NE(decoded.find("\"dport\":9"), std::string::npos) << decoded;
  EXPECT_FALSE(r.reporter.sample(0, std::span<const uint8_t>(raw.data(), sizeof(ev) - 1), stacks, r.output));
  EXPECT_EQ(r.reporter.events(), 1u);
}

TEST_F(DropFormat, DiagnosisFromReasonOrLocation) {
  const RuleSet rules = RuleSet::load("drop.rules", {});
  auto with_reason = reporter(false, true);
  with_reason.diagnose_with(&rules, false);
  std::string out;
  with_reason.append_event(out, v4_syn(), {});
  EXPECT_NE(out.find("    diag [warn] no socket: nothing listens on 127.0.0.2:9 in netns 4026531833\n"), std::string::npos)
      << out;
  // A 4.x kernel has no reason: the location stands in as a pseudo-reason.
  auto old_kernel = reporter(true, false);
  old_kernel.diagnose_with(&rules, false);
  out.clear();
  old_kernel.append_event(out, v4_syn(), {});
  EXPECT_NE(out.find("\"diag\":{\"rule\":\"no-socket-location\",\"level\":\"warn\""), std::string::npos) << out;
  // A netfilter drop with the hook known names the chain.
  auto nf = v4_syn();
  nf.reason = 2;
  nf.location = 0xffffffff81a40010;  // sk_skb_reason_drop: nothing specific
  nf.nf_valid = 1;
  nf.nf_pf = 2;
  nf.nf_hook = 3;
  out.clear();
  with_reason.append_event(out, nf, {});
  EXPECT_NE(out.find("diag [info] dropped at sk_skb_reason_drop+0x10 (reason NOT_SPECIFIED)"), std::string::npos) << out;
  // A 4.x kernel: no reason, but the free in nf_hook_slow itself is its DROP verdict.
  auto old_nf = v4_syn();
  old_nf.reason = 0;
  old_nf.location = 0xffffffff81c00060;  // nf_hook_slow+0x60
  old_nf.nf_valid = 1;
  old_nf.nf_pf = 2;
  old_nf.nf_hook = 1;
  out.clear();
  old_kernel.append_event(out, old_nf, {});
  EXPECT_NE(out.find("\"rule\":\"netfilter-verdict\""), std::string::npos) << out;
  EXPECT_NE(out.find("netfilter dropped it in the INPUT chain (ipv4): the hook's verdict was DROP"), std::string::npos)
      << out;
}

TEST_F(DropFormat, DiagQuietCountsButHidesInfo) {
  const RuleSet rules = RuleSet::parse("[ok]\nreason = NO_SOCKET\nlevel = info\ncause = fine\n", "t");
  auto r = reporter(false, true);
  r.diagnose_with(&rules, true);
  std::string out;
  r.append_event(out, v4_syn(), {});
  EXPECT_TRUE(out.empty()) << out;
  r.append_summary(out);
  EXPECT_NE(out.find("       1  [info] ok: fine"), std::string::npos) << out;
}

TEST(TcpFlags, Names) {
  EXPECT_EQ(tcp_flags_text(0x02), "SYN");
  EXPECT_EQ(tcp_flags_text(0x14), "ACK,RST");
  EXPECT_EQ(tcp_flags_text(0x12), "SYN,ACK");
  EXPECT_EQ(tcp_flags_text(0x19), "FIN,PSH,ACK");
  EXPECT_EQ(tcp_flags_text(0), "");
}

TEST(Json, Escaping) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

// A kernel described by its version: 5.17+ has drop reasons, 4.9 does not.
KernelFacts kernel_of_version(uint32_t version) {
  KernelInfo k;
  k.has_kprobes = true;
  k.version_code = version;
  k.release = format_version_code(version);
  return KernelFacts::assumed(k, {});
}

TEST(DropProgram, PcapSendsRoundedSnaplenFrom411AndStopsBefore) {
  DropOptions options;
  options.pcap.path = "x.pcapng";
  options.pcap.snaplen = 44;
  const auto a = drop_plan(kernel_of_version(kernel_version(4, 14, 0)), options);
  EXPECT_NE(std::find(a.cflags.begin(), a.cflags.end(), "-DSKBTRAIL_SNAPLEN=48"), a.cflags.end());
  EXPECT_EQ(a.label, "drop.bpf.c --pcap");
  try {
    drop_plan(kernel_of_version(kernel_version(4, 9, 0)), options);
    FAIL() << "4.9 accepted --pcap";
  } catch (const EnvironmentError& e) {
    EXPECT_STREQ(e.what(), "--pcap: this kernel (4.9.0) cannot copy packet bytes into BPF map memory (helpers take "
                           "map values from 4.11; RHEL 7 lacks it): run without --pcap, and capture with tcpdump "
                           "alongside");
  }
  // Without --pcap, nothing changes.
  const auto plain = drop_plan(kernel_of_version(kernel_version(4, 14, 0)), DropOptions{}).cflags;
  for (const auto& flag : plain) EXPECT_EQ(flag.find("SNAPLEN"), std::string::npos) << flag;
}

TEST(DropProgram, CflagsFollowTheTracepointAndOptions) {
  DropOptions options;
  options.filter.dport = 9;
  options.stack = true;
  const auto a = drop_plan(kernel_of_version(kernel_version(6, 1, 0)), options).cflags;
  const auto b = drop_plan(kernel_of_version(kernel_version(4, 9, 0)), DropOptions{}).cflags;
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  EXPECT_TRUE(has(a, "-DSKBTRAIL_HAVE_DROP_REASON=1"));
  EXPECT_TRUE(has(a, "-DSKBTRAIL_WANT_STACK=1"));
  EXPECT_TRUE(has(a, "-DSKBTRAIL_F_DPORT=2304"));
  // 4.9 without options: only the ABI flags every program gets.
  EXPECT_EQ(b, kernel_of_version(kernel_version(4, 9, 0)).abi_cflags());
}

// The helpers and maps a described kernel has, as the programs are told.
TEST(DropProgram, AbiFlagsFollowTheKernel) {
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  const auto v61 = kernel_of_version(kernel_version(6, 1, 0)).abi_cflags();
  EXPECT_TRUE(has(v61, "-DSKBTRAIL_HAVE_PROBE_READ_KERNEL=1"));
  EXPECT_TRUE(has(v61, "-DSKBTRAIL_HAVE_LRU_HASH=1"));
  EXPECT_FALSE(has(v61, "-DSKBTRAIL_MAP_VALUES_TO_STACK=1"));
  const auto v49 = kernel_of_version(kernel_version(4, 9, 0)).abi_cflags();
  EXPECT_FALSE(has(v49, "-DSKBTRAIL_HAVE_PROBE_READ_KERNEL=1"));
  EXPECT_FALSE(has(v49, "-DSKBTRAIL_HAVE_PROBE_READ_STR=1"));
  EXPECT_TRUE(has(v49, "-DSKBTRAIL_MAP_VALUES_TO_STACK=1"));  // the 4.9 verifier wants stack memory
  // RHEL 7's 3.10 has LRU maps and bpf_probe_read_str by backport.
  KernelInfo el7;
  el7.version_code = kernel_version(3, 10, 0);
  el7.rhel_major = 7;
  el7.release = "3.10.0-1160.el7.x86_64";
  const KernelFacts rhel = KernelFacts::assumed(el7, {});
  EXPECT_TRUE(has(rhel.abi_cflags(), "-DSKBTRAIL_HAVE_PROBE_READ_STR=1"));
  EXPECT_TRUE(has(rhel.abi_cflags(), "-DSKBTRAIL_HAVE_LRU_HASH=1"));
  EXPECT_TRUE(rhel.has_stack_maps());
  EXPECT_TRUE(rhel.has_bpf_tracepoints());
  EXPECT_FALSE(rhel.has_raw_tracepoints());
  // A plain 3.10 would have none of it.
  el7.rhel_major = 0;
  EXPECT_FALSE(KernelFacts::assumed(el7, {}).has_stack_maps());
}

TEST(DropProgram, StackWithoutStackMapsRunsWithoutAndSaysSo) {
  DropOptions options;
  options.stack = true;
  const Plan plan = drop_plan(kernel_of_version(kernel_version(4, 4, 0)), options);
  EXPECT_TRUE(plan.stack_table.empty());
  ASSERT_EQ(plan.limits.size(), 1u);
  EXPECT_EQ(plan.limits[0].first, "--stack (kernel stacks)");
  EXPECT_NE(plan.limits[0].second.find("4.6"), std::string::npos) << plan.limits[0].second;
  // 4.4 has no BPF on tracepoints: the kfree_skb kprobe stands in.
  ASSERT_EQ(plan.probes.size(), 1u);
  EXPECT_EQ(plan.probes[0].choices.back().target, "kfree_skb");
}

}  // namespace
}  // namespace skbtrail
