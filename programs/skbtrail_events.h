/* Event records shared by the BPF programs and the C++ runner.
 *
 * Both sides compile this file: BCC's clang (target bpf) and g++ (x86-64).
 * Fields are ordered from 8-byte to 1-byte members so both ABIs lay them out
 * identically without packing attributes; both sides assert the sizes below
 * (SKBTRAIL_ASSERT_SIZE), so a field added on one side fails the build.
 * Addresses, ports, seq/ack and ICMP id/seq stay in network byte order, as
 * read from the packet, so the BPF side never swaps bytes.
 */
#ifndef SKBTRAIL_EVENTS_H
#define SKBTRAIL_EVENTS_H

/* BCC parses BPF programs with __KERNEL__ defined (and a host target first,
 * so __bpf__ alone cannot tell the two sides apart). */
#if !defined(__KERNEL__)
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define SKBTRAIL_ASSERT_SIZE(type, size) static_assert(sizeof(type) == (size), #type " changed size")
#else
#define SKBTRAIL_ASSERT_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " changed size")
#endif

#define SKBTRAIL_IFNAMSIZ 16
#define SKBTRAIL_COMM_LEN 16

/* What a handler could read from an skb's headers. */
struct skbtrail_packet {
  __u32 saddr[4]; /* IPv4 in saddr[0]; IPv6 all four words */
  __u32 daddr[4];
  __u32 tcp_seq;
  __u32 tcp_ack;
  __u16 l3_proto; /* ETH_P_IP / ETH_P_IPV6, host order; 0 when unknown */
  __u16 sport;    /* TCP/UDP ports */
  __u16 dport;
  __u16 icmp_id;
  __u16 icmp_seq;
  __u8 l4_proto; /* IPPROTO_*; 0 when not parsed (fragment, short header) */
  __u8 tcp_flags; /* FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 */
  __u8 icmp_type;
  __u8 icmp_code;
  __u8 pad[2];
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_packet, 56);

/* Every event starts with these two fields: the session reads seq without
 * knowing the event's type. */
#define SKBTRAIL_EVENT_SEQ_OFFSET 8

/* One skb:kfree_skb hit that passed the in-kernel filter. */
struct skbtrail_drop_event {
  __u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  __u64 seq;   /* this CPU's count of events tried, this one included (skbtrail_output.bpf.h) */
  __u64 skbaddr;
  __u64 location; /* kernel text address of the kfree_skb caller */
  __u32 pid;      /* tgid of the task the drop ran in (may be softirq's victim) */
  __u32 tid;
  __u32 netns; /* inode of the skb's network namespace, 0 when unknown */
  __u32 reason; /* enum skb_drop_reason; 0 on kernels without it */
  __s32 stack_id; /* -1 when no stack was asked for or it was lost */
  __u32 ifindex;
  char comm[SKBTRAIL_COMM_LEN];
  char ifname[SKBTRAIL_IFNAMSIZ];
  __u8 nf_valid; /* 1: the drop happened inside nf_hook_slow (--diag with kprobes) */
  __u8 nf_pf;    /* then: protocol family and hook (chain) it was running */
  __u8 nf_hook;
  __u8 pad0;
  struct skbtrail_packet pkt;
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_drop_event, 152);

/* --pcap: the packet's first bytes, from its network header, sent right
 * after an event (drop, rst, trace) as data[cap_len]. From the network
 * header because the link header is not there yet on the output path; the
 * runner writes them with pcapng's raw-IP link type. */
struct skbtrail_capture {
  __u32 cap_len;  /* bytes that follow */
  __u32 wire_len; /* the packet's length from its network header (skb->len based) */
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_capture, 8);

/* What produced a trace event. */
#define SKBTRAIL_TRACE_HOP 0  /* a function or tracepoint on the path */
#define SKBTRAIL_TRACE_DROP 1 /* skb:kfree_skb */
#define SKBTRAIL_TRACE_FREE 2 /* skb:consume_skb */
#define SKBTRAIL_TRACE_NF 3   /* nf_hook_slow returned: verdict set */
#define SKBTRAIL_TRACE_IPT 4  /* ipt_do_table returned: table, hook, verdict */
#define SKBTRAIL_TRACE_NFT 5  /* nft_do_chain returned: family, table, base chain, hook, verdict */

/* One hop of a packet through the stack (skbtrail trace). */
struct skbtrail_trace_event {
  __u64 ts_ns;
  __u64 seq;
  __u64 skbaddr;
  __u64 location; /* drops: the kfree_skb caller */
  __u32 pid;
  __u32 netns;
  __u32 ifindex;
  __s32 stack_id;
  __s32 verdict; /* NF: nf_hook_slow's return (1 accept, <0 drop); IPT, NFT: NF_* */
  __u32 reason;  /* drops: enum skb_drop_reason, 0 without */
  __u32 skb_lost; /* --keep: events of this skb lost since its last event delivered */
  __u32 pad0;
  __u16 probe_id; /* index into the runner's hop list */
  __u8 kind;      /* SKBTRAIL_TRACE_* */
  __u8 pkt_type;  /* PACKET_HOST, PACKET_BROADCAST, ... */
  __u8 nf_pf;     /* NF/IPT: protocol family (2 = IPv4, 10 = IPv6); NFT: the
                   * table's family (1 = inet) from 4.16, the hook's before */
  __u8 nf_hook;   /* NF/IPT/NFT: NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING */
  __u8 dmac[6];
  char ifname[SKBTRAIL_IFNAMSIZ];
  char comm[SKBTRAIL_COMM_LEN];
  char table[32]; /* IPT, NFT: "filter", "nat", ... */
  char chain[32]; /* NFT: the base chain ("input"); IPT names it by the hook */
  struct skbtrail_packet pkt;
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_trace_event, 232);

/* Where a RST event came from (skbtrail rst): the value the BPF side sets
 * and the name the runner prints, from this one list. */
#define SKBTRAIL_RST_SOURCES(X)                                                     \
  X(SKBTRAIL_RST_TCP_V4_SEND_RESET, 0, "tcp_v4_send_reset")                         \
  X(SKBTRAIL_RST_TCP_V6_SEND_RESET, 1, "tcp_v6_send_reset")                         \
  X(SKBTRAIL_RST_ACTIVE_RESET, 2, "tcp_send_active_reset")                          \
  X(SKBTRAIL_RST_NF_SEND_RESET, 3, "nf_send_reset")                                 \
  X(SKBTRAIL_RST_NF_SEND_RESET6, 4, "nf_send_reset6")                               \
  X(SKBTRAIL_RST_TCP_RESET, 5, "tcp_reset")               /* a RST was received */  \
  X(SKBTRAIL_RST_TP_SEND_RESET, 6, "tp:tcp_send_reset")   /* the tracepoints */     \
  X(SKBTRAIL_RST_TP_RECEIVE_RESET, 7, "tp:tcp_receive_reset")
#define SKBTRAIL_RST_SOURCE_VALUE(name, value, text) name = value,
enum skbtrail_rst_source { SKBTRAIL_RST_SOURCES(SKBTRAIL_RST_SOURCE_VALUE) };
#undef SKBTRAIL_RST_SOURCE_VALUE

/* One conntrack tuple as the runner prints it (ports in network order). */
struct skbtrail_ct_tuple {
  __u32 saddr[4];
  __u32 daddr[4];
  __u16 sport;
  __u16 dport;
};

/* Conntrack's verdict on the segment a RST answers, when conntrack called
 * that segment INVALID (nf_ct_l4proto_log_invalid): the entry it belonged to
 * and conntrack's own words. An INVALID segment loses its conntrack entry,
 * so NAT is neither applied nor reversed for it. */
struct skbtrail_ct_invalid {
  struct skbtrail_ct_tuple orig;  /* the entry's original direction */
  struct skbtrail_ct_tuple reply; /* its reply direction (shows the NAT) */
  __u32 status;                   /* enum ip_conntrack_status bits */
  __u8 valid;                     /* 1: the rest is set */
  __u8 family;                    /* 2 = IPv4, 10 = IPv6 */
  __u8 pad[2];
  char message[64];               /* e.g. "SEQ is over the upper bound ..." */
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_ct_invalid, 144);

/* One RST sent or received (skbtrail rst). pkt holds the RST's own tuple
 * (source = the host that sends it); for resets answering a segment the
 * BPF side swaps the segment's tuple. */
struct skbtrail_rst_event {
  __u64 ts_ns;
  __u64 seq;
  __u64 skbaddr; /* the segment answered, 0 for socket resets */
  __u64 skaddr;  /* 0: no socket (e.g. nothing listens) */
  __u64 caller_ip; /* kprobe sources: the return address at entry (the caller) */
  __u32 pid;
  __u32 netns;
  __s32 stack_id;
  __u32 reason; /* enum sk_rst_reason (6.10+) when has_reason */
  __u8 source;  /* SKBTRAIL_RST_* */
  __u8 state;   /* TCP state of the socket, 0 without one */
  __u8 has_reason;
  __u8 hook;    /* netfilter REJECT: the hook (chain) it ran in */
  __u8 segment_flags; /* TCP flags of the segment answered, 0 for socket resets */
  __u8 pad[3];
  char comm[SKBTRAIL_COMM_LEN];
  char ifname[SKBTRAIL_IFNAMSIZ]; /* the segment's device, or the socket's route device */
  struct skbtrail_packet pkt;
  struct skbtrail_ct_invalid ct;
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_rst_event, 296);

/* trace --keep: the table of followed skbs and what its per-CPU counters
 * count (index into tracked_skbs_counts). evicted = inserted - deleted -
 * entries at exit (LRU maps); refused: a full plain hash (before 4.10). */
#define SKBTRAIL_KEEP_ENTRIES 10240
#define SKBTRAIL_KEEP_INSERTED 0
#define SKBTRAIL_KEEP_DELETED 1
#define SKBTRAIL_KEEP_REFUSED 2
#define SKBTRAIL_KEEP_COUNTS 3

/* Exact loss accounting: per CPU and output slot (a probe, or a group of
 * handlers), the events a program tried to send and those
 * perf_event_output refused (ring full). A per-CPU array: the runner
 * reads one of these per possible CPU for each slot. */
struct skbtrail_output_count {
  __u64 tried;
  __u64 failed;
};
SKBTRAIL_ASSERT_SIZE(struct skbtrail_output_count, 16);

#endif /* SKBTRAIL_EVENTS_H */
