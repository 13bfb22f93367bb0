#include "runner/tools/options.h"

#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/kernel/abi.h"
#include "runner/tools/manual/manual.h"

namespace skbtrail {

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
      ("bundle", po::value<std::string>()->value_name("FILE|DIR"),
       "run what skbtrail bundle compiled into FILE (or the bundle in DIR that fits this kernel and these "
       "options): no headers, no compiler")
      ("no-cache", po::bool_switch(), "compile even when the compile cache has the program")
      ("help,h", "this help");
  return d;
}

po::options_description pcap_options() {
  po::options_description d("packets");
  d.add_options()
      ("pcap", po::value<std::string>()->value_name("FILE"),
       "also write each packet to FILE as pcapng (Wireshark, tshark), with a comment saying what happened to it")
      ("snaplen", po::value<std::string>()->value_name("N"),
       "with --pcap: bytes kept per packet from its network header (default 128, at most 4096)");
  return d;
}

PcapOptions pcap_options_of(const po::variables_map& vm) {
  PcapOptions p;
  if (vm.count("pcap")) {
    p.path = text_of(vm, "pcap");
    if (p.path.empty()) throw UsageError("--pcap '': give the file to write (e.g. --pcap drops.pcapng)");
  }
  if (vm.count("snaplen")) {
    if (p.path.empty()) throw UsageError("--snaplen: only with --pcap FILE");
    const uint64_t n = parse_positive("--snaplen", text_of(vm, "snaplen"));
    if (n < 20 || n > 4096)
      throw UsageError(fmt::format("--snaplen {}: out of range (20 for an IPv4 header .. 4096)", n));
    p.snaplen = static_cast<uint32_t>(n);
  }
  return p;
}

std::vector<std::string> pcap_cflags(const KernelFacts& facts, const PcapOptions& pcap) {
  if (pcap.path.empty()) return {};
  // The event and its bytes are built in a per-CPU map value (the stack has
  // 512 bytes); helpers write map values only since 4.11, and RHEL 7's
  // backport never took it.
  if (!abi::helpers_take_map_values(facts.abi()))
    throw EnvironmentError(fmt::format("--pcap: this kernel ({}) cannot copy packet bytes into BPF map memory "
                                       "(helpers take map values from 4.11; RHEL 7 lacks it): run without --pcap, "
                                       "and capture with tcpdump alongside",
                                       facts.kernel().release));
  return {fmt::format("-DSKBTRAIL_SNAPLEN={}", pcap.bpf_snaplen())};
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

po::variables_map parse_options(const std::string& command, const std::vector<std::string>& args,
                                const po::options_description& options,
                                const po::positional_options_description& positional) {
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

RunOptions run_options_of(const po::variables_map& vm) {
  RunOptions r;
  r.headers = header_options(vm);
  r.json = vm["json"].as<bool>();
  r.verbose = vm["verbose"].as<bool>();
  r.bpf_stats = vm["bpf-stats"].as<bool>();
  r.cache = !vm["no-cache"].as<bool>();
  if (vm.count("bundle")) {
    r.bundle = text_of(vm, "bundle");
    if (!r.headers.kernel_headers.empty() || r.headers.mode != HeaderMode::Auto)
      throw UsageError("--bundle with --headers/--kernel-headers: a bundle needs no headers (leave them out)");
  }
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
  if (vm.count("pid")) f.pid = parse_u32_option("--pid", text_of(vm, "pid"), "1234");
  if (vm.count("netns")) f.netns = parse_u32_option("--netns", text_of(vm, "netns"), "4026531840");
  validate(f);
  return f;
}

std::string help_text(const std::string& usage, const po::options_description& options, const std::string& examples) {
  if (help_format() == HelpFormat::Roff) return roff_page(usage, options, examples);
  std::ostringstream out;
  out << usage << "\n" << options << examples;
  return out.str();
}

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

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

}  // namespace skbtrail
