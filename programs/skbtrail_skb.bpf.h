/* Helpers every skbtrail BPF program shares: kernel type access that works
 * with real kernel headers and with a header tree generated from BTF, packet
 * parsing, and the in-kernel filter.
 *
 * Compat rules (old verifiers, 3.10 backports to 6.x): everything is
 * __always_inline (no bpf-to-bpf calls), no loops, no global data, fixed-size
 * reads only, stack well under 512 bytes.
 *
 * The runner configures a program with -D flags:
 *   SKBTRAIL_BTF            the tree is generated from BTF (vmlinux.h already
 *                           included by its kconfig.h; no kernel header may be
 *                           included)
 *   SKBTRAIL_F_*            filter constants, see skbtrail_packet_matches()
 */
#ifndef SKBTRAIL_SKB_BPF_H
#define SKBTRAIL_SKB_BPF_H

#ifndef SKBTRAIL_BTF
/* Kernels newer than the uapi bpf.h BCC force-includes (it hides the tree's)
 * size BPF types that copy lacks: declared here as that kernel's uapi has
 * them (runner/kernel/abi.cpp, bcc_uapi_cflags). */
#ifdef SKBTRAIL_DECLARE_BPF_RB
struct bpf_rb_root { __u64 __opaque[2]; } __attribute__((aligned(8)));
struct bpf_rb_node { __u64 __opaque[4]; } __attribute__((aligned(8)));
#endif
#ifdef SKBTRAIL_DECLARE_BPF_REFCOUNT
struct bpf_refcount { __u32 __opaque[1]; } __attribute__((aligned(4)));
#endif
#ifdef SKBTRAIL_DECLARE_BPF_WQ
struct bpf_wq { __u64 __opaque[2]; } __attribute__((aligned(8)));
#endif
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <net/sock.h>
#include <net/net_namespace.h>
#endif

#include "skbtrail_events.h"

/* In BTF mode only types and enums exist, none of the kernel's #defines. */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif
#define SKBTRAIL_IPPROTO_ICMP 1
#define SKBTRAIL_IPPROTO_TCP 6
#define SKBTRAIL_IPPROTO_UDP 17
#define SKBTRAIL_IPPROTO_ICMPV6 58
#define SKBTRAIL_HEADER_UNSET 0xffff

#include "skbtrail_abi.bpf.h"
#include "skbtrail_output.bpf.h"

/* Our own wire layouts, so parsing never depends on how a kernel's headers
 * spell bitfields. */
struct skbtrail_ipv4_wire {
  __u8 version_ihl;
  __u8 tos;
  __u16 tot_len;
  __u16 id;
  __u16 frag_off;
  __u8 ttl;
  __u8 protocol;
  __u16 check;
  __u32 saddr;
  __u32 daddr;
};

struct skbtrail_ipv6_wire {
  __u32 flow;
  __u16 payload_len;
  __u8 nexthdr;
  __u8 hop_limit;
  __u32 saddr[4];
  __u32 daddr[4];
};

struct skbtrail_l4_wire {
  __u16 sport_or_icmp; /* TCP/UDP source port; ICMP type+code */
  __u16 dport_or_csum;
  __u32 seq_or_icmp_idseq; /* TCP seq; ICMP echo id (2 bytes) + seq (2 bytes) */
  __u32 ack;
  __u8 doff;
  __u8 flags;
};

static __always_inline void skbtrail_fill_l4(const struct skbtrail_l4_wire *wire, __u8 proto,
                                             struct skbtrail_packet *pkt) {
  struct skbtrail_l4_wire w = *wire;
  pkt->l4_proto = proto;
  if (proto == SKBTRAIL_IPPROTO_TCP) {
    pkt->sport = w.sport_or_icmp;
    pkt->dport = w.dport_or_csum;
    pkt->tcp_seq = w.seq_or_icmp_idseq;
    pkt->tcp_ack = w.ack;
    pkt->tcp_flags = w.flags;
  } else if (proto == SKBTRAIL_IPPROTO_UDP) {
    pkt->sport = w.sport_or_icmp;
    pkt->dport = w.dport_or_csum;
  } else if (proto == SKBTRAIL_IPPROTO_ICMP || proto == SKBTRAIL_IPPROTO_ICMPV6) {
    pkt->icmp_type = w.sport_or_icmp & 0xff;
    pkt->icmp_code = w.sport_or_icmp >> 8;
    pkt->icmp_id = w.seq_or_icmp_idseq & 0xffff;
    pkt->icmp_seq = w.seq_or_icmp_idseq >> 16;
  }
}

static __always_inline void skbtrail_parse_l4(unsigned char *l4, __u8 proto, struct skbtrail_packet *pkt) {
  struct skbtrail_l4_wire w = {};
  if (SKBTRAIL_READ(w, l4) < 0) return;
  skbtrail_fill_l4(&w, proto, pkt);
}

/* An IPv4 header without options and the L4 header after it, in one read. */
struct skbtrail_ipv4_l4_wire {
  struct skbtrail_ipv4_wire ip;
  struct skbtrail_l4_wire l4;
};

/* Fills pkt from the skb's network and transport headers. Returns 1 when an
 * IPv4/IPv6 header was read. */
/* skb->protocol, ->network_header and ->head in one read when they sit
 * within 64 bytes of each other (they do on the kernels we know; the offsets
 * are compile-time constants, so the other branch is dropped). Every probe
 * read counts: this runs on every hop before the filter can say no. */
#define SKBTRAIL_OFF(f) __builtin_offsetof(struct sk_buff, f)
#define SKBTRAIL_MIN3(a, b, c) ((a) < (b) ? ((a) < (c) ? (a) : (c)) : ((b) < (c) ? (b) : (c)))
#define SKBTRAIL_MAX3(a, b, c) ((a) > (b) ? ((a) > (c) ? (a) : (c)) : ((b) > (c) ? (b) : (c)))
#define SKBTRAIL_SKB_SPAN_LO SKBTRAIL_MIN3(SKBTRAIL_OFF(protocol), SKBTRAIL_OFF(network_header), SKBTRAIL_OFF(head))
#define SKBTRAIL_SKB_SPAN_HI                                                                                 \
  SKBTRAIL_MAX3(SKBTRAIL_OFF(protocol) + 2, SKBTRAIL_OFF(network_header) + sizeof(((struct sk_buff *)0)->network_header), \
                SKBTRAIL_OFF(head) + 8)

static __always_inline int skbtrail_read_packet(struct sk_buff *skb, struct skbtrail_packet *pkt) {
  unsigned char *head = 0;
  __u16 proto_be = 0;
  __typeof__(skb->network_header) nh = 0;
  if (SKBTRAIL_SKB_SPAN_HI - SKBTRAIL_SKB_SPAN_LO <= 64) {
    unsigned char span[64];
    if (SKBTRAIL_READ_BYTES(span, SKBTRAIL_SKB_SPAN_HI - SKBTRAIL_SKB_SPAN_LO,
                            (unsigned char *)skb + SKBTRAIL_SKB_SPAN_LO) < 0)
      return 0;
    __builtin_memcpy(&head, span + (SKBTRAIL_OFF(head) - SKBTRAIL_SKB_SPAN_LO), sizeof(head));
    __builtin_memcpy(&proto_be, span + (SKBTRAIL_OFF(protocol) - SKBTRAIL_SKB_SPAN_LO), sizeof(proto_be));
    __builtin_memcpy(&nh, span + (SKBTRAIL_OFF(network_header) - SKBTRAIL_SKB_SPAN_LO), sizeof(nh));
  } else {
    SKBTRAIL_READ(head, &skb->head);
    SKBTRAIL_READ(proto_be, &skb->protocol);
    SKBTRAIL_READ(nh, &skb->network_header);
  }
  if (!head || nh == (__typeof__(nh))SKBTRAIL_HEADER_UNSET) return 0;

  unsigned char *l3 = head + nh;
  __u16 l3_proto = (proto_be >> 8) | ((proto_be & 0xff) << 8);
  if (l3_proto != ETH_P_IP && l3_proto != ETH_P_IPV6) {
    /* Locally built skbs may not have skb->protocol yet: trust the version
     * nibble of the network header instead. */
    __u8 version = 0;
    SKBTRAIL_READ(version, l3);
    if ((version >> 4) == 4)
      l3_proto = ETH_P_IP;
    else if ((version >> 4) == 6)
      l3_proto = ETH_P_IPV6;
    else
      return 0;
  }
  pkt->l3_proto = l3_proto;

  if (l3_proto == ETH_P_IP) {
    struct skbtrail_ipv4_l4_wire both = {};
    int whole = SKBTRAIL_READ(both, l3) == 0;  /* fails near the end of a page: then piece by piece */
    if (!whole && SKBTRAIL_READ(both.ip, l3) < 0) return 0;
    struct skbtrail_ipv4_wire ip = both.ip;
    pkt->saddr[0] = ip.saddr;
    pkt->daddr[0] = ip.daddr;
    /* Only the first fragment carries the L4 header (offset bits, 0x1fff).
     * Straight-line code on purpose: a shared tail can come out as a
     * backward jump, which verifiers before 5.3 reject (skbtrail check). */
    int have_l4 = whole && (ip.version_ihl & 0x0f) == 5;
    if (!have_l4 && (ip.frag_off & 0xff1f) == 0)
      have_l4 = SKBTRAIL_READ(both.l4, l3 + (ip.version_ihl & 0x0f) * 4) == 0;
    if (have_l4 && (ip.frag_off & 0xff1f) == 0) skbtrail_fill_l4(&both.l4, ip.protocol, pkt);
  } else {
    struct skbtrail_ipv6_wire ip6 = {};
    if (SKBTRAIL_READ(ip6, l3) < 0) return 0;
    __builtin_memcpy(pkt->saddr, ip6.saddr, sizeof(pkt->saddr));
    __builtin_memcpy(pkt->daddr, ip6.daddr, sizeof(pkt->daddr));
    /* Extension headers are not walked (no loops on old verifiers). */
    skbtrail_parse_l4(l3 + sizeof(ip6), ip6.nexthdr, pkt);
  }
  return 1;
}

static __always_inline void skbtrail_skb_device(struct sk_buff *skb, __u32 *ifindex, char *ifname) {
  struct net_device *dev = 0;
  SKBTRAIL_READ(dev, &skb->dev);
  if (!dev) return;
  SKBTRAIL_READ(*ifindex, &dev->ifindex);
  SKBTRAIL_READ_STR(ifname, SKBTRAIL_IFNAMSIZ, dev->name);
}

#define SKBTRAIL_ADDR_EQ(a, F) \
  ((a)[0] == F##0 && (a)[1] == F##1 && (a)[2] == F##2 && (a)[3] == F##3)

/* The filter the runner compiled in. Constants are raw network-order words
 * and ports, so no byte swapping happens here; unset filters compile away. */
static __always_inline int skbtrail_packet_matches(const struct skbtrail_packet *p) {
#ifdef SKBTRAIL_F_L3
  if (p->l3_proto != SKBTRAIL_F_L3) return 0;
#endif
#ifdef SKBTRAIL_F_L4
  if (p->l4_proto != SKBTRAIL_F_L4) return 0;
#endif
#ifdef SKBTRAIL_F_SADDR0
  if (!SKBTRAIL_ADDR_EQ(p->saddr, SKBTRAIL_F_SADDR)) return 0;
#endif
#ifdef SKBTRAIL_F_DADDR0
  if (!SKBTRAIL_ADDR_EQ(p->daddr, SKBTRAIL_F_DADDR)) return 0;
#endif
#ifdef SKBTRAIL_F_ADDR0
  if (!SKBTRAIL_ADDR_EQ(p->saddr, SKBTRAIL_F_ADDR) && !SKBTRAIL_ADDR_EQ(p->daddr, SKBTRAIL_F_ADDR))
    return 0;
#endif
#ifdef SKBTRAIL_F_SPORT
  if (p->sport != SKBTRAIL_F_SPORT) return 0;
#endif
#ifdef SKBTRAIL_F_DPORT
  if (p->dport != SKBTRAIL_F_DPORT) return 0;
#endif
#ifdef SKBTRAIL_F_PORT
  if (p->sport != SKBTRAIL_F_PORT && p->dport != SKBTRAIL_F_PORT) return 0;
#endif
#ifdef SKBTRAIL_F_ICMPID
  if ((p->l4_proto != SKBTRAIL_IPPROTO_ICMP && p->l4_proto != SKBTRAIL_IPPROTO_ICMPV6) ||
      p->icmp_id != SKBTRAIL_F_ICMPID)
    return 0;
#endif
#ifdef SKBTRAIL_F_TCPFLAGS
  if (p->l4_proto != SKBTRAIL_IPPROTO_TCP || !(p->tcp_flags & SKBTRAIL_F_TCPFLAGS)) return 0;
#endif
  return 1;
}

/* --ifname: the device name as two words, compared without a loop. */
static __always_inline int skbtrail_ifname_matches(const char *ifname) {
#ifdef SKBTRAIL_F_IFNAME0
  __u64 words[2];
  __builtin_memcpy(words, ifname, sizeof(words));
  return words[0] == SKBTRAIL_F_IFNAME0 && words[1] == SKBTRAIL_F_IFNAME1;
#else
  return 1;
#endif
}

/* Filters on the context rather than the packet. */
static __always_inline int skbtrail_context_matches(__u32 tgid, __u32 netns) {
#ifdef SKBTRAIL_F_PID
  if (tgid != SKBTRAIL_F_PID) return 0;
#endif
#ifdef SKBTRAIL_F_NETNS
  if (netns != SKBTRAIL_F_NETNS) return 0;
#endif
  return 1;
}

#ifdef SKBTRAIL_SNAPLEN
/* --pcap: the first SKBTRAIL_SNAPLEN bytes from the network header into
 * data (a per-CPU map value: the stack has no room for them). The read is
 * one fixed-size copy (old verifiers want constant sizes); cap_len then
 * says how many of those bytes are the packet's: no more than its linear
 * part (up to skb->tail) and its length. Paged data (GRO, GSO) is not
 * followed: such a packet is written truncated, with its true length. */
static __always_inline void skbtrail_capture_packet(struct sk_buff *skb, struct skbtrail_capture *cap, __u8 *data) {
  unsigned char *head = 0, *skb_data = 0;
  __typeof__(skb->network_header) nh = 0;
  __typeof__(skb->tail) tail = 0;
  __u32 len = 0;
  cap->cap_len = 0;
  cap->wire_len = 0;
  SKBTRAIL_READ(head, &skb->head);
  SKBTRAIL_READ(skb_data, &skb->data);
  SKBTRAIL_READ(nh, &skb->network_header);
  SKBTRAIL_READ(tail, &skb->tail);
  SKBTRAIL_READ(len, &skb->len);
  if (!head || nh == (__typeof__(nh))SKBTRAIL_HEADER_UNSET) return;
  unsigned char *l3 = head + nh;
  /* skb->len counts from skb->data, which is before the network header on
   * output once the link header is pushed, and past it on input once IP
   * has pulled its header (at tcp_v4_rcv, data is the TCP header). */
  __s64 from_data = (__s64)(l3 - skb_data);
  if (from_data > (__s64)len || from_data < -65535) return;
  __u32 wire = (__u32)((__s64)len - from_data);
  /* skb->tail (sk_buff_data_t) is an offset from head on 64-bit kernels
   * (NET_SKBUFF_DATA_USES_OFFSET), the only ones skbtrail runs on. */
  __u64 linear = (__u64)tail > nh ? (__u64)tail - nh : 0;
  __u32 cap_len = wire < SKBTRAIL_SNAPLEN ? wire : SKBTRAIL_SNAPLEN;
  if (linear < cap_len) cap_len = (__u32)linear;
  if (SKBTRAIL_READ_BYTES(data, SKBTRAIL_SNAPLEN, l3) < 0) cap_len = 0;
  cap->cap_len = cap_len;
  cap->wire_len = wire;
}
#endif

#endif /* SKBTRAIL_SKB_BPF_H */
