/* The dispatch floor for bench/overhead.sh (mode S3): the tracepoints
 * `skbtrail trace` uses on a kernel without kprobes, each with a program that
 * does nothing. What remains is the kernel's cost of calling BPF at all. */
TRACEPOINT_PROBE(net, netif_receive_skb) { return 0; }
TRACEPOINT_PROBE(net, netif_rx) { return 0; }
TRACEPOINT_PROBE(net, net_dev_queue) { return 0; }
TRACEPOINT_PROBE(net, net_dev_start_xmit) { return 0; }
TRACEPOINT_PROBE(skb, kfree_skb) { return 0; }
TRACEPOINT_PROBE(skb, consume_skb) { return 0; }
