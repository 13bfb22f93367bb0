/* skbtrail rst: every TCP RST this host sends or receives, with the socket
 * state, the process and the kernel stack that decided it.
 *
 * Runner -D flags besides the filter ones (see skbtrail_skb.bpf.h):
 *   SKBTRAIL_RST_REASON_ARG   tcp_v{4,6}_send_reset / tcp_send_active_reset take
 *                             an enum sk_rst_reason as argument 3 (6.10+)
 *   SKBTRAIL_NF_RESET_SKB_ARG, SKBTRAIL_NF_RESET_HOOK_ARG  which arguments of
 *                             nf_send_reset are the skb and the hook
 *   SKBTRAIL_NF_RESET6_SKB_ARG, SKBTRAIL_NF_RESET6_HOOK_ARG  the same for
 *                             nf_send_reset6 (they differ on RHEL 7)
 *   SKBTRAIL_WANT_TP_SEND_RESET, SKBTRAIL_WANT_TP_RECEIVE_RESET  the tracepoint
 *                             fallbacks are compiled in
 *   SKBTRAIL_TP_SEND_RESET_REASON  tcp:tcp_send_reset has a reason field
 *   SKBTRAIL_STACK_ENTRIES    size of the stack map; without it (kernels before
 *                             4.6) the caller kprobe sources record is all
 *   SKBTRAIL_HAVE_LRU_HASH    LRU hash maps exist (4.10+, RHEL 7)
 *   SKBTRAIL_CT_INVALID       also kprobe nf_ct_l4proto_log_invalid, so a RST
 *                             answering a conntrack-INVALID segment carries
 *                             the entry (and its NAT) the segment lost
 *   SKBTRAIL_CT_LOG_FMT_ARG, SKBTRAIL_CT_LOG_ARGS_ARG  which arguments of it
 *                             are the format and the first variadic one (4
 *                             and 5 from 5.16, when the hook state was added;
 *                             3 and 4 before)
 *   SKBTRAIL_SNAPLEN          --pcap: a RST answering a segment carries that
 *                             segment's first bytes (see skbtrail_capture)
 */
#include "skbtrail_skb.bpf.h"

#ifndef SKBTRAIL_BTF
#include <net/inet_sock.h>
#include <net/dst.h>
#ifdef SKBTRAIL_CT_INVALID
#include <net/netfilter/nf_conntrack.h>
#endif
#endif

BPF_PERF_OUTPUT(rst_events);
#ifdef SKBTRAIL_STACK_ENTRIES
BPF_STACK_TRACE(rst_stacks, SKBTRAIL_STACK_ENTRIES);
#endif

#ifdef SKBTRAIL_CT_INVALID
/* Segments conntrack called INVALID, by skb address, until the RST that
 * answers them (or LRU eviction: most INVALID segments get no RST). Before
 * 4.10 there is no LRU map: a plain hash that, once full, records no more. */
#ifdef SKBTRAIL_HAVE_LRU_HASH
BPF_TABLE("lru_hash", __u64, struct skbtrail_ct_invalid, ct_invalid, 1024);
#else
BPF_TABLE("hash", __u64, struct skbtrail_ct_invalid, ct_invalid, 1024);
#endif

static __always_inline void skbtrail_read_ct_tuple(struct nf_conntrack_tuple *t, struct skbtrail_ct_tuple *out) {
  SKBTRAIL_READ(out->saddr, &t->src.u3.all);
  SKBTRAIL_READ(out->daddr, &t->dst.u3.all);
  SKBTRAIL_READ(out->sport, &t->src.u.all);
  SKBTRAIL_READ(out->dport, &t->dst.u.all);
}

/* nf_ct_l4proto_log_invalid(skb, ct, [state,] fmt, ...): called for every
 * segment a protocol tracker rejects, before the log sysctl is checked. The
 * format is the tracker's words on 6.1 ("SEQ is over upper bound %u ...");
 * some paths pass "%s" with the text, or "%pV" with a struct va_format whose
 * first word is the text. */
int skbtrail_ct_log_invalid(struct pt_regs *ctx) {
  struct skbtrail_ct_invalid info = {};
  __u64 skb = (__u64)PT_REGS_PARM1(ctx);
  struct nf_conn *ct = (struct nf_conn *)PT_REGS_PARM2(ctx);
  if (!skb || !ct) return 0;
  skbtrail_read_ct_tuple(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, &info.orig);
  skbtrail_read_ct_tuple(&ct->tuplehash[IP_CT_DIR_REPLY].tuple, &info.reply);
  unsigned long status = 0;
  SKBTRAIL_READ(status, &ct->status);
  info.status = (__u32)status;
  __u16 l3num = 0;
  SKBTRAIL_READ(l3num, &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.l3num);
  info.family = (__u8)l3num;
  info.valid = 1;
  const char *fmt = SKBTRAIL_CT_LOG_FMT(ctx);
  char head[4] = {};
  SKBTRAIL_READ(head, fmt);
  const void *first = SKBTRAIL_CT_LOG_FIRST_ARG(ctx);
  if (head[0] == '%' && head[1] == 'p' && head[2] == 'V' && head[3] == 0) {
    const char *words = 0;
    SKBTRAIL_READ(words, first); /* struct va_format: fmt comes first */
    SKBTRAIL_READ_STR(info.message, sizeof(info.message), words);
  } else if (head[0] == '%' && head[1] == 's' && head[2] == 0) {
    SKBTRAIL_READ_STR(info.message, sizeof(info.message), first);
  } else {
    SKBTRAIL_READ_STR(info.message, sizeof(info.message), fmt);
  }
  ct_invalid.update(&skb, &info);
  return 0;
}
#endif

static __always_inline void skbtrail_swap_tuple(struct skbtrail_packet *p) {
  __u32 word;
  word = p->saddr[0]; p->saddr[0] = p->daddr[0]; p->daddr[0] = word;
  word = p->saddr[1]; p->saddr[1] = p->daddr[1]; p->daddr[1] = word;
  word = p->saddr[2]; p->saddr[2] = p->daddr[2]; p->daddr[2] = word;
  word = p->saddr[3]; p->saddr[3] = p->daddr[3]; p->daddr[3] = word;
  __u16 port = p->sport;
  p->sport = p->dport;
  p->dport = port;
}

/* The socket's own tuple: local address/port as source. */
static __always_inline void skbtrail_read_sock(struct sock *sk, struct skbtrail_packet *pkt, __u8 *state) {
  __u16 family = 0;
  __u16 num = 0;
  SKBTRAIL_READ(family, &sk->__sk_common.skc_family);
  SKBTRAIL_READ(*state, (unsigned char *)&sk->__sk_common.skc_state);
  SKBTRAIL_READ(num, &sk->__sk_common.skc_num);
  SKBTRAIL_READ(pkt->dport, &sk->__sk_common.skc_dport);
  pkt->sport = (num >> 8) | ((num & 0xff) << 8); /* skc_num is host order */
  if (!num) {
    /* Closing sockets are unhashed (skc_num = 0) before the RST goes out;
     * inet_sport keeps the port. */
    struct inet_sock *inet = (struct inet_sock *)sk;
    SKBTRAIL_READ(pkt->sport, &inet->inet_sport);
  }
  pkt->l4_proto = SKBTRAIL_IPPROTO_TCP;
  pkt->tcp_flags = 0x04;
  if (family == 10 /* AF_INET6 */) {
    pkt->l3_proto = ETH_P_IPV6;
    SKBTRAIL_READ(pkt->saddr, &sk->__sk_common.skc_v6_rcv_saddr);
    SKBTRAIL_READ(pkt->daddr, &sk->__sk_common.skc_v6_daddr);
  } else {
    pkt->l3_proto = ETH_P_IP;
    SKBTRAIL_READ(pkt->saddr[0], &sk->__sk_common.skc_rcv_saddr);
    SKBTRAIL_READ(pkt->daddr[0], &sk->__sk_common.skc_daddr);
  }
}

/* Whether a source is a kprobe (ctx is its pt_regs) or a tracepoint; from
 * the constant the handler passes, so each handler keeps only its branch (a
 * tracepoint program that merely could read pt_regs is refused at attach:
 * its context is smaller). */
#define SKBTRAIL_RST_FROM_KPROBE(source) \
  ((source) != SKBTRAIL_RST_TP_SEND_RESET && (source) != SKBTRAIL_RST_TP_RECEIVE_RESET)

#ifdef SKBTRAIL_SNAPLEN
/* --pcap: the event and the bytes of the segment it answers, built in place. */
struct skbtrail_rst_capture {
  struct skbtrail_rst_event ev;
  struct skbtrail_capture cap;
  __u8 data[SKBTRAIL_SNAPLEN];
};
BPF_PERCPU_ARRAY(rst_scratch, struct skbtrail_rst_capture, 1);
#endif

/* Common tail (the packet filter ran already): context filters, stack,
 * output. skb: the segment answered, for --pcap; 0 for socket resets. */
static __always_inline int skbtrail_rst_submit(void *ctx, struct skbtrail_rst_event *ev, int from_kprobe,
                                               struct sk_buff *skb) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  ev->pid = pid_tgid >> 32;
  if (!skbtrail_context_matches(ev->pid, ev->netns)) return 0;
  ev->ts_ns = bpf_ktime_get_ns();
#ifdef SKBTRAIL_STACK_ENTRIES
  ev->stack_id = rst_stacks.get_stackid(ctx, 0);
#else
  ev->stack_id = -1;
#endif
  /* Kprobe sources (ctx is their pt_regs) also record their caller: it is
   * all there is without stack maps, and frame-pointer stacks skip it. */
  if (from_kprobe) ev->caller_ip = skbtrail_kprobe_caller((struct pt_regs *)ctx);
  bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
  ev->seq = skbtrail_next_seq();
  int rc = 0;
#ifdef SKBTRAIL_SNAPLEN
  int zero = 0;
  struct skbtrail_rst_capture *scratch = skb ? rst_scratch.lookup(&zero) : 0;
  if (scratch) {
    scratch->ev = *ev;
    skbtrail_capture_packet(skb, &scratch->cap, scratch->data);
    rc = rst_events.perf_submit(ctx, scratch, sizeof(*scratch));
  } else {
    rc = rst_events.perf_submit(ctx, ev, sizeof(*ev));
  }
#else
  rc = rst_events.perf_submit(ctx, ev, sizeof(*ev));
#endif
  skbtrail_count_output(ev->source, rc); /* output slot = the RST source */
  return 0;
}

/* A RST answering a segment: the segment's tuple, reversed. */
static __always_inline int skbtrail_rst_for_segment(void *ctx, __u8 source, struct sock *sk, struct sk_buff *skb,
                                                    __u32 reason, __u8 has_reason, __u8 hook) {
  struct skbtrail_rst_event ev = {};
  ev.source = source;
  ev.skbaddr = (__u64)skb;
  ev.skaddr = (__u64)sk;
  ev.reason = reason;
  ev.has_reason = has_reason;
  ev.hook = hook;
  if (!skb || !skbtrail_read_packet(skb, &ev.pkt)) return 0;
  skbtrail_swap_tuple(&ev.pkt);
  /* --tcp-flags matches the segment answered (S: RSTs answering SYNs). */
  ev.segment_flags = ev.pkt.tcp_flags;
  if (!skbtrail_packet_matches(&ev.pkt)) return 0;
  ev.pkt.tcp_flags = 0x04;
  __u32 ifindex = 0;
  skbtrail_skb_device(skb, &ifindex, ev.ifname);
  if (!skbtrail_ifname_matches(ev.ifname)) return 0;
  ev.netns = skbtrail_skb_netns(skb);
  if (sk) {
    SKBTRAIL_READ(ev.state, (unsigned char *)&sk->__sk_common.skc_state);
  }
#ifdef SKBTRAIL_CT_INVALID
  __u64 key = (__u64)skb;
  struct skbtrail_ct_invalid *info = ct_invalid.lookup(&key);
  if (info) {
    ev.ct = *info;
    ct_invalid.delete(&key);
  }
#endif
  return skbtrail_rst_submit(ctx, &ev, SKBTRAIL_RST_FROM_KPROBE(source), skb);
}

/* A RST decided by a socket (abort) or received on it. */
static __always_inline int skbtrail_rst_for_sock(void *ctx, __u8 source, struct sock *sk, __u32 reason,
                                                 __u8 has_reason) {
  struct skbtrail_rst_event ev = {};
  if (!sk) return 0;
  ev.source = source;
  ev.skaddr = (__u64)sk;
  ev.reason = reason;
  ev.has_reason = has_reason;
  skbtrail_read_sock(sk, &ev.pkt, &ev.state);
  if (source == SKBTRAIL_RST_TCP_RESET || source == SKBTRAIL_RST_TP_RECEIVE_RESET) skbtrail_swap_tuple(&ev.pkt);
  if (!skbtrail_packet_matches(&ev.pkt)) return 0;
  /* No segment here: the device is the one the socket's route uses. */
  struct dst_entry *dst = 0;
  SKBTRAIL_READ(dst, &sk->sk_dst_cache);
  if (dst) {
    struct net_device *dev = 0;
    SKBTRAIL_READ(dev, &dst->dev);
    if (dev) SKBTRAIL_READ_STR(ev.ifname, SKBTRAIL_IFNAMSIZ, dev->name);
  }
  if (!skbtrail_ifname_matches(ev.ifname)) return 0;
  ev.netns = skbtrail_sock_netns(sk);
  return skbtrail_rst_submit(ctx, &ev, SKBTRAIL_RST_FROM_KPROBE(source), 0);
}

int skbtrail_tcp_v4_send_reset(struct pt_regs *ctx) {
  return skbtrail_rst_for_segment(ctx, SKBTRAIL_RST_TCP_V4_SEND_RESET, (struct sock *)PT_REGS_PARM1(ctx),
                                  (struct sk_buff *)PT_REGS_PARM2(ctx), SKBTRAIL_RST_REASON(ctx), 0);
}

int skbtrail_tcp_v6_send_reset(struct pt_regs *ctx) {
  return skbtrail_rst_for_segment(ctx, SKBTRAIL_RST_TCP_V6_SEND_RESET, (struct sock *)PT_REGS_PARM1(ctx),
                                  (struct sk_buff *)PT_REGS_PARM2(ctx), SKBTRAIL_RST_REASON(ctx), 0);
}

int skbtrail_tcp_send_active_reset(struct pt_regs *ctx) {
  return skbtrail_rst_for_sock(ctx, SKBTRAIL_RST_ACTIVE_RESET, (struct sock *)PT_REGS_PARM1(ctx),
                               SKBTRAIL_ACTIVE_RESET_REASON(ctx));
}

#ifdef SKBTRAIL_NF_RESET_SKB_ARG
int skbtrail_nf_send_reset(struct pt_regs *ctx) {
  return skbtrail_rst_for_segment(ctx, SKBTRAIL_RST_NF_SEND_RESET, 0, SKBTRAIL_NF_RESET_SKB(ctx), 0, 0,
                                  SKBTRAIL_NF_RESET_HOOK(ctx));
}

#endif

#ifdef SKBTRAIL_NF_RESET6_SKB_ARG
int skbtrail_nf_send_reset6(struct pt_regs *ctx) {
  return skbtrail_rst_for_segment(ctx, SKBTRAIL_RST_NF_SEND_RESET6, 0, SKBTRAIL_NF_RESET6_SKB(ctx), 0, 0,
                                  SKBTRAIL_NF_RESET6_HOOK(ctx));
}
#endif

int skbtrail_tcp_reset(struct pt_regs *ctx) {
  return skbtrail_rst_for_sock(ctx, SKBTRAIL_RST_TCP_RESET, (struct sock *)PT_REGS_PARM1(ctx), 0, 0);
}

/* The tracepoints, through the layouts the runner puts ahead of this text. */
#ifdef SKBTRAIL_WANT_TP_SEND_RESET
int skbtrail_tp_tcp_send_reset(struct skbtrail_tp_tcp_tcp_send_reset *args) {
  __u32 reason = 0;
  __u8 has_reason = 0;
#ifdef SKBTRAIL_TP_SEND_RESET_REASON
  reason = args->reason;
  has_reason = 1;
#endif
  struct sk_buff *skb = (struct sk_buff *)args->skbaddr;
  struct sock *sk = (struct sock *)args->skaddr;
  if (skb) return skbtrail_rst_for_segment(args, SKBTRAIL_RST_TP_SEND_RESET, sk, skb, reason, has_reason, 0);
  return skbtrail_rst_for_sock(args, SKBTRAIL_RST_TP_SEND_RESET, sk, reason, has_reason);
}
#endif

#ifdef SKBTRAIL_WANT_TP_RECEIVE_RESET
int skbtrail_tp_tcp_receive_reset(struct skbtrail_tp_tcp_tcp_receive_reset *args) {
  return skbtrail_rst_for_sock(args, SKBTRAIL_RST_TP_RECEIVE_RESET, (struct sock *)args->skaddr, 0, 0);
}
#endif
