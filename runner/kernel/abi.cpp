#include "runner/kernel/abi.h"

#include "runner/common/version.h"

namespace skbtrail::abi {

namespace {
bool at_least(uint32_t version, uint32_t major, uint32_t minor) {
  return version == 0 || version >= kernel_version(major, minor, 0);
}
}  // namespace

bool has_stack_maps(uint32_t v) { return at_least(v, 4, 6); }
bool has_bpf_tracepoints(uint32_t v) { return at_least(v, 4, 7); }
bool has_raw_tracepoints(uint32_t v) { return at_least(v, 4, 17); }
bool has_bpf_kprobes(uint32_t v) { return at_least(v, 4, 1); }
bool has_drop_reason(uint32_t v) { return at_least(v, 5, 17); }
bool has_tcp_reset_tracepoints(uint32_t v) { return at_least(v, 4, 15); }
bool has_rst_reason(uint32_t v) { return at_least(v, 6, 10); }

std::vector<std::string> nf_hook_slow_cflags(uint32_t v) {
  // nf_hook_slow(skb, state, ...) since 4.1 (struct nf_hook_state, 1c15b677);
  // before: nf_hook_slow(pf, hook, skb, in, out, okfn, thresh).
  if (!at_least(v, 4, 1)) return {"-DSKBTRAIL_NF_ARGS_LEGACY=1"};
  return {};
}

std::vector<std::string> ipt_do_table_cflags(uint32_t v) {
  // ipt_do_table(priv, skb, state) since 5.16 (the hook function itself);
  // (skb, state, table) 4.4-5.15; (skb, hook, state, table) 4.1-4.3;
  // (skb, hook, in, out, table) before.
  if (at_least(v, 5, 16)) return {"-DSKBTRAIL_IPT_ARGS_PRIV=1"};
  if (at_least(v, 4, 4)) return {"-DSKBTRAIL_IPT_ARGS_STATE=1"};
  if (at_least(v, 4, 1)) return {"-DSKBTRAIL_IPT_ARGS_HOOK_STATE=1"};
  return {};
}

std::vector<std::string> nf_send_reset_cflags(uint32_t v) {
  // nf_send_reset(net, sk, oldskb, hook) from 5.10, (net, oldskb, hook) from
  // 4.4, (oldskb, hook) before.
  if (at_least(v, 5, 10)) return {"-DSKBTRAIL_NF_RESET_SKB_ARG=3", "-DSKBTRAIL_NF_RESET_HOOK_ARG=4"};
  if (at_least(v, 4, 4)) return {"-DSKBTRAIL_NF_RESET_SKB_ARG=2", "-DSKBTRAIL_NF_RESET_HOOK_ARG=3"};
  return {"-DSKBTRAIL_NF_RESET_SKB_ARG=1", "-DSKBTRAIL_NF_RESET_HOOK_ARG=2"};
}

std::vector<std::string> ct_log_invalid_cflags(uint32_t v) {
  // nf_ct_l4proto_log_invalid(skb, ct, state, fmt, ...) since 5.16, when the
  // hook state was added; (skb, ct, fmt, ...) before.
  if (at_least(v, 5, 16)) return {"-DSKBTRAIL_CT_LOG_FMT_ARG=4", "-DSKBTRAIL_CT_LOG_ARGS_ARG=5"};
  return {"-DSKBTRAIL_CT_LOG_FMT_ARG=3", "-DSKBTRAIL_CT_LOG_ARGS_ARG=4"};
}

std::vector<std::string> rst_reason_cflags(uint32_t v) {
  // tcp_v{4,6}_send_reset(sk, skb, reason) and tcp_send_active_reset(sk,
  // priority, reason) from 6.10 (enum sk_rst_reason).
  if (v != 0 && has_rst_reason(v)) return {"-DSKBTRAIL_RST_REASON_ARG=1"};
  return {};
}

namespace {
std::string field(const char* decl, int offset, int size, bool is_signed = false) {
  return std::string("field:") + decl + ";\toffset:" + std::to_string(offset) + ";\tsize:" + std::to_string(size) +
         ";\tsigned:" + (is_signed ? "1" : "0") + ";\n";
}
}  // namespace

std::string assumed_tracepoint_format(uint32_t v, const std::string& category, const std::string& event) {
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
    if (has_drop_reason(v)) text += field("enum skb_drop_reason reason", 28, 4);
    return text;
  }
  if (category == "skb" && event == "consume_skb") return field("void * skbaddr", 8, 8);
  if (category == "tcp" && has_tcp_reset_tracepoints(v)) {
    if (event == "tcp_receive_reset") return field("const void * skaddr", 8, 8);
    if (event == "tcp_send_reset") {
      std::string text = field("const void * skbaddr", 8, 8) + field("const void * skaddr", 16, 8);
      if (has_rst_reason(v)) text += field("int state", 24, 4, true) + field("enum sk_rst_reason reason", 28, 4);
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
