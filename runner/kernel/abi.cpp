#include "runner/kernel/abi.h"

#include <cstdio>

#include <fmt/format.h>

#include "runner/common/version.h"

namespace skbtrail::abi {

namespace {
bool at_least(uint32_t version, uint32_t major, uint32_t minor) {
  return version == 0 || version >= kernel_version(major, minor, 0);
}
}  // namespace

// RHEL 7.6 backported BPF kprobes, tracepoints, stack maps, LRU maps and
// bpf_probe_read_str to its 3.10 (the "eBPF tech preview"; its uapi bpf.h
// lists helpers up to bpf_get_stack), but not raw tracepoints nor the
// kernel's own drop reasons and tcp tracepoints.
bool has_stack_maps(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 6); }
bool has_bpf_tracepoints(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 7); }
bool has_raw_tracepoints(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 4, 17); }
bool has_bpf_kprobes(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 1); }
bool has_percpu_arrays(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 6); }
bool has_lru_hash(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 10); }
bool has_probe_read_str(const Kernel& k) { return k.is_rhel7() || at_least(k.version, 4, 11); }
bool has_probe_read_kernel(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 5, 5); }
bool helpers_take_map_values(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 4, 11); }
bool has_drop_reason(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 5, 17); }
bool has_tcp_reset_tracepoints(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 4, 15); }
bool has_rst_reason(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 6, 10); }
bool has_ct_log_invalid(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 4, 14); }

std::vector<std::string> nf_hook_slow_cflags(const Kernel& k) {
  // nf_hook_slow(skb, state, ...) since 4.1 (struct nf_hook_state, 1c15b677),
  // and in RHEL 7, which backported nf_hook_state; before:
  // nf_hook_slow(pf, hook, skb, in, out, okfn, thresh).
  if (!k.is_rhel7() && !at_least(k.version, 4, 1)) return {"-DSKBTRAIL_NF_ARGS_LEGACY=1"};
  return {};
}

std::vector<std::string> ipt_do_table_cflags(const Kernel& k) {
  // ipt_do_table(priv, skb, state) since 5.16 (the hook function itself);
  // (skb, state, table) 4.4-5.15; (skb, hook, state, table) 4.1-4.3 and
  // RHEL 7 (its nf_hook_state backport kept the hook argument);
  // (skb, hook, in, out, table) before.
  if (k.is_rhel7()) return {"-DSKBTRAIL_IPT_ARGS_HOOK_STATE=1"};
  if (at_least(k.version, 5, 16)) return {"-DSKBTRAIL_IPT_ARGS_PRIV=1"};
  if (at_least(k.version, 4, 4)) return {"-DSKBTRAIL_IPT_ARGS_STATE=1"};
  if (at_least(k.version, 4, 1)) return {"-DSKBTRAIL_IPT_ARGS_HOOK_STATE=1"};
  return {};
}

std::vector<std::string> nft_do_chain_cflags(const Kernel& k) {
  // RHEL 7's nf_tables is a 3.10-era backport: nft_do_chain(pkt, ops), the
  // hook in pkt->xt.hooknum, names as arrays, no family in the table.
  if (k.is_rhel7()) return {"-DSKBTRAIL_NFT_CHAIN_IN_OPS=1"};
  std::vector<std::string> flags;
  // nft_do_chain(pkt, priv) since 4.1 (the hook functions got priv);
  // (pkt, ops) before.
  if (!at_least(k.version, 4, 1)) flags.push_back("-DSKBTRAIL_NFT_CHAIN_IN_OPS=1");
  // The hook state: pkt->state from 5.14 (xt_action_param left
  // nft_pktinfo), pkt->xt.state 4.10-5.13, pkt->pf/hook 4.1-4.9, the x_tables
  // fields xt.family/xt.hooknum before.
  if (at_least(k.version, 5, 14)) flags.push_back("-DSKBTRAIL_NFT_PKT_STATE=1");
  else if (at_least(k.version, 4, 10)) flags.push_back("-DSKBTRAIL_NFT_PKT_XT_STATE=1");
  else if (at_least(k.version, 4, 1)) flags.push_back("-DSKBTRAIL_NFT_PKT_PF_HOOK=1");
  // Table and chain names: pointers since 4.15, arrays before.
  if (at_least(k.version, 4, 15)) flags.push_back("-DSKBTRAIL_NFT_NAME_POINTERS=1");
  // The table's own family (inet, bridge, ...): in struct nft_table since 4.16.
  if (at_least(k.version, 4, 16)) flags.push_back("-DSKBTRAIL_NFT_TABLE_FAMILY=1");
  return flags;
}

bool nft_family_is_the_tables(const Kernel& k) { return !k.is_rhel7() && at_least(k.version, 4, 16); }

std::vector<std::string> nf_send_reset_cflags(const Kernel& k) {
  // nf_send_reset{,6}(net, sk, oldskb, hook) from 5.10 (the socket added for
  // VRF), (net, oldskb, hook) from 4.4 (netns-aware rejects), (oldskb, hook)
  // before. RHEL 7 is split: its
  // nf_send_reset(oldskb, hook) is 3.10's, its nf_send_reset6(net, oldskb,
  // hook) the backported 4.4 one.
  auto flags = [](const char* family, int skb, int hook) {
    return std::vector<std::string>{fmt::format("-DSKBTRAIL_NF_RESET{}_SKB_ARG={}", family, skb),
                                    fmt::format("-DSKBTRAIL_NF_RESET{}_HOOK_ARG={}", family, hook)};
  };
  std::vector<std::string> v4, v6;
  if (k.is_rhel7()) {
    v4 = flags("", 1, 2);
    v6 = flags("6", 2, 3);
  } else if (at_least(k.version, 5, 10)) {
    v4 = flags("", 3, 4);
    v6 = flags("6", 3, 4);
  } else if (at_least(k.version, 4, 4)) {
    v4 = flags("", 2, 3);
    v6 = flags("6", 2, 3);
  } else {
    v4 = flags("", 1, 2);
    v6 = flags("6", 1, 2);
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

std::vector<std::string> ct_log_invalid_cflags(const Kernel& k) {
  // nf_ct_l4proto_log_invalid(skb, ct, state, fmt, ...) since 5.16, when the
  // hook state was added; (skb, ct, fmt, ...) before.
  if (at_least(k.version, 5, 16)) return {"-DSKBTRAIL_CT_LOG_FMT_ARG=4", "-DSKBTRAIL_CT_LOG_ARGS_ARG=5"};
  return {"-DSKBTRAIL_CT_LOG_FMT_ARG=3", "-DSKBTRAIL_CT_LOG_ARGS_ARG=4"};
}

std::vector<std::string> rst_reason_cflags(const Kernel& k, std::optional<int> active_reset_arity) {
  // tcp_v{4,6}_send_reset(sk, skb, reason) and tcp_send_active_reset(sk,
  // priority, reason) from 6.10 (enum sk_rst_reason, "tcp: rstreason:
  // introduce enum sk_rst_reason"); tcp_send_active_reset(sk, reason) once
  // the priority argument went, as in Debian's 6.12 stable kernel: its
  // prototype decides where one is known.
  if (k.version == 0 || !has_rst_reason(k)) return {};
  const int reason_arg = active_reset_arity.value_or(3) == 2 ? 2 : 3;
  return {"-DSKBTRAIL_RST_REASON_ARG=1", fmt::format("-DSKBTRAIL_ACTIVE_RESET_REASON_ARG={}", reason_arg)};
}

namespace {
std::string field(const char* decl, int offset, int size, bool is_signed = false) {
  return std::string("field:") + decl + ";\toffset:" + std::to_string(offset) + ";\tsize:" + std::to_string(size) +
         ";\tsigned:" + (is_signed ? "1" : "0") + ";\n";
}
}  // namespace

namespace {

// The kernel whose uapi bpf.h the linked BCC carries
// (src/cc/compat/linux/virtual_bpf.h): BCC 0.26 synced it with 6.1. Newer
// BCC releases are taken to know the kernels they meet.
uint32_t bcc_uapi_version() {
  unsigned major = 0, minor = 0;
  if (std::sscanf(SKBTRAIL_BCC_VERSION, "%u.%u", &major, &minor) == 2 && major == 0 && minor <= 26)
    return kernel_version(6, 1, 0);
  return 0;
}

}  // namespace

std::vector<std::string> bcc_uapi_cflags(const Kernel& k) {
  const uint32_t known = bcc_uapi_version();
  std::vector<std::string> flags;
  // include/linux/bpf.h takes sizeof/alignof of the uapi's opaque types:
  // struct bpf_rb_root/bpf_rb_node from 6.3 (9c395c1b99bd "bpf: Add basic
  // bpf_rb_{root,node} support"), bpf_refcount from 6.4 (d54730b50bae),
  // bpf_wq from 6.10 (d56b63cf0c0f "bpf: add support for bpf_wq user type").
  auto need = [&](uint32_t since, const char* flag) {
    if (known && known < since && k.version >= since) flags.push_back(flag);
  };
  need(kernel_version(6, 3, 0), "-DSKBTRAIL_DECLARE_BPF_RB=1");
  need(kernel_version(6, 4, 0), "-DSKBTRAIL_DECLARE_BPF_REFCOUNT=1");
  need(kernel_version(6, 10, 0), "-DSKBTRAIL_DECLARE_BPF_WQ=1");
  return flags;
}

std::string assumed_tracepoint_format(const Kernel& k, const std::string& category, const std::string& event) {
  const uint32_t v = k.version;
  // Only the fields our programs read, at the offsets each kernel has them
  // (the kernel's TRACE_EVENT definitions; the 8 bytes before are the
  // common fields).
  if (category == "skb" && event == "kfree_skb") {
    std::string text = field("void * skbaddr", 8, 8) + field("void * location", 16, 8);
    // 6.11 put rx_sk before protocol (c53795d48ee8); 5.17 added reason (c504e5c2f964).
    if (at_least(v, 6, 11))
      return text + field("void * rx_sk", 24, 8) + field("unsigned short protocol", 32, 2) +
             field("enum skb_drop_reason reason", 36, 4);
    text += field("unsigned short protocol", 24, 2);
    if (has_drop_reason(k)) text += field("enum skb_drop_reason reason", 28, 4);
    return text;
  }
  if (category == "skb" && event == "consume_skb") return field("void * skbaddr", 8, 8);
  if (category == "tcp" && has_tcp_reset_tracepoints(k)) {
    if (event == "tcp_receive_reset") return field("const void * skaddr", 8, 8);
    if (event == "tcp_send_reset") {
      std::string text = field("const void * skbaddr", 8, 8) + field("const void * skaddr", 16, 8);
      if (has_rst_reason(k)) text += field("int state", 24, 4, true) + field("enum sk_rst_reason reason", 28, 4);
      return text;
    }
  }
  if (category == "net") {
    // net_dev_start_xmit starts with the device name's __data_loc.
    if (event == "net_dev_start_xmit") return field("const void * skbaddr", 16, 8);
    if (event == "netif_receive_skb" || event == "netif_rx" || event == "net_dev_queue")
      return field("void * skbaddr", 8, 8);
  }
  return {};
}

}  // namespace skbtrail::abi
