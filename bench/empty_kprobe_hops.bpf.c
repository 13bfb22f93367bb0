/* The dispatch floor for bench/overhead.sh --kprobes (mode S3, in the VM):
 * the functions the kprobe modes trace (overhead.sh's KPROBE_HOPS), each
 * with a program that does nothing. */
int kprobe____netif_receive_skb(struct pt_regs *ctx) { return 0; }
int kprobe__ip_rcv(struct pt_regs *ctx) { return 0; }
int kprobe__ip_local_deliver(struct pt_regs *ctx) { return 0; }
int kprobe__udp_rcv(struct pt_regs *ctx) { return 0; }
int kprobe__ip_output(struct pt_regs *ctx) { return 0; }
int kprobe____dev_queue_xmit(struct pt_regs *ctx) { return 0; }
