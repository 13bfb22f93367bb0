/* A user program for `skbtrail exec`: BCC auto-attach by name. Reports each
 * call of tcp_v4_send_reset (the kernel answering a segment with a RST)
 * through a perf buffer and through bpf_trace_printk. */
struct rst_event {
  u32 pid;
  u32 marker;
};

BPF_PERF_OUTPUT(rst_events);

int kprobe__tcp_v4_send_reset(struct pt_regs *ctx) {
  struct rst_event ev = {};
  ev.pid = bpf_get_current_pid_tgid() >> 32;
  ev.marker = 0x52535421; /* "!TSR" in memory: 21 54 53 52 */
  rst_events.perf_submit(ctx, &ev, sizeof(ev));
  bpf_trace_printk("skbtrail-exec: tcp_v4_send_reset\n");
  return 0;
}
