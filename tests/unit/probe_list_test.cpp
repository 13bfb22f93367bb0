#include "runner/data/probe_list.h"
#include "runner/tools/trace/hop_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "runner/common/errors.h"
#include "runner/kernel/kallsyms.h"

namespace skbtrail {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_probe_list(text, "my.probes");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(ProbeList, ColumnsAndDefaults) {
  const auto hops = parse_probe_list(
      "# comment\n"
      "ip_rcv_finish 3 ip 4.4- - after PREROUTING: route lookup\n"
      "ip_rcv_core 1 ip 4.19-6.99 ip_rcv_core.isra.0,ip_rcv_core.constprop.0 header checks\n"
      "tp:net:netif_rx skbaddr link - netif_rx queued on the backlog\n"
      "my_function\n",
      "my.probes");
  ASSERT_EQ(hops.size(), 4u);
  EXPECT_EQ(hops[0].name, "ip_rcv_finish");
  EXPECT_EQ(hops[0].skb_arg, 3);
  EXPECT_EQ(hops[0].layer, "ip");
  EXPECT_EQ(hops[0].since, kernel_version(4, 4, 0));
  EXPECT_EQ(hops[0].until, 0u);
  EXPECT_TRUE(hops[0].also.empty());
  EXPECT_EQ(hops[0].description, "after PREROUTING: route lookup");
  EXPECT_EQ(hops[0].origin, "my.probes:2");
  EXPECT_EQ(hops[1].until, kernel_version(6, 99, 0));
  EXPECT_EQ(hops[1].also, (std::vector<std::string>{"ip_rcv_core.isra.0", "ip_rcv_core.constprop.0"}));
  EXPECT_TRUE(hops[2].tracepoint);
  EXPECT_EQ(hops[2].category(), "net");
  EXPECT_EQ(hops[2].event(), "netif_rx");
  EXPECT_EQ(hops[2].skb_field, "skbaddr");
  EXPECT_EQ(hops[2].also, std::vector<std::string>{"netif_rx"});
  EXPECT_EQ(hops[3].skb_arg, 1);
  EXPECT_EQ(hops[3].layer, "custom");
}

TEST(ProbeList, ErrorsNameFileLineAndFix) {
  EXPECT_EQ(error_of("ip_rcv 9 ip\n"), "my.probes:1: SKB '9': the skb argument is a number from 1 to 5");
  EXPECT_NE(error_of("\nip_rcv 1 moon\n").find("my.probes:2: LAYER 'moon': use one of"), std::string::npos);
  EXPECT_NE(error_of("ip_rcv 1 ip 4.x\n").find("my.probes:1: KERNELS '4.x'"), std::string::npos);
  EXPECT_NE(error_of("tp:skb\n").find("my.probes:1: 'tp:skb': a tracepoint is written tp:CATEGORY:EVENT"),
            std::string::npos);
  EXPECT_EQ(error_of("ip-rcv\n"), "my.probes:1: 'ip-rcv' is not a kernel function name");
}

TEST(ProbeList, BuiltInListCoversTheDocumentedHops) {
  const auto hops = default_probe_list();
  for (const char* name :
       {"napi_gro_receive", "__netif_receive_skb", "netif_rx", "ip_rcv", "ip_rcv_finish", "ip_local_deliver",
        "ip_local_deliver_finish", "ip_forward", "ip_output", "ip_finish_output", "ip_finish_output2",
        "__ip_local_out", "__dev_queue_xmit", "dev_hard_start_xmit", "tcp_v4_rcv", "tcp_rcv_state_process",
        "udp_rcv", "icmp_rcv", "nf_hook_slow", "ipt_do_table", "tp:skb:kfree_skb", "tp:skb:consume_skb",
        "ipv6_rcv", "ip6_input", "ip6_output", "tcp_v6_rcv", "udpv6_rcv", "icmpv6_rcv"})
    EXPECT_TRUE(std::any_of(hops.begin(), hops.end(), [&](const HopSpec& h) { return h.name == name; })) << name;
  for (const auto& hop : hops) EXPECT_FALSE(hop.description.empty()) << hop.name;
}

TEST(ProbeList, AddedProbes) {
  const auto hop = parse_added_probe("ip_route_input_noref:arg1");
  EXPECT_EQ(hop.name, "ip_route_input_noref");
  EXPECT_EQ(hop.skb_arg, 1);
  EXPECT_EQ(parse_added_probe("br_handle_frame:arg2").skb_arg, 2);
  EXPECT_EQ(parse_added_probe("ip_rcv").skb_arg, 1);
  EXPECT_THROW(parse_added_probe("ip_rcv:arg9"), UsageError);
  EXPECT_THROW(parse_added_probe("ip_rcv:2"), UsageError);
  EXPECT_THROW(parse_added_probe(":arg1"), UsageError);
}

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    list_ = parse_probe_list(
        "ip_rcv 1 ip - - a\n"
        "ip_rcv_core 1 ip 4.19- ip_rcv_core.isra.0 b\n"
        "tcp_drop 2 tcp 3.10-5.18 - c\n"
        "__dev_queue_xmit 1 device - - d\n"
        "nf_hook_slow 1 netfilter - - e\n"
        "ipt_do_table 1 netfilter - - f\n"
        "tp:skb:kfree_skb skbaddr drop - - g\n"
        "tp:net:net_dev_queue skbaddr device - __dev_queue_xmit h\n",
        "t.probes");
    std::istringstream in(
        "ffffffff81000000 T ip_rcv\nffffffff81000100 t ip_rcv_core.isra.0\nffffffff81000200 T nf_hook_slow\n"
        "ffffffff81000300 T ipt_do_table\n");
    kallsyms_ = Kallsyms::parse(in);
    kernel_.release = "6.1.0-test";
    kernel_.version_code = kernel_version(6, 1, 0);
    kernel_.has_kprobes = true;
    kernel_.tracefs = "/nonexistent-tracefs";
  }
  std::vector<std::string> names(const TracePlan& plan) {
    std::vector<std::string> out;
    for (const auto& hop : plan.hops) out.push_back(hop.function);
    return out;
  }
  KernelFacts facts() const { return KernelFacts::running(kernel_, {}, ready_kallsyms(kallsyms_)); }
  std::vector<HopSpec> list_;
  Kallsyms kallsyms_;
  KernelInfo kernel_;
};

TEST_F(Plan, AlternativeNamesVersionsAndMissingFunctions) {
  const auto plan = plan_trace(list_, {}, facts());
  // ip_rcv_core resolves to its .isra clone; tcp_drop is gone in 6.1 (said,
  // with the kernels it is for); __dev_queue_xmit is missing from kallsyms (reported);
  // ipt_do_table needs --iptable; tracepoints are absent in this fake tracefs.
  EXPECT_EQ(names(plan), (std::vector<std::string>{"ip_rcv", "ip_rcv_core.isra.0", "nf_hook_slow"}));
  EXPECT_TRUE(plan.hops[2].pair == NetfilterPair::Hook);
  const std::string missing = describe_missing(plan.missing);
  EXPECT_NE(missing.find("__dev_queue_xmit (not in /proc/kallsyms"), std::string::npos) << missing;
  EXPECT_NE(missing.find("tp:skb:kfree_skb (no such tracepoint"), std::string::npos) << missing;
  // A stand-in tracepoint is not "missing" when what it stands for is absent too: its function is reported.
  EXPECT_EQ(missing.find("net_dev_queue"), std::string::npos) << missing;
  EXPECT_NE(missing.find("tcp_drop (not on 6.1.0-test: the probe list has it for 3.10-5.18)"), std::string::npos)
      << missing;
}

// A hop whose signature changed has a line per range; RHEL 7 takes the
// lines naming rhel7; a kprobe stands in for a tracepoint where BPF cannot
// run on tracepoints; other names are attach fallbacks.
TEST(PlanVersions, RangesRhel7AndStandIns) {
  const auto list = parse_probe_list(
      "ip_rcv_finish 1 ip 3.10-4.1 - a\n"
      "ip_rcv_finish 2 ip 4.1-4.4,rhel7 - a\n"
      "ip_rcv_finish 3 ip 4.4- - a\n"
      "tcp_drop 2 tcp 4.10-,rhel7 - b\n"
      "udpv6_rcv 1 udp - __udp6_lib_rcv c\n"
      "tp:skb:kfree_skb skbaddr drop - - d\n"
      "kfree_skb 1 drop - tp:skb:kfree_skb e\n",
      "t.probes");
  std::istringstream in("ffffffff81000000 T ip_rcv_finish\nffffffff81000100 T tcp_drop\nffffffff81000200 t udpv6_rcv\n"
                        "ffffffff81000300 T __udp6_lib_rcv\nffffffff81000400 T kfree_skb\n");
  const Kallsyms symbols = Kallsyms::parse(in);
  auto plan_for = [&](uint32_t version, int rhel, const std::vector<std::string>& only = {}) {
    KernelInfo k;
    k.release = "test";
    k.version_code = version;
    k.rhel_major = rhel;
    k.has_kprobes = true;
    HopSelection selection;
    selection.only = only;
    return plan_trace(list, selection, KernelFacts::running(k, {}, ready_kallsyms(symbols)));
  };
  auto arg_of = [](const TracePlan& p, const std::string& name) {
    for (const auto& hop : p.hops)
      if (hop.spec.name == name) return hop.spec.skb_arg;
    return 0;
  };
  EXPECT_EQ(arg_of(plan_for(kernel_version(3, 18, 0), 0), "ip_rcv_finish"), 1);
  EXPECT_EQ(arg_of(plan_for(kernel_version(4, 2, 0), 0), "ip_rcv_finish"), 2);
  EXPECT_EQ(arg_of(plan_for(kernel_version(4, 19, 0), 0), "ip_rcv_finish"), 3);
  const TracePlan el7 = plan_for(kernel_version(3, 10, 0), 7);
  EXPECT_EQ(arg_of(el7, "ip_rcv_finish"), 2);
  EXPECT_EQ(arg_of(el7, "tcp_drop"), 2);  // backported
  // A 3.18 kernel has no tcp_drop: said so.
  const TracePlan old = plan_for(kernel_version(3, 18, 0), 0);
  EXPECT_EQ(arg_of(old, "tcp_drop"), 0);
  EXPECT_NE(describe_missing(old.missing).find("tcp_drop (not on test: the probe list has it for 4.10-, RHEL 7)"),
            std::string::npos)
      << describe_missing(old.missing);
  // Running kernels here have no tracefs: the tracepoint cannot be used, the
  // kfree_skb kprobe stands in for it (also when only the tracepoint is asked for).
  const TracePlan drops = plan_for(kernel_version(4, 4, 0), 0, {"tp:skb:kfree_skb"});
  ASSERT_EQ(drops.hops.size(), 1u);
  EXPECT_EQ(drops.hops[0].function, "kfree_skb");
  // udpv6_rcv falls back to __udp6_lib_rcv when it will not attach.
  for (const auto& hop : el7.hops)
    if (hop.function == "udpv6_rcv") EXPECT_EQ(hop.fallbacks, std::vector<std::string>{"__udp6_lib_rcv"});
}

TEST_F(Plan, SelectionOnlyAddExcludeIptables) {
  HopSelection selection;
  selection.netfilter = true;
  selection.exclude = {"ip_rcv_core"};
  selection.added = {parse_added_probe("ip_rcv")};  // duplicates are attached once
  auto plan = plan_trace(list_, selection, facts());
  EXPECT_EQ(names(plan), (std::vector<std::string>{"ip_rcv", "nf_hook_slow", "ipt_do_table"}));
  EXPECT_TRUE(plan.hops[2].pair == NetfilterPair::Iptables);

  HopSelection only;
  only.only = {"nf_hook_slow"};
  EXPECT_EQ(names(plan_trace(list_, only, facts())), std::vector<std::string>{"nf_hook_slow"});
  only.only = {"no_such_hop"};
  EXPECT_THROW(plan_trace(list_, only, facts()), UsageError);
  HopSelection bad_exclude;
  bad_exclude.exclude = {"nope"};
  EXPECT_THROW(plan_trace(list_, bad_exclude, facts()), UsageError);
}

TEST_F(Plan, NoKprobesAndNothingLeftIsAnError) {
  kernel_.has_kprobes = false;
  try {
    plan_trace(list_, {}, facts());
    FAIL();
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("ip_rcv, ip_rcv_core, __dev_queue_xmit, nf_hook_slow (this kernel has no kprobes)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace skbtrail
