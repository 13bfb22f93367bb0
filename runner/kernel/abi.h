// Every version-dependent kernel fact skbtrail relies on, in one place: what
// BPF can do from which version (for kernels that are not running, where
// nothing can be probed), and where the arguments we read sit in the
// functions we probe. Each answer names the kernel change behind it.
//
// The argument positions become -D flags for the BPF programs; the BPF side
// reads them through the macros in programs/skbtrail_skb.bpf.h and the
// programs' own headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace skbtrail::abi {

// An unknown version (0) counts as new enough everywhere below.

// bpf_get_stackid() and BPF_MAP_TYPE_STACK_TRACE: 4.6 (d5a3b1f69186).
bool has_stack_maps(uint32_t version);
// BPF programs on tracepoints: 4.7 (98b5c2c65c29).
bool has_bpf_tracepoints(uint32_t version);
// BPF_PROG_TYPE_RAW_TRACEPOINT: 4.17 (c4f6699dfcb8).
bool has_raw_tracepoints(uint32_t version);
// kprobe programs: 4.1 in mainline (2541517c32be).
bool has_bpf_kprobes(uint32_t version);
// skb:kfree_skb's `reason` field: 5.17 (c504e5c2f964).
bool has_drop_reason(uint32_t version);
// tcp:tcp_send_reset / tcp:tcp_receive_reset: 4.15 (c24b14c46bb8, 5941521c2c5f).
bool has_tcp_reset_tracepoints(uint32_t version);
// enum sk_rst_reason: an argument of tcp_v{4,6}_send_reset and
// tcp_send_active_reset, and a field of tcp:tcp_send_reset, from 6.10.
bool has_rst_reason(uint32_t version);

// -D flags giving a program the argument layout of a probed function on
// `version`; each function comments the signatures it chooses between.
std::vector<std::string> nf_hook_slow_cflags(uint32_t version);
std::vector<std::string> ipt_do_table_cflags(uint32_t version);
std::vector<std::string> nf_send_reset_cflags(uint32_t version);
std::vector<std::string> ct_log_invalid_cflags(uint32_t version);
std::vector<std::string> rst_reason_cflags(uint32_t version);

// The format text of a tracepoint as a kernel of `version` has it, for
// compiling against a kernel that is not running (only the fields the
// programs read). Empty when the kernel has no such tracepoint.
std::string assumed_tracepoint_format(uint32_t version, const std::string& category, const std::string& event);

}  // namespace skbtrail::abi
