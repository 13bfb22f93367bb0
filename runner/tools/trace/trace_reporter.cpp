#include "runner/tools/trace/trace_reporter.h"

#include <fmt/format.h>

#include "runner/bpf/map_reads.h"
#include "runner/output/netfilter_names.h"
#include "runner/output/text.h"
#include "runner/tools/trace/trace.h"

namespace skbtrail {

TraceReporter::TraceReporter(const TracePlan& plan, const AddressNamer& names, ValueNames drop_reasons,
                             const TraceOptions& options, const RuleSet* drop_rules)
    : plan_(plan), names_(names), drop_reasons_(std::move(drop_reasons)), options_(options), drop_rules_(drop_rules) {}

std::string TraceReporter::hop_text(const skbtrail_trace_event& ev, const std::string& name) const {
  switch (ev.kind) {
    case SKBTRAIL_TRACE_DROP: {
      const std::string& location = names_.describe(ev.location);
      std::string reason = drop_reasons_.size() ? drop_reasons_.name_or_number(ev.reason) : std::string();
      // Without reasons (< 5.17) the location stands in: ~NO_SOCKET, as drop says it.
      if (reason.empty() && drop_rules_)
        if (const std::string pseudo = drop_rules_->pseudo_reason_of(location.substr(0, location.find('+')));
            !pseudo.empty())
          reason = "~" + pseudo;
      return fmt::format("{} {}at {} (packet dropped)", name, reason.empty() ? "" : reason + " ", location);
    }
    case SKBTRAIL_TRACE_NF: {
      std::string verdict = ev.verdict == 1   ? "ACCEPT"
                            : ev.verdict == -1 ? "NF_DROP (packet dropped by netfilter)"
                            : ev.verdict < 0   ? fmt::format("NF_DROP errno {} (packet dropped by netfilter)", -ev.verdict)
                                               : "STOLEN/QUEUED";
      return fmt::format("{} {} {} {}", name, netfilter_family_name(ev.nf_pf), netfilter_hook_name(ev.nf_hook), verdict);
    }
    case SKBTRAIL_TRACE_IPT:
      return fmt::format("{} {}.{}.{}.{}", name, ev.nf_pf, fixed_string(ev.table), netfilter_hook_name(ev.nf_hook),
                         netfilter_verdict_name(ev.verdict));
    case SKBTRAIL_TRACE_NFT: {
      // The verdict's low byte is NF_*; NF_DROP_ERR and NF_QUEUE_NR put an
      // errno or a queue number above it. Kernels with NF_DROP_REASON (6.x,
      // Debian's 6.1 stable too) free a dropped skb in nft_do_chain itself,
      // with reason NETFILTER_DROP, and return NF_STOLEN with the errno above
      // it: that is the rule's DROP, not a stolen packet.
      const int code = ev.verdict & 0xff;
      const bool dropped_here = code == 2 && (static_cast<uint32_t>(ev.verdict) >> 16) != 0;
      const std::string verdict = dropped_here ? "DROP" : netfilter_verdict_name(code);
      if (plan_.nft_family_is_the_tables)
        return fmt::format("{} {} {} {} {}", name, nftables_family_name(ev.nf_pf), fixed_string(ev.table),
                           fixed_string(ev.chain), verdict);
      return fmt::format("{} {} {} {} ({} hook)", name, fixed_string(ev.table), fixed_string(ev.chain), verdict,
                         netfilter_family_name(ev.nf_pf));
    }
    default: return name;
  }
}

void TraceReporter::report(const skbtrail_trace_event& ev, std::span<const uint64_t> stack, Output& out) {
  ++events_;
  const PlannedHop* hop = ev.probe_id < plan_.hops.size() ? &plan_.hops[ev.probe_id] : nullptr;
  const std::string name = hop ? (hop->spec.tracepoint ? hop->spec.event() : hop->function) : "?";
  const std::string text = hop_text(ev, name);
  const std::string explanation =
      options_.explain && hop ? fmt::format("[{}] {}", hop->spec.layer, hop->spec.description) : std::string();
  TraceRecord record{&ev,
                     name,
                     hop ? std::string_view(hop->spec.layer) : std::string_view(),
                     text,
                     ev.kind == SKBTRAIL_TRACE_DROP ? std::string_view(names_.describe(ev.location)) : std::string_view(),
                     explanation,
                     options_.keep && ev.skbaddr != last_skb_,
                     options_.boot_seconds ? TraceClock::BootSeconds
                     : options_.date       ? TraceClock::Date
                                           : TraceClock::TimeOfDay,
                     {&names_, stack}};
  last_skb_ = ev.skbaddr;
  out.write(record);
  // Netfilter returns carry no bytes (the skb may be gone): their packet
  // is the one at the hop before.
  if (const CapturedBytes packet = captured_bytes(trailing(), snaplen_); pcap_ && !packet.bytes.empty())
    pcap_->write({out.clock().wall_ns(ev.ts_ns), fixed_string(ev.ifname), ev.ifindex, ev.netns, packet.bytes,
                  packet.wire_len,
                  fmt::format("{}; dev {}; netns {}; skb {:x}", text,
                              ev.ifname[0] ? std::string(fixed_string(ev.ifname)) : "-", ev.netns, ev.skbaddr)});
}

void TraceReporter::end(Output& out) {
  if (pcap_ && !pcap_->flush()) fmt::print(stderr, "skbtrail trace: {}\n", pcap_->error());
  if (!options_.keep || !table_fd_) return;
  // Counters first, then the entries: probes still run, so an skb followed
  // in between counts as following, not as evicted.
  const auto counts = read_percpu_u64_sums(table_fd_("tracked_skbs_counts"), SKBTRAIL_KEEP_COUNTS);
  const auto following = count_entries(table_fd_("tracked_skbs"), sizeof(uint64_t));
  if (!counts || !following) return;  // no per-CPU arrays (before 4.6): nothing counted
  KeepTableRecord r;
  r.capacity = SKBTRAIL_KEEP_ENTRIES;
  r.following = *following;
  r.inserted = (*counts)[SKBTRAIL_KEEP_INSERTED];
  r.deleted = (*counts)[SKBTRAIL_KEEP_DELETED];
  r.refused = (*counts)[SKBTRAIL_KEEP_REFUSED];
  r.evicted = r.inserted > r.deleted + r.following ? r.inserted - r.deleted - r.following : 0;
  out.write(r);
}

}  // namespace skbtrail
