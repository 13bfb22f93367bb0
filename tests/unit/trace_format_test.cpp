#include "runner/tools/trace/trace.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "runner/common/errors.h"
#include "runner/kernel/abi.h"
#include "runner/kernel/kallsyms.h"
#include "runner/output/address_namer.h"
#include "runner/tools/trace/trace_reporter.h"

namespace skbtrail {
namespace {

class TraceFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    plan_ = plan_trace(parse_probe_list("ip_rcv 1 ip - - IPv4 receive\n"
                                        "nf_hook_slow 1 netfilter - - run the hook\n"
                                        "ipt_do_table 1 netfilter - - iptables\n"
                                        "icmp_rcv 1 icmp - - ICMP receive\n"
                                        "nft_do_chain 1 netfilter - - nftables base chain\n",
                                        "t"),
                       HopSelection::everything(), KernelFacts::assumed(kernel(), {}));
    std::istringstream in("ffffffff81000000 T nf_hook_slow\n");
    kallsyms_ = Kallsyms::parse(in);
  }
  static KernelInfo kernel() {
    KernelInfo k;
    k.has_kprobes = true;
    k.version_code = kernel_version(6, 1, 0);
    return k;
  }
  static skbtrail_trace_event syn(uint16_t hop) {
    skbtrail_trace_event ev{};
    ev.ts_ns = 1'000'000'000;
    ev.skbaddr = 0xffff9935587cbcf8;
    ev.netns = 4026531992;
    ev.probe_id = hop;
    std::strcpy(ev.ifname, "eth0");
    const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0x0c, 0xb8, 0x38};
    std::memcpy(ev.dmac, mac, 6);
    ev.pkt.l3_proto = 0x0800;
    ev.pkt.l4_proto = 6;
    ::inet_pton(AF_INET, "192.168.0.17", &ev.pkt.saddr[0]);
    ::inet_pton(AF_INET, "140.205.60.46", &ev.pkt.daddr[0]);
    ev.pkt.sport = htons(47645);
    ev.pkt.dport = htons(80);
    ev.pkt.tcp_flags = 0x02;
    return ev;
  }
  std::string line(const skbtrail_trace_event& ev, const TraceOptions& options) {
    TraceReporter r(plan_, names_, {}, options);
    Output output(options.run.json, MonotonicToWall(1'700'000'000'000'000'000LL));
    std::string out;
    r.report(ev, {}, output);
  out += output.take();
    return out;
  }
  Kallsyms kallsyms_;
  AddressNamer names_{kallsyms_};
  TracePlan plan_;
};

TEST_F(TraceFormat, MytracerColumns) {
  EXPECT_EQ(line(syn(0), {}),
            "[22:13:21.000000][4026531992] eth0         00163e0cb838 T_SYN:192.168.0.17:47645->140.205.60.46:80 "
            "ffff9935587cbcf8.0:ip_rcv\n");
  TraceOptions dated;
  dated.date = true;
  EXPECT_EQ(line(syn(0), dated).substr(0, 29), "[2023-11-14 22:13:21.000000][");
}

TEST_F(TraceFormat, NetfilterVerdicts) {
  auto ev = syn(1);
  ev.kind = SKBTRAIL_TRACE_NF;
  ev.nf_pf = 2;
  ev.nf_hook = 3;
  ev.verdict = -1;
  EXPECT_NE(line(ev, {}).find(":nf_hook_slow ipv4 OUTPUT NF_DROP (packet dropped by netfilter)\n"), std::string::npos);
  ev.verdict = 1;
  EXPECT_NE(line(ev, {}).find(":nf_hook_slow ipv4 OUTPUT ACCEPT\n"), std::string::npos);

  auto ipt = syn(2);
  ipt.kind = SKBTRAIL_TRACE_IPT;
  ipt.nf_pf = 2;
  ipt.nf_hook = 3;
  ipt.verdict = 0;
  std::strcpy(ipt.table, "filter");
  EXPECT_NE(line(ipt, {}).find(":ipt_do_table 2.filter.OUTPUT.DROP\n"), std::string::npos) << line(ipt, {});
}

TEST_F(TraceFormat, NftablesChainVerdicts) {
  auto nft = syn(4);
  nft.kind = SKBTRAIL_TRACE_NFT;
  nft.nf_pf = 1;  // the table's family: inet
  nft.nf_hook = 1;
  std::strcpy(nft.table, "filter");
  std::strcpy(nft.chain, "input");
  nft.verdict = 0;
  EXPECT_NE(line(nft, {}).find(":nft_do_chain inet filter input DROP\n"), std::string::npos) << line(nft, {});
  // NF_DROP_REASON: the chain freed the skb and returned NF_STOLEN | EPERM << 16.
  nft.verdict = (1 << 16) | 2;
  EXPECT_NE(line(nft, {}).find(":nft_do_chain inet filter input DROP\n"), std::string::npos) << line(nft, {});
  nft.verdict = 2;  // a real NF_STOLEN (no errno)
  EXPECT_NE(line(nft, {}).find(":nft_do_chain inet filter input STOLEN\n"), std::string::npos) << line(nft, {});
  nft.verdict = 1;
  EXPECT_NE(line(nft, {}).find(":nft_do_chain inet filter input ACCEPT\n"), std::string::npos);
  // Before 4.16 the family is the hook's.
  plan_.nft_family_is_the_tables = false;
  nft.nf_pf = 2;
  nft.verdict = 0;
  EXPECT_NE(line(nft, {}).find(":nft_do_chain filter input DROP (ipv4 hook)\n"), std::string::npos) << line(nft, {});
}

TEST(TraceProgram, NftDoChainLayoutsByKernel) {
  auto flags = [](uint32_t version, int rhel = 0) { return abi::nft_do_chain_cflags({version, rhel}); };
  using V = std::vector<std::string>;
  EXPECT_EQ(flags(kernel_version(3, 10, 0), 7), V{"-DSKBTRAIL_NFT_CHAIN_IN_OPS=1"});
  EXPECT_EQ(flags(kernel_version(3, 18, 0)), V{"-DSKBTRAIL_NFT_CHAIN_IN_OPS=1"});
  EXPECT_EQ(flags(kernel_version(4, 9, 0)), V{"-DSKBTRAIL_NFT_PKT_PF_HOOK=1"});
  EXPECT_EQ(flags(kernel_version(4, 14, 0)), V{"-DSKBTRAIL_NFT_PKT_XT_STATE=1"});
  EXPECT_EQ(flags(kernel_version(4, 15, 0)), (V{"-DSKBTRAIL_NFT_PKT_XT_STATE=1", "-DSKBTRAIL_NFT_NAME_POINTERS=1"}));
  EXPECT_EQ(flags(kernel_version(4, 19, 0)), (V{"-DSKBTRAIL_NFT_PKT_XT_STATE=1", "-DSKBTRAIL_NFT_NAME_POINTERS=1",
                                                 "-DSKBTRAIL_NFT_TABLE_FAMILY=1"}));
  EXPECT_EQ(flags(kernel_version(6, 1, 0)), (V{"-DSKBTRAIL_NFT_PKT_STATE=1", "-DSKBTRAIL_NFT_NAME_POINTERS=1",
                                               "-DSKBTRAIL_NFT_TABLE_FAMILY=1"}));
  EXPECT_FALSE(abi::nft_family_is_the_tables({kernel_version(3, 10, 0), 7}));
  EXPECT_FALSE(abi::nft_family_is_the_tables({kernel_version(4, 15, 0), 0}));
  EXPECT_TRUE(abi::nft_family_is_the_tables({kernel_version(4, 16, 0), 0}));

  // The handlers and -D flags of an nft_do_chain hop.
  KernelInfo k;
  k.has_kprobes = true;
  k.version_code = kernel_version(6, 1, 0);
  std::istringstream in("ffffffff81000300 T nft_do_chain\n");
  const KernelFacts facts = KernelFacts::running(k, {}, ready_kallsyms(Kallsyms::parse(in)));
  const auto plan = plan_trace(parse_probe_list("nft_do_chain 1 netfilter\n", "t"), HopSelection::everything(), facts);
  ASSERT_EQ(plan.hops.size(), 1u);
  EXPECT_EQ(plan.hops[0].pair, NetfilterPair::Nftables);
  const std::string handlers = trace_handlers(plan);
  EXPECT_NE(handlers.find("return skbtrail_nft_entry(ctx, 0)"), std::string::npos) << handlers;
  EXPECT_NE(handlers.find("int skbtrail_ret_0(struct pt_regs *ctx) { return skbtrail_nft_return(ctx); }"),
            std::string::npos);
  const auto cflags = trace_plan(facts, TraceOptions{}, plan).cflags;
  EXPECT_NE(std::find(cflags.begin(), cflags.end(), "-DSKBTRAIL_WANT_NFT=1"), cflags.end());
  EXPECT_NE(std::find(cflags.begin(), cflags.end(), "-DSKBTRAIL_NFT_PKT_STATE=1"), cflags.end());
  // Without --netfilter the hop is left out.
  EXPECT_THROW(plan_trace(parse_probe_list("nft_do_chain 1 netfilter\n", "t"), HopSelection{}, facts), EnvironmentError);
}

TEST_F(TraceFormat, DropsNameReasonAndLocation) {
  auto ev = syn(0);
  ev.kind = SKBTRAIL_TRACE_DROP;
  ev.location = 0xffffffff8100009e;
  const auto format = parse_tracepoint_format(
      "field:int reason;\toffset:8;\tsize:4;\tsigned:0;\n"
      "print fmt: \"%s\", __print_symbolic(REC->reason, { 12, \"NETFILTER_DROP\" })\n");
  ev.reason = 12;
  TraceOptions options;
  TraceReporter r(plan_, names_, ValueNames(*format.symbolic_for("reason")), options);
  Output output(options.run.json, MonotonicToWall(0));
  std::string out;
  r.report(ev, {}, output);
  out += output.take();
  EXPECT_NE(out.find(":ip_rcv NETFILTER_DROP at nf_hook_slow+0x9e (packet dropped)"), std::string::npos) << out;
}

TEST_F(TraceFormat, PacketInfoForEachProtocol) {
  skbtrail_packet p{};
  p.l3_proto = 0x0800;
  p.l4_proto = 1;
  p.icmp_type = 8;
  p.icmp_id = htons(22);
  p.icmp_seq = htons(3);
  ::inet_pton(AF_INET, "10.0.0.1", &p.saddr[0]);
  ::inet_pton(AF_INET, "10.0.0.2", &p.daddr[0]);
  EXPECT_EQ(trace_packet_info(p), "I_request:10.0.0.1->10.0.0.2 id=22 seq=3");
  p.icmp_type = 3;
  p.icmp_code = 3;
  EXPECT_EQ(trace_packet_info(p), "I_type 3 code 3:10.0.0.1->10.0.0.2");
  p = {};
  p.l3_proto = 0x86dd;
  p.l4_proto = 17;
  ::inet_pton(AF_INET6, "fd00::1", p.saddr);
  ::inet_pton(AF_INET6, "fd00::2", p.daddr);
  p.sport = htons(5353);
  p.dport = htons(53);
  EXPECT_EQ(trace_packet_info(p), "U:[fd00::1]:5353->[fd00::2]:53");
  p.l4_proto = 58;
  p.icmp_type = 129;
  EXPECT_EQ(trace_packet_info(p), "I_reply:fd00::1->fd00::2 id=0 seq=0");
  p.l4_proto = 6;
  p.tcp_flags = 0x14;
  EXPECT_EQ(trace_packet_info(p), "T_ACK,RST:[fd00::1]:5353->[fd00::2]:53");
  EXPECT_EQ(trace_packet_info(skbtrail_packet{}), "-");
}

TEST_F(TraceFormat, ExplainKeepAndJson) {
  TraceOptions options;
  options.explain = true;
  options.keep = true;
    TraceReporter r(plan_, names_, {}, options);
  Output output(options.run.json, MonotonicToWall(0));
  std::string out;
  r.report(syn(0), {}, output);
  out += output.take();
  r.report(syn(3), {}, output);
  out += output.take();
  auto other = syn(0);
  other.skbaddr = 0xffff000000000001;
  r.report(other, {}, output);
  out += output.take();
  std::istringstream lines(out);
  std::vector<std::string> l;
  for (std::string s; std::getline(lines, s);) l.push_back(s);
  ASSERT_EQ(l.size(), 5u) << out;
  EXPECT_EQ(l[0], "--- skb ffff9935587cbcf8 ---");
  EXPECT_NE(l[1].find(":ip_rcv  # [ip] IPv4 receive"), std::string::npos) << l[1];
  EXPECT_NE(l[2].find(":icmp_rcv  # [icmp] ICMP receive"), std::string::npos);
  EXPECT_EQ(l[3], "--- skb ffff000000000001 ---");

  TraceOptions json;
  json.run.json = true;
  const std::string j = line(syn(0), json);
  EXPECT_NE(j.find("\"hop\":\"ip_rcv\",\"layer\":\"ip\",\"packet\":\"T_SYN:192.168.0.17:47645->140.205.60.46:80\""),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"dmac\":\"00163e0cb838\""), std::string::npos);
}

TEST(TraceProgram, HandlersAndCflags) {
  KernelInfo k;
  k.has_kprobes = true;
  k.version_code = kernel_version(6, 1, 0);
  k.tracefs = "/sys/kernel/tracing";
  std::istringstream in("ffffffff81000000 T ip_rcv\nffffffff81000200 T nf_hook_slow\nffffffff81000300 T ipt_do_table\n");
  const Kallsyms ks = Kallsyms::parse(in);
  const KernelFacts facts = KernelFacts::running(k, {}, ready_kallsyms(ks));
  const auto plan = plan_trace(parse_probe_list("ip_rcv 1 ip\nnf_hook_slow 1 netfilter\nipt_do_table 1 netfilter\n", "t"),
                               HopSelection::everything(), facts);
  const std::string handlers = trace_handlers(plan);
  EXPECT_NE(handlers.find("int skbtrail_hop_0(struct pt_regs *ctx) { return skbtrail_trace_skb(ctx, (struct sk_buff "
                          "*)PT_REGS_PARM1(ctx), 0, SKBTRAIL_TRACE_HOP); }"),
            std::string::npos)
      << handlers;
  EXPECT_NE(handlers.find("return skbtrail_nf_hook_slow_entry(ctx, 1)"), std::string::npos);
  EXPECT_NE(handlers.find("int skbtrail_ret_1(struct pt_regs *ctx) { return skbtrail_nf_return(ctx); }"),
            std::string::npos);
  EXPECT_NE(handlers.find("int skbtrail_ret_2(struct pt_regs *ctx) { return skbtrail_ipt_return(ctx); }"),
            std::string::npos);
  const auto specs = trace_plan(facts, TraceOptions{}, plan).probes;
  ASSERT_EQ(specs.size(), 5u);  // ip_rcv, nf_hook_slow + return, ipt_do_table + return
  EXPECT_EQ(specs[2].choices[0].kind, ProbeKind::Kretprobe);

  TraceOptions options;
  options.keep = true;
  options.dropstack = true;
  options.filter.ifname = "eth0";
  options.filter.tcp_flags = parse_tcp_flags_option("SR");
  const auto flags = trace_plan(facts, options, plan).cflags;
  auto has = [&](const std::string& f) { return std::find(flags.begin(), flags.end(), f) != flags.end(); };
  EXPECT_TRUE(has("-DSKBTRAIL_KEEP=1"));
  EXPECT_TRUE(has("-DSKBTRAIL_STACKS=1"));
  EXPECT_FALSE(has("-DSKBTRAIL_STACK_ALL=1"));
  EXPECT_TRUE(has("-DSKBTRAIL_IPT_ARGS_PRIV=1"));
  EXPECT_TRUE(has("-DSKBTRAIL_F_TCPFLAGS=6"));
  EXPECT_TRUE(has("-DSKBTRAIL_F_IFNAME0=0x0000000030687465ULL")) << ::testing::PrintToString(flags);
  EXPECT_TRUE(has("-DSKBTRAIL_F_IFNAME1=0x0000000000000000ULL"));
  k.version_code = kernel_version(4, 9, 0);
  const auto old = trace_plan(KernelFacts::assumed(k, {}), {}, plan).cflags;
  EXPECT_NE(std::find(old.begin(), old.end(), "-DSKBTRAIL_IPT_ARGS_STATE=1"), old.end());
  EXPECT_THROW(parse_tcp_flags_option("SX"), UsageError);
}

}  // namespace
}  // namespace skbtrail
