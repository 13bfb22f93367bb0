#include "runner/cli.h"

#include <charconv>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "programs/bundled.h"
#include "runner/errors.h"
#include "runner/profiles.h"
#include "runner/rules.h"
#include "runner/trace.h"

namespace skbtrail {

namespace po = boost::program_options;

namespace {

constexpr const char* kTopUsage = R"(skbtrail: where a packet went inside the Linux kernel, and why it died

usage: skbtrail COMMAND [OPTIONS]

commands:
  drop      watch packet drops: tuple, drop reason, location, stack
  rst       every TCP RST sent or received, with its cause, evidence and advice
  trace     the path of matching packets through the stack, hop by hop
  symbolize func+0xoff or addresses to file:line with inline chains (faddr2line)
  doctor    what this kernel offers and what each command can use
  exec      run your own BCC-style C program (kprobe__fn, TRACEPOINT_PROBE, ...)
  check     would the programs load on an older kernel (compat lint: 3.10 RHEL 7, 4.x, 5.x)
  run NAME  a named profile: command + probe list + options (skbtrail run rst, run iptables, ...)
  list      the profiles and the canned bpftrace scripts, with what each needs

Run 'skbtrail COMMAND --help' for a command's options and examples.
)";

constexpr const char* kDropExamples = R"(
examples:
  skbtrail drop                                all drops on this host
  skbtrail drop --dport 9 -c 1 --json          first drop to port 9, as JSON
  skbtrail drop -H 10.0.0.2 --proto tcp --stack   TCP drops to/from 10.0.0.2, with kernel stacks
  skbtrail drop -N 4026532290 --duration 30s   drops in one network namespace for 30 s
  skbtrail drop --headers btf                  force the BTF-generated headers
  skbtrail drop --diag                         why each drop happened, and what to do; analysis at exit
  skbtrail drop --diag-quiet --rules my.rules  only abnormal drops, with your own rules first

Drop reasons (5.17+) are named from the kernel's own tracepoint format; on
older kernels the REASON column is '-' and the location tells the story.
Exit: 0 normally, 2 for bad input or a missing prerequisite, 1 on failure.
)";

constexpr const char* kDoctorText = R"(usage: skbtrail doctor [OPTIONS]

Lists what this kernel offers a BCC tracer (BTF, headers, kprobes, tracefs,
kallsyms, tracepoints, bpf() permission), which headers skbtrail would use,
compiles the drop program as a smoke test, and shows what each command will
use or lack, with the fix for every missing piece. Exits 1 when nothing can run.
)";

po::options_description kernel_options() {
  po::options_description d("kernel and headers");
  d.add_options()
      ("headers", po::value<std::string>()->value_name("MODE"),
       "auto (default), headers (the running kernel's) or btf (generated from BTF)")
      ("kernel-headers", po::value<std::string>()->value_name("DIR"),
       "a foreign headers tree (unpacked kernel-devel / linux-headers)")
      ("kernel-release", po::value<std::string>()->value_name("REL"), "the release that --kernel-headers is for")
      ("kernel-version-code", po::value<std::string>()->value_name("N|X.Y.Z"),
       "override LINUX_VERSION_CODE (e.g. Ubuntu 4.15.0 kernels report 4.15.18)")
      ("force-headers", po::bool_switch(), "use headers whose release differs from the running kernel")
      ("cache-dir", po::value<std::string>()->value_name("DIR"),
       "where BTF-generated headers are cached (default /var/cache/skbtrail)");
  return d;
}

po::options_description run_options() {
  po::options_description d("output and run");
  d.add_options()
      ("json", po::bool_switch(), "one JSON object per line")
      ("count,c", po::value<std::string>()->value_name("N"), "stop after N events")
      ("duration", po::value<std::string>()->value_name("TIME"), "stop after TIME (10, 10s, 500ms, 2m)")
      ("perf-pages", po::value<std::string>()->value_name("N"), "perf ring pages per CPU, a power of two (default 64)")
      ("verbose,v", po::bool_switch(), "say more about headers and probes")
      ("bpf-stats", po::bool_switch(), "at exit, what each BPF program cost the kernel (ns per run; 5.8+)")
      ("symbolize", po::value<std::string>()->implicit_value("")->value_name("VMLINUX"),
       "add file:line and inline chains to locations and stacks (vmlinux with DWARF; default: the -dbg package's)")
      ("help,h", "this help");
  return d;
}

po::options_description filter_options() {
  po::options_description d("filters (applied in the kernel)");
  d.add_options()
      ("addr,H", po::value<std::string>()->value_name("IP"), "source or destination address (IPv4 or IPv6)")
      ("saddr", po::value<std::string>()->value_name("IP"), "source address")
      ("daddr", po::value<std::string>()->value_name("IP"), "destination address")
      ("port,P", po::value<std::string>()->value_name("PORT"), "source or destination port")
      ("sport", po::value<std::string>()->value_name("PORT"), "source port")
      ("dport", po::value<std::string>()->value_name("PORT"), "destination port")
      ("proto", po::value<std::string>()->value_name("P"), "tcp, udp, icmp, icmp6 or any")
      ("pid,p", po::value<std::string>()->value_name("PID"), "process (tgid) the packet was handled in")
      ("netns,N", po::value<std::string>()->value_name("INODE"), "network namespace inode (ls -l /proc/PID/ns/net)");
  return d;
}

po::variables_map parse(const std::string& command, const std::vector<std::string>& args,
                        const po::options_description& options,
                        const po::positional_options_description& positional = {}) {
  po::variables_map vm;
  try {
    // An explicit (by default empty) positional description makes a stray
    // word an error instead of being silently ignored.
    const auto parsed = po::command_line_parser(args).options(options).positional(positional).run();
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    throw UsageError(fmt::format("unknown option '{}' for 'skbtrail {}' (see skbtrail {} --help)", e.get_option_name(),
                                 command, command));
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError(fmt::format("'skbtrail {}' takes no positional arguments (see skbtrail {} --help)", command,
                                 command));
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} (see skbtrail {} --help)", e.what(), command));
  }
  return vm;
}

std::string text_of(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

uint64_t parse_positive(const std::string& option, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0)
    throw UsageError(fmt::format("{} '{}': not a positive whole number (e.g. {} 10)", option, text, option));
  return value;
}

HeaderOptions header_options(const po::variables_map& vm) {
  HeaderOptions h;
  if (vm.count("headers")) h.mode = parse_header_mode(text_of(vm, "headers"));
  h.kernel_headers = text_of(vm, "kernel-headers");
  h.kernel_release = text_of(vm, "kernel-release");
  h.force = vm["force-headers"].as<bool>();
  h.cache_root = text_of(vm, "cache-dir");
  if (vm.count("kernel-version-code")) {
    const std::string text = text_of(vm, "kernel-version-code");
    std::optional<uint32_t> code;
    if (text.find('.') != std::string::npos) {
      code = parse_version_code(text);
    } else {
      uint32_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec == std::errc() && end == text.data() + text.size()) code = value;
    }
    if (!code || *code == 0)
      throw UsageError(fmt::format("--kernel-version-code '{}': use a number (266002) or X.Y.Z (4.15.18)", text));
    h.version_code = code;
  }
  if ((!h.kernel_release.empty() || h.force) && h.kernel_headers.empty())
    throw UsageError(fmt::format("{} describes a --kernel-headers DIR tree: add --kernel-headers DIR",
                                 h.force ? "--force-headers" : "--kernel-release"));
  if (!h.kernel_headers.empty() && h.mode == HeaderMode::Btf)
    throw UsageError("--headers btf with --kernel-headers: choose one (drop --headers btf to use the directory)");
  return h;
}

RunOptions run_opts(const po::variables_map& vm) {
  RunOptions r;
  r.headers = header_options(vm);
  r.json = vm["json"].as<bool>();
  r.verbose = vm["verbose"].as<bool>();
  r.bpf_stats = vm["bpf-stats"].as<bool>();
  if (vm.count("symbolize")) r.symbolize = text_of(vm, "symbolize");
  if (vm.count("count")) r.count = parse_positive("--count", text_of(vm, "count"));
  if (vm.count("duration")) r.duration = parse_duration_option(text_of(vm, "duration"));
  if (vm.count("perf-pages")) {
    const uint64_t pages = parse_positive("--perf-pages", text_of(vm, "perf-pages"));
    if ((pages & (pages - 1)) != 0 || pages > 4096)
      throw UsageError(fmt::format("--perf-pages '{}': must be a power of two up to 4096 (e.g. 64)", pages));
    r.perf_pages = static_cast<int>(pages);
  }
  return r;
}

PacketFilter packet_filter(const po::variables_map& vm) {
  PacketFilter f;
  if (vm.count("addr")) f.addr = parse_address_option("--addr", text_of(vm, "addr"));
  if (vm.count("saddr")) f.saddr = parse_address_option("--saddr", text_of(vm, "saddr"));
  if (vm.count("daddr")) f.daddr = parse_address_option("--daddr", text_of(vm, "daddr"));
  if (vm.count("port")) f.port = parse_port_option("--port", text_of(vm, "port"));
  if (vm.count("sport")) f.sport = parse_port_option("--sport", text_of(vm, "sport"));
  if (vm.count("dport")) f.dport = parse_port_option("--dport", text_of(vm, "dport"));
  if (vm.count("proto")) f.proto = parse_proto_option(text_of(vm, "proto"));
  if (vm.count("pid")) f.pid = parse_u32_option("--pid", text_of(vm, "pid"));
  if (vm.count("netns")) f.netns = parse_u32_option("--netns", text_of(vm, "netns"));
  validate(f);
  return f;
}

std::string help_text(const std::string& usage, const po::options_description& options, const char* examples) {
  std::ostringstream out;
  out << usage << "\n" << options << examples;
  return out.str();
}

Command parse_drop(const std::vector<std::string>& args) {
  po::options_description drop("drop");
  drop.add_options()
      ("stack", po::bool_switch(), "print the kernel stack of every drop")
      ("no-summary", po::bool_switch(), "no counts by reason and location at exit")
      ("diag", po::bool_switch(), "explain each drop (cause, advice) from scripts/drop.rules; analysis result at exit")
      ("diag-quiet", po::bool_switch(), "like --diag, but print only abnormal (warn/error) drops")
      ("rules", po::value<std::vector<std::string>>()->value_name("FILE"), "more diagnosis rules, tried first")
      ("record", po::value<std::string>()->value_name("FILE"), "also write the raw samples to FILE")
      ("replay", po::value<std::string>()->value_name("FILE"), "print a --record file instead of tracing (no kernel)")
      ("replay-repeat", po::value<std::string>()->value_name("N"), "feed the recording N times (benchmarks)");
  po::options_description all;
  all.add(filter_options()).add(drop).add(run_options()).add(kernel_options());
  const auto vm = parse("drop", args, all);
  if (vm.count("help"))
    return ShowText{help_text("usage: skbtrail drop [OPTIONS]\n\nEvery packet the kernel drops (skb:kfree_skb), with "
                              "time, process, netns, device, tuple, TCP flags, drop reason and location.",
                              all, kDropExamples)};
  DropOptions o;
  o.filter = packet_filter(vm);
  o.run = run_opts(vm);
  o.stack = vm["stack"].as<bool>();
  o.summary = !vm["no-summary"].as<bool>();
  o.diag_quiet = vm["diag-quiet"].as<bool>();
  o.diag = vm["diag"].as<bool>() || o.diag_quiet;
  if (vm.count("rules")) {
    if (!o.diag) throw UsageError("--rules: diagnosis rules need --diag (or --diag-quiet)");
    o.rule_files = vm["rules"].as<std::vector<std::string>>();
  }
  if (vm.count("record")) o.record = text_of(vm, "record");
  if (vm.count("replay")) {
    o.replay = text_of(vm, "replay");
    if (!o.record.empty()) throw UsageError("--record with --replay: a replay has nothing new to record");
    if (!o.filter.empty()) throw UsageError("--replay: filters run in the kernel at record time; record with them");
  }
  if (vm.count("replay-repeat")) {
    if (o.replay.empty()) throw UsageError("--replay-repeat: only with --replay FILE");
    o.replay_repeat = static_cast<uint32_t>(parse_positive("--replay-repeat", text_of(vm, "replay-repeat")));
  }
  return o;
}

constexpr const char* kExecExamples = R"(
examples:
  skbtrail exec tests/programs/kprobe_rst.bpf.c -c 1      first RST-sending call
  skbtrail exec my.c -D PORT=443 --duration 10s           with a -D define, for 10 s

Function names attach like BCC's Python front end does: kprobe__FN,
kretprobe__FN, tracepoint__CAT__NAME (or TRACEPOINT_PROBE(CAT, NAME)),
raw_tracepoint__NAME (or RAW_TRACEPOINT_PROBE(NAME)). bpf_trace_printk()
lines come from trace_pipe; BPF_PERF_OUTPUT samples are printed in hex.
)";

Command parse_exec(const std::vector<std::string>& args) {
  po::options_description exec("exec");
  exec.add_options()
      ("define,D", po::value<std::vector<std::string>>()->value_name("NAME[=VALUE]"), "a -D for the program")
      ("file", po::value<std::string>(), "the BCC C program");
  po::options_description all;
  all.add(exec).add(run_options()).add(kernel_options());
  po::positional_options_description positional;
  positional.add("file", 1);
  const auto vm = parse("exec", args, all, positional);
  if (vm.count("help"))
    return ShowText{help_text("usage: skbtrail exec FILE.c [OPTIONS]\n\nCompiles a BCC-style C program for this "
                              "kernel, attaches its probes by name and streams what it prints.",
                              all, kExecExamples)};
  if (!vm.count("file")) throw UsageError("exec: no program given (skbtrail exec FILE.c)");
  ExecOptions o;
  o.file = text_of(vm, "file");
  o.run = run_opts(vm);
  if (vm.count("define"))
    for (const auto& d : vm["define"].as<std::vector<std::string>>()) o.cflags.push_back("-D" + d);
  return o;
}

constexpr const char* kTraceExamples = R"(
examples:
  skbtrail trace --proto icmp -H 10.0.0.2 --icmpid 22    one ping's path (mytracer: --proto=icmp -H .. --icmpid 22)
  skbtrail trace --proto tcp -H 10.0.0.2 -P 80           a TCP flow's path (mytracer: --proto=tcp -H .. -P 80)
  skbtrail trace --proto udp --saddr 10.0.0.1 --dport 53 -T   UDP from one host to port 53, with dates
  skbtrail trace --proto tcp --daddr 10.0.0.2 --sport 40000 -t   seconds since boot instead of the clock
  skbtrail trace --proto tcp -H 10.0.0.2 --iptable       + iptables table/chain verdicts (2.filter.OUTPUT.DROP)
  skbtrail trace --proto tcp -P 8080 --callstack         + the kernel stack of every hop
  skbtrail trace --proto tcp -P 8080 --dropstack         + the stack of drops only
  skbtrail trace -H 10.0.0.2 --keep                      follow matched skbs through NAT until freed
  skbtrail trace -p 1234 -N 4026532290 --explain         one process, one netns, each hop explained
  skbtrail trace --ifname veth0 --tcp-flags SR           SYN or RST segments on veth0
  skbtrail trace --proto icmp6 -H fd00::2 --json -c 20   IPv6 ping, 20 events as JSON lines
  skbtrail trace --proto any -P 53 --duration 30s        DNS over UDP or TCP for 30 s
  skbtrail trace --probes ip_rcv,tcp_v4_rcv --add-probe ip_route_input_noref:arg1
  skbtrail trace --probes @my.probes --exclude nf_hook_slow
  skbtrail trace --list-probes                           the built-in hop list
  mytracer's -t -T -p 1 -P 80 -H 127.0.0.1 --proto=tcp --callstack -N 10000 is the same here.

Columns: [time][netns] ifname dst-MAC packet skb.pkt_type:hop, where packet is
T_FLAGS:src:port->dst:port (TCP), U:src:port->dst:port (UDP) or
I_request/I_reply:src->dst id= seq= (ICMP). nf_hook_slow shows the family,
hook and verdict; ipt_do_table shows pf.table.CHAIN.VERDICT; drops show the
reason (5.17+) and location. Functions missing on this kernel are named once
at start and skipped; without kprobes, tracepoint hops stand in.
)";

// --ifname and --tcp-flags: only trace and rst read the device and the flags.
po::options_description device_options(const char* ifname_help, const char* flags_help) {
  po::options_description device("device and flags");
  device.add_options()
      ("ifname", po::value<std::string>()->value_name("DEV"), ifname_help)
      ("tcp-flags", po::value<std::string>()->value_name("SAFRPU"), flags_help);
  return device;
}

void apply_device_options(const po::variables_map& vm, PacketFilter& filter) {
  if (vm.count("ifname")) filter.ifname = parse_ifname_option(text_of(vm, "ifname"));
  if (vm.count("tcp-flags")) {
    filter.tcp_flags = parse_tcp_flags_option(text_of(vm, "tcp-flags"));
    if (filter.proto != L4Protocol::Any && filter.proto != L4Protocol::Tcp)
      throw UsageError("--tcp-flags with a non-TCP --proto: nothing can match (use --proto tcp)");
  }
}

Command parse_trace(const std::vector<std::string>& args) {
  po::options_description trace("trace");
  trace.add_options()
      ("icmpid", po::value<std::string>()->value_name("ID"), "only ICMP echo with this id")
      ("iptable", po::bool_switch(), "iptables (legacy) verdicts per table and chain via ipt_do_table")
      ("callstack", po::bool_switch(), "kernel stack on every event")
      ("dropstack", po::bool_switch(), "kernel stack on drops")
      ("keep", po::bool_switch(), "follow a matched skb until it is freed (NAT, clones); group events per skb")
      ("explain", po::bool_switch(), "annotate each hop with its layer and what the function does")
      ("time,T", po::bool_switch(), "date and time with microseconds")
      ("timestamp,t", po::bool_switch(), "seconds since boot with microseconds instead of the clock")
      ("probes", po::value<std::string>()->value_name("a,b|@FILE"), "only these hops, or the list in FILE")
      ("add-probe", po::value<std::vector<std::string>>()->value_name("FUNC[:argN]"), "also trace FUNC (skb in argN)")
      ("exclude", po::value<std::string>()->value_name("a,b"), "leave these hops out")
      ("list-probes", po::bool_switch(), "print the hop list and exit");
  po::options_description all;
  all.add(filter_options())
      .add(device_options("only packets on this device", "only TCP segments with any of these flags"))
      .add(trace)
      .add(run_options())
      .add(kernel_options());
  const auto vm = parse("trace", args, all);
  if (vm.count("help"))
    return ShowText{help_text("usage: skbtrail trace [OPTIONS]\n\nEvery kernel function a matching packet passes, "
                              "with netfilter verdicts, drops and stacks (mytracer-style).",
                              all, kTraceExamples)};
  TraceOptions o;
  o.filter = packet_filter(vm);
  o.run = run_opts(vm);
  apply_device_options(vm, o.filter);
  if (vm.count("icmpid")) {
    o.icmp_id = parse_port_option("--icmpid", text_of(vm, "icmpid"));
    if (o.filter.proto == L4Protocol::Tcp || o.filter.proto == L4Protocol::Udp)
      throw UsageError("--icmpid with --proto tcp/udp: nothing can match (use --proto icmp or icmp6)");
  }
  o.hops.iptables = vm["iptable"].as<bool>();
  o.callstack = vm["callstack"].as<bool>();
  o.dropstack = vm["dropstack"].as<bool>();
  o.keep = vm["keep"].as<bool>();
  o.explain = vm["explain"].as<bool>();
  o.date = vm["time"].as<bool>();
  o.boot_seconds = vm["timestamp"].as<bool>();
  if (o.date && o.boot_seconds) throw UsageError("-T and -t: choose one clock (-T dates, -t seconds since boot)");
  o.list_probes = vm["list-probes"].as<bool>();
  auto split = [](const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');)
      if (!part.empty()) parts.push_back(part);
    return parts;
  };
  if (vm.count("probes")) {
    const std::string probes = text_of(vm, "probes");
    if (probes.starts_with("@")) o.probes_file = probes.substr(1);
    else o.hops.only = split(probes);
    if (o.probes_file.empty() && o.hops.only.empty())
      throw UsageError("--probes '': name hops (--probes ip_rcv,tcp_v4_rcv) or a file (--probes @my.probes)");
  }
  if (vm.count("add-probe"))
    for (const auto& added : vm["add-probe"].as<std::vector<std::string>>()) o.hops.added.push_back(parse_added_probe(added));
  if (vm.count("exclude")) o.hops.exclude = split(text_of(vm, "exclude"));
  return o;
}

constexpr const char* kSymbolizeText = R"(usage: skbtrail symbolize [OPTIONS] FRAME... | -

faddr2line, built in: each FRAME (func+0xoff, func+0xoff/0xsize,
func.isra.0+0x10, "func+0x44 [module]", or a raw KASLR address 0xffff...)
becomes file:line with the whole inline chain, in faddr2line's format. With
-, any text on stdin (a runner stack, an oops, dmesg) is copied with every
func+0xoff annotated in place; those frames are return addresses, so off-1
is looked up unless --exact.

examples:
  skbtrail symbolize tcp_v4_rcv+0x99/0x9b0
  skbtrail symbolize --vmlinux ./vmlinux "nft_do_chain+0x46f [nf_tables]"
  dmesg | skbtrail symbolize -
  skbtrail drop --stack | skbtrail symbolize -
)";

Command parse_symbolize(const std::vector<std::string>& args) {
  po::options_description symbolize("symbolize");
  symbolize.add_options()
      ("vmlinux", po::value<std::string>()->value_name("PATH"), "vmlinux with DWARF (default: the -dbg package's)")
      ("modules", po::value<std::string>()->value_name("DIR"), "where module .ko files with DWARF live")
      ("kernel-release", po::value<std::string>()->value_name("REL"), "symbolize for another release than the running one")
      ("exact", po::bool_switch(), "with -: take offsets as they are (no return-address adjustment)")
      ("help,h", "this help")
      ("frame", po::value<std::vector<std::string>>(), "frames");
  po::positional_options_description positional;
  positional.add("frame", -1);
  const auto vm = parse("symbolize", args, symbolize, positional);
  if (vm.count("help")) return ShowText{help_text(kSymbolizeText, symbolize, "")};
  SymbolizeOptions o;
  o.vmlinux = text_of(vm, "vmlinux");
  o.modules_dir = text_of(vm, "modules");
  o.release = text_of(vm, "kernel-release");
  o.exact = vm["exact"].as<bool>();
  if (vm.count("frame")) o.args = vm["frame"].as<std::vector<std::string>>();
  return o;
}

Command parse_rst(const std::vector<std::string>& args) {
  po::options_description rst("rst");
  rst.add_options()
      ("rules", po::value<std::vector<std::string>>()->value_name("FILE"), "more rules, tried before the built-in ones")
      ("stack", po::bool_switch(), "print the whole kernel stack of every RST")
      ("no-summary", po::bool_switch(), "no analysis result at exit");
  po::options_description all;
  all.add(filter_options())
      .add(device_options("only RSTs answering a segment that came in on DEV (socket resets: the device of "
                          "the socket's route)",
                          "only RSTs answering a segment with any of these flags (S: answers to SYNs); socket "
                          "resets match R"))
      .add(rst)
      .add(run_options())
      .add(kernel_options());
  const auto vm = parse("rst", args, all);
  if (vm.count("help")) {
    std::string causes = "\ncauses it knows (scripts/rst.rules, first match wins):\n";
    const RuleSet built_in = RuleSet::load("rst.rules", {});  // named: a temporary would die before the loop
    for (const auto& rule : built_in.rules())
      causes += fmt::format("  [{}] {}: {}\n", rule.name, rule.level, rule.cause.substr(0, rule.cause.find(':')));
    return ShowText{help_text("usage: skbtrail rst [OPTIONS]\n\nEvery TCP RST this host sends or receives "
                              "(tcp_v4/v6_send_reset, tcp_send_active_reset, nf_send_reset for REJECT, tcp_reset; "
                              "the tcp:tcp_send_reset/tcp_receive_reset tracepoints where kprobes are missing), "
                              "with tuple, netns, TCP state, process and stack, classified into a cause with its "
                              "evidence and advice.",
                              all, "") +
                    causes +
                    "\nexamples:\n  skbtrail rst                          every RST, classified\n"
                    "  skbtrail rst -P 8080 --stack          RSTs on port 8080 with their stacks\n"
                    "  skbtrail rst --json -c 1 --dport 9    the first RST answering port 9, as JSON\n"
                    "  skbtrail rst --rules my.rules         your own causes first\n"
                    "  skbtrail rst --symbolize              the key frame with file:line\n"
                    "  skbtrail rst --tcp-flags S            only RSTs answering SYNs (closed ports, REJECT)\n"
                    "  skbtrail rst --ifname eth0            only RSTs for segments that came in on eth0\n"};
  }
  RstOptions o;
  o.filter = packet_filter(vm);
  apply_device_options(vm, o.filter);
  o.run = run_opts(vm);
  if (vm.count("rules")) o.rule_files = vm["rules"].as<std::vector<std::string>>();
  o.stack = vm["stack"].as<bool>();
  o.summary = !vm["no-summary"].as<bool>();
  return o;
}

Command parse_check(const std::vector<std::string>& args) {
  po::options_description check("check");
  check.add_options()
      ("kernel", po::value<std::vector<std::string>>()->value_name("X.Y"),
       "a kernel to check for (repeatable; default 3.10 4.4 4.9 4.14 4.19 5.4; 3.10 means RHEL 7.6+)")
      ("program", po::value<std::vector<std::string>>()->value_name("FILE.c"),
       "check this BCC program instead of the bundled ones (repeatable)")
      ("verbose,v", po::bool_switch(), "every BPF function, not only the offenders");
  po::options_description all;
  all.add(check).add(kernel_options());
  const auto vm = parse("check", args, all);
  if (vm.count("help"))
    return ShowText{help_text(
        "usage: skbtrail check [--kernel X.Y]... [--program FILE.c]...\n\nCompiles each bundled program with the "
        "configuration the runner would give it on that kernel (against this host's headers) and reads its "
        "bytecode back: instructions per BPF function, helpers called, bpf-to-bpf calls, loops, global data, "
        "jmp32, stack depth, map and program types. These are compared with scripts/bpf-compat.data (first "
        "kernel of each helper, map and program type; the verifier's size limit; RHEL 7's backport set). "
        "Exits 1 naming each function that would not load.",
        all,
        "\nexamples:\n  skbtrail check                          the CI matrix: 3.10 4.4 4.9 4.14 4.19 5.4\n"
        "  skbtrail check --kernel 4.9 -v          every function with its size, stack and helpers\n"
        "  skbtrail check --kernel 4.14 --program my.bpf.c   your own program\n")};
  CheckOptions o;
  o.headers = header_options(vm);
  if (vm.count("kernel")) {
    o.kernels = vm["kernel"].as<std::vector<std::string>>();
    for (const auto& k : o.kernels) parse_compat_target(k);  // reject bad versions before compiling anything
  }
  if (vm.count("program")) o.programs = vm["program"].as<std::vector<std::string>>();
  o.verbose = vm["verbose"].as<bool>();
  return o;
}

Command parse_doctor(const std::vector<std::string>& args) {
  po::options_description doctor("doctor");
  doctor.add_options()("no-compile", po::bool_switch(), "skip the compile smoke test")("help,h", "this help");
  po::options_description all;
  all.add(doctor).add(kernel_options());
  const auto vm = parse("doctor", args, all);
  if (vm.count("help")) return ShowText{help_text(kDoctorText, all, "")};
  DoctorOptions o;
  o.headers = header_options(vm);
  o.compile = !vm["no-compile"].as<bool>();
  return o;
}

}  // namespace

std::chrono::milliseconds parse_duration_option(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, text.data() + text.size() - end);
  uint64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "ms") scale = 1;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  if (ec != std::errc() || scale == 0 || value == 0 || value > 1'000'000'000ull)
    throw UsageError(fmt::format("--duration '{}': use a positive time such as 10, 10s, 500ms, 2m or 1h", text));
  return std::chrono::milliseconds(value * scale);
}

Command parse_command_line(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("no command given (try skbtrail drop, or skbtrail --help)");
  const std::string& command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") return ShowText{kTopUsage};
  if (command == "--version" || command == "version") return ShowText{"skbtrail " SKBTRAIL_VERSION "\n"};
  if (command == "drop") return parse_drop(rest);
  if (command == "doctor") return parse_doctor(rest);
  if (command == "exec") return parse_exec(rest);
  if (command == "trace") return parse_trace(rest);
  if (command == "symbolize") return parse_symbolize(rest);
  if (command == "rst") return parse_rst(rest);
  if (command == "check") return parse_check(rest);
  if (command == "run") {
    if (rest.empty() || rest.front().starts_with("-"))
      throw UsageError("run: give a profile name (skbtrail run rst; skbtrail list shows them)");
    return parse_command_line(expand_profile(rest.front(), {rest.begin() + 1, rest.end()}));
  }
  if (command == "list") {
    if (rest.empty()) return ShowText{list_text()};
    if (rest.size() == 2 && rest[0] == "--print") {
      for (const auto& s : bundled_bpftrace_scripts())
        if (s.name == rest[1]) return ShowText{std::string(programs::bundled_text(s.name))};
      throw UsageError(fmt::format("list --print '{}': no such bpftrace script (skbtrail list names them)", rest[1]));
    }
    throw UsageError("list: takes nothing, or --print NAME.bt");
  }
  throw UsageError(fmt::format("unknown command '{}' (commands: drop, rst, trace, symbolize, doctor, exec, check, run, list; see "
                               "skbtrail --help)",
                               command));
}

}  // namespace skbtrail
