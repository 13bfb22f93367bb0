#include "runner/drop.h"

#include <bcc/BPF.h>
#include <bcc/libbpf.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "runner/bpf_program.h"
#include "runner/bpf_stats.h"
#include "runner/errors.h"
#include "runner/event_loop.h"
#include "runner/kallsyms.h"
#include "runner/recording.h"
#include "runner/stacks.h"
#include "symbolize/kernel_symbols.h"

namespace skbtrail {

namespace {
constexpr int kStackEntries = 4096;
}  // namespace

std::vector<ProbeSpec> drop_probes(bool with_kprobe_fallback) {
  ProbeSpec spec{"kfree_skb", {{ProbeKind::Tracepoint, "skb:kfree_skb", "tracepoint__skb__kfree_skb"}}, true};
  if (with_kprobe_fallback) spec.choices.push_back({ProbeKind::Kprobe, "kfree_skb", "skbtrail_kprobe_kfree_skb"});
  return {spec};
}

std::vector<std::string> drop_program_cflags(const DropOptions& options, const TracepointFormat& format) {
  std::vector<std::string> flags = filter_cflags(options.filter);
  if (format.field("reason")) flags.push_back("-DSKBTRAIL_HAVE_DROP_REASON=1");
  if (options.nf_context) flags.push_back("-DSKBTRAIL_NF_CONTEXT=1");
  if (options.kfree_kprobe) flags.push_back("-DSKBTRAIL_KFREE_KPROBE=1");
  if (options.stack) {
    flags.push_back("-DSKBTRAIL_WANT_STACK=1");
    flags.push_back(fmt::format("-DSKBTRAIL_STACK_ENTRIES={}", kStackEntries));
  }
  return flags;
}

bool decode_drop_event(std::span<const uint8_t> sample, skbtrail_drop_event& event) {
  // perf pads samples to 8 bytes, so a sample may be longer, never shorter.
  if (sample.size() < sizeof(event)) return false;
  std::memcpy(&event, sample.data(), sizeof(event));
  return true;
}

DropReporter::DropReporter(const AddressNamer& names, ValueNames reasons, bool has_reason, MonotonicToWall clock,
                           bool json)
    : names_(names), reasons_(std::move(reasons)), has_reason_(has_reason), clock_(clock), json_(json) {}

std::string DropReporter::header() const {
  if (json_) return {};
  return fmt::format("{:<15} {:<16} {:>7} {:>10} {:<8} {:<6} {:<47} {:<11} {:<22} {}\n", "TIME", "COMM", "PID",
                     "NETNS", "IFACE", "PROTO", "SOURCE -> DESTINATION", "FLAGS", "REASON", "LOCATION");
}

const std::string& DropReporter::reason_name(uint32_t reason) const {
  if (const auto it = reason_names_.find(reason); it != reason_names_.end()) return it->second;
  return reason_names_.emplace(reason, has_reason_ ? reasons_.name_or_number(reason) : std::string()).first->second;
}

namespace {
std::string function_of(const std::string& frame) { return frame.substr(0, frame.find('+')); }
constexpr const char* kHookNames[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
}  // namespace

DropReporter::Diagnosis DropReporter::diagnose(const skbtrail_drop_event& ev, const std::string& reason,
                                               const std::string& location, std::span<const uint64_t> stack) const {
  Diagnosis d;
  if (!rules_) return d;
  RuleFacts f;
  f.values = {{"source", "kfree_skb"}, {"reason", reason}, {"location", function_of(location)}};
  for (const uint64_t ip : stack) f.stack.push_back(function_of(names_.kallsyms().describe(ip)));
  std::string chain = "-";
  if (ev.nf_valid) {
    chain = ev.nf_hook < 5 ? kHookNames[ev.nf_hook] : fmt::format("hook{}", ev.nf_hook);
    f.values["hook"] = chain;
    // nf_hook_slow frees the skb itself only for an NF_DROP verdict (REJECT
    // too); other frees inside a hook (defrag, a stolen skb) are not verdicts.
    if (f.values["location"] == "nf_hook_slow") f.values["verdict"] = "DROP";
  }
  f.vars = packet_placeholders(ev.pkt);
  f.vars.insert({{"netns", std::to_string(ev.netns)},
            {"reason", reason.empty() ? "-" : reason},
            {"reason_suffix", reason.empty() ? "" : " (reason " + reason + ")"},
            {"location", location},
            {"ifname", std::string(fixed_string(ev.ifname, sizeof(ev.ifname)))},
            {"comm", std::string(fixed_string(ev.comm, sizeof(ev.comm)))},
            {"chain", chain},
            {"chain_suffix", ev.nf_valid ? fmt::format(" in the {} chain ({})", chain, ev.nf_pf == 10 ? "ipv6" : "ipv4")
                                         : ""}});
  d.rule = rules_->match(f);
  if (d.rule) {
    d.cause = expand_placeholders(d.rule->cause, f.vars);
    d.advice = expand_placeholders(d.rule->advice, f.vars);
  }
  return d;
}

void DropReporter::append_event(std::string& out, const skbtrail_drop_event& ev, std::span<const uint64_t> stack) {
  ++events_;
  const std::string& location = names_.describe(ev.location);
  const std::string& reason = reason_name(ev.reason);
  ++by_reason_location_[{ev.reason, ev.location}];
  const Diagnosis diag = rules_ ? diagnose(ev, reason, location, stack) : Diagnosis{};
  if (diag.rule) {
    auto& entry = by_cause_[diag.rule->name];
    if (!entry.count) entry = {diag.rule, diag.cause, diag.advice, 0};
    ++entry.count;
    if (quiet_ && !is_abnormal(*diag.rule)) return;  // counted, not printed
  }
  const std::string_view comm = fixed_string(ev.comm, sizeof(ev.comm));
  const std::string_view ifname = fixed_string(ev.ifname, sizeof(ev.ifname));
  const std::string flags = ev.pkt.l4_proto == 6 ? tcp_flags_text(ev.pkt.tcp_flags) : std::string();

  if (!json_) {
    // The header's columns, appended piece by piece: no temporary strings per event.
    clock_.append_time_of_day(out, ev.ts_ns);
    out += ' ';
    append_padded(out, comm, 16);
    out += ' ';
    append_padded_right(out, fmt::format_int(ev.pid).c_str(), 7);
    out += ' ';
    append_padded_right(out, fmt::format_int(ev.netns).c_str(), 10);
    out += ' ';
    append_padded(out, ifname.empty() ? "-" : ifname, 8);
    out += ' ';
    append_padded(out, packet_proto_name(ev.pkt), 6);
    out += ' ';
    const size_t tuple_start = out.size();
    append_packet_tuple(out, ev.pkt);
    if (const size_t n = out.size() - tuple_start; n < 47) out.append(47 - n, ' ');
    out += ' ';
    append_padded(out, flags.empty() ? "-" : flags, 11);
    out += ' ';
    append_padded(out, reason.empty() ? "-" : reason, 22);
    out += ' ';
    out += location;
    out += '\n';
    if (diag.rule) {
      fmt::format_to(std::back_inserter(out), "    diag [{}] {}\n", diag.rule->level, diag.cause);
      if (!diag.advice.empty()) fmt::format_to(std::back_inserter(out), "    advice {}\n", diag.advice);
    }
    append_stack_text(out, names_, stack);
    return;
  }

  out += "{\"type\":\"drop\",\"time\":";
  clock_.append_iso8601(out, ev.ts_ns);
  out += ",\"ts_ns\":";
  append_uint(out, ev.ts_ns);
  out += ",\"comm\":";
  append_json_string(out, comm);
  out += ",\"pid\":";
  append_uint(out, ev.pid);
  out += ",\"tid\":";
  append_uint(out, ev.tid);
  out += ",\"netns\":";
  append_uint(out, ev.netns);
  out += ",\"ifindex\":";
  append_uint(out, ev.ifindex);
  out += ",\"ifname\":";
  append_json_string(out, ifname);
  append_json_packet(out, ev.pkt);
  if (has_reason_) {
    out += ",\"reason\":";
    append_json_string(out, reason);
    out += ",\"reason_code\":";
    append_uint(out, ev.reason);
  }
  out += ",\"location\":";
  append_json_string(out, location);
  char skb[2 + 16];
  const auto end = fmt::format_to_n(skb, sizeof(skb), "0x{:x}", ev.skbaddr).out;
  out += ",\"skb\":\"";
  out.append(skb, end);
  out += '"';
  if (diag.rule) {
    out += ",\"diag\":{\"rule\":";
    append_json_string(out, diag.rule->name);
    out += ",\"level\":";
    append_json_string(out, diag.rule->level);
    out += ",\"cause\":";
    append_json_string(out, diag.cause);
    out += ",\"advice\":";
    append_json_string(out, diag.advice);
    out += '}';
  }
  append_stack_json(out, names_, stack);
  out += "}\n";
}

void DropReporter::append_lost(std::string& out, int cpu, uint64_t count) {
  lost_ += count;
  append_lost_line(out, json_, cpu, count);
}

void DropReporter::append_summary(std::string& out) const {
  std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>> rows;
  for (const auto& [key, count] : by_reason_location_)
    rows.push_back({{reason_name(key.first), names_.describe(key.second)}, count});
  std::sort(rows.begin(), rows.end());  // the order names give, as before
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (json_) {
    fmt::format_to(std::back_inserter(out), "{{\"type\":\"summary\",\"drops\":{},\"lost\":{},\"by_reason_location\":[",
                   events_, lost_);
    for (size_t i = 0; i < rows.size(); ++i) {
      out += i ? ",{\"reason\":" : "{\"reason\":";
      append_json_string(out, rows[i].first.first);
      out += ",\"location\":";
      append_json_string(out, rows[i].first.second);
      fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", rows[i].second);
    }
    out += "]}\n";
    return;
  }
  fmt::format_to(std::back_inserter(out), "\n--- {} drops{} ---\n", events_,
                 lost_ ? fmt::format(", {} lost", lost_) : std::string());
  if (rules_ && !by_cause_.empty()) {
    std::vector<const CauseCount*> causes;
    for (const auto& [name, entry] : by_cause_) causes.push_back(&entry);
    std::stable_sort(causes.begin(), causes.end(), [](const CauseCount* a, const CauseCount* b) {
      return is_abnormal(*a->rule) != is_abnormal(*b->rule) ? is_abnormal(*a->rule) : a->count > b->count;
    });
    out += "analysis result:\n";
    for (const auto* c : causes) {
      fmt::format_to(std::back_inserter(out), "{:>8}  [{}] {}: {}\n", c->count, c->rule->level, c->rule->name,
                     c->example_cause);
      if (!c->advice.empty()) fmt::format_to(std::back_inserter(out), "          advice: {}\n", c->advice);
    }
  }
  if (rows.empty()) return;
  fmt::format_to(std::back_inserter(out), "{:>8}  {:<26} {}\n", "COUNT", "REASON", "LOCATION");
  for (const auto& [key, count] : rows)
    fmt::format_to(std::back_inserter(out), "{:>8}  {:<26} {}\n", count, key.first.empty() ? "-" : key.first,
                   key.second);
}

namespace {

// Resolves enum tokens the kernel left symbolic; drop reasons are numeric on
// every kernel that has them, so nothing is needed for now.
ValueNames drop_reason_names(const TracepointFormat& format) {
  if (const auto* table = format.symbolic_for("reason")) return ValueNames(*table);
  return {};
}

}  // namespace

namespace {

// --replay: the user-space half of a run on recorded samples. Names come from
// this host (kallsyms, the tracepoint's reason names) when it can read them.
int replay_drop(const DropOptions& options) {
  const Recording recording = read_recording(options.replay, "drop", sizeof(skbtrail_drop_event));
  const Kallsyms kallsyms = Kallsyms::load();
  std::optional<TracepointFormat> format;
  if (const KernelInfo kernel = probe_kernel({.mount_tracefs = false, .check_bpf = false});
      kernel.has_tracepoint("skb", "kfree_skb"))
    format = read_tracepoint_format(kernel.tracepoint_format("skb", "kfree_skb"));
  const bool has_reason = format && format->field("reason");
  const RuleSet rules = RuleSet::load("drop.rules", options.diag ? options.rule_files : std::vector<std::string>{});

  EventLoop loop;
  const auto symbols = open_symbols_or_explain(options.run.symbolize, "drop");
  const AddressNamer names(kallsyms, symbols.get());
  DropReporter reporter(names, format ? drop_reason_names(*format) : ValueNames(), has_reason, MonotonicToWall(),
                        options.run.json);
  if (options.diag) reporter.diagnose_with(&rules, options.diag_quiet);
  StackMap stacks(-1);  // stack ids of a recording point into a map that is gone
  BatchedOutput output(loop);
  std::string& out = output.buffer();
  out = reporter.header();
  const auto handle_sample = reporting_handler(loop, reporter, out, stacks, options.run.count, &decode_drop_event);

  const auto start = std::chrono::steady_clock::now();
  uint64_t fed = 0;
  for (uint32_t round = 0; round < options.replay_repeat && loop.stop_reason().empty() && !output.failed(); ++round)
    for (const auto& sample : recording.samples) {
      handle_sample(sample);
      // A perf wakeup delivers samples in batches; flush like the live loop does.
      if (++fed % 256 == 0) output.flush();
      if (!loop.stop_reason().empty() || output.failed()) break;
    }
  if (options.summary && !output.failed()) reporter.append_summary(out);
  output.flush();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "skbtrail drop: replayed %llu samples from %s in %.3f s (%.0f events/s)\n",
               static_cast<unsigned long long>(fed), options.replay.c_str(), seconds,
               seconds > 0 ? static_cast<double>(fed) / seconds : 0.0);
  return 0;
}

}  // namespace

int run_drop(const DropOptions& options) {
  if (!options.replay.empty()) return replay_drop(options);
  Session session = open_session(options.run.headers, "drop");
  const TracepointFormat format = read_tracepoint_format(session.kernel.tracepoint_format("skb", "kfree_skb"));
  // /proc/kallsyms parses on another core while BCC compiles: the tracepoint
  // path needs it only to name locations (bench/startup.sh).
  std::future<Kallsyms> kallsyms_loading = std::async(std::launch::async, [] { return Kallsyms::load(); });
  std::optional<Kallsyms> kallsyms_loaded;
  auto kallsyms = [&]() -> const Kallsyms& {
    if (!kallsyms_loaded) kallsyms_loaded.emplace(kallsyms_loading.get());
    return *kallsyms_loaded;
  };
  const bool has_reason = format.field("reason") != nullptr;

  const RuleSet rules = RuleSet::load("drop.rules", options.diag ? options.rule_files : std::vector<std::string>{});
  if (options.stack) require_bpf_stack_maps(session.kernel, "--stack");
  DropOptions effective = options;
  effective.kfree_kprobe = !has_bpf_tracepoints(session.kernel) && session.kernel.has_kprobes;
  std::vector<ProbeSpec> probes = drop_probes(effective.kfree_kprobe);
  // --diag names the netfilter chain of a drop where kprobes exist.
  const ProbeTarget nf_enter{ProbeKind::Kprobe, "nf_hook_slow", "skbtrail_nf_hook_slow_enter"};
  if (options.diag && !unavailable_reason(nf_enter, session.kernel, &kallsyms())) {
    effective.nf_context = true;
    probes.push_back({"nf_hook_slow", {nf_enter}, false});
    probes.push_back({"nf_hook_slow (return)",
                      {{ProbeKind::Kretprobe, "nf_hook_slow", "skbtrail_nf_hook_slow_return"}},
                      false});
  }
  BpfProgram program({"drop.bpf.c", drop_program_cflags(effective, format), session.headers, {}});
  const auto outcomes = attach_probes(program, probes, session.kernel, effective.kfree_kprobe ? &kallsyms() : nullptr);

  EventLoop loop;
  const auto symbols = open_symbols_or_explain(options.run.symbolize, "drop");
  const AddressNamer names(kallsyms(), symbols.get());
  DropReporter reporter(names, drop_reason_names(format), has_reason, MonotonicToWall(), options.run.json);
  if (options.diag) reporter.diagnose_with(&rules, options.diag_quiet);
  StackMap stacks(options.stack ? program.table_fd("drop_stacks") : -1);
  BatchedOutput output(loop);
  std::string& out = output.buffer();
  out = reporter.header();

  const auto report_sample = reporting_handler(loop, reporter, out, stacks, options.run.count, &decode_drop_event);
  std::optional<SampleRecorder> recorder;
  if (!options.record.empty()) recorder.emplace(options.record, "drop", sizeof(skbtrail_drop_event));
  auto handle_sample = [&](std::span<const uint8_t> sample) {
    // Only what is reported is recorded: a -c N run replays as N events.
    if (recorder && (!options.run.count || reporter.events() < *options.run.count)) recorder->write(sample);
    report_sample(sample);
  };
  auto flush = [&] { output.flush(); };
  const BpfStatsScope bpf_stats(options.run.bpf_stats);

  PerfEventStream stream(loop, program.table_fd("drop_events"), options.run.perf_pages, handle_sample,
                         [&](int cpu, uint64_t lost) { reporter.append_lost(out, cpu, lost); });
  stream.on_batch_end(flush);
  if (options.run.duration) loop.stop_after(*options.run.duration);

  std::string attached;
  for (const auto& outcome : outcomes)
    if (outcome.attached) attached += (attached.empty() ? "" : ", ") + outcome.attached->describe();
  std::fprintf(stderr, "skbtrail drop: attached %s (header mode %s%s); filter: %s; Ctrl-C to stop\n", attached.c_str(),
               session.headers.mode.c_str(), has_reason ? "" : ", kernel has no drop reasons",
               describe(options.filter).c_str());
  if (options.run.verbose)
    std::fprintf(stderr, "skbtrail drop: headers: %s\n", session.headers.description.c_str());
  flush();

  loop.run();
  if (loop.stop_reason() != "count reached" && !output.failed()) stream.drain();
  if (options.summary && !output.failed()) reporter.append_summary(out);
  flush();
  bpf_stats.report("drop", options.run.json);
  if (options.run.verbose) std::fprintf(stderr, "skbtrail drop: stopped: %s\n", loop.stop_reason().c_str());
  return 0;
}

}  // namespace skbtrail
