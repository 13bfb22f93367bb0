// The option groups tracing commands share (filters, output and run,
// kernel and headers) and the parse step every command goes through, so
// each bad input is reported the same way: one line naming it and the fix.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "runner/bpf/filter.h"
#include "runner/kernel/facts.h"
#include "runner/session/run_options.h"

namespace skbtrail {

namespace po = boost::program_options;

po::options_description filter_options();
po::options_description run_options();
po::options_description kernel_options();
// --ifname and --tcp-flags: only trace and rst read the device and the flags.
po::options_description device_options(const char* ifname_help, const char* flags_help);

// --pcap FILE and --snaplen N (drop, rst, trace).
struct PcapOptions {
  std::string path;       // "" without --pcap
  uint32_t snaplen = 128; // bytes from the network header
  // The snap length the BPF side copies: snaplen rounded up to 8 (fixed-size
  // reads; the writer cuts to snaplen).
  uint32_t bpf_snaplen() const { return (snaplen + 7) / 8 * 8; }
};
po::options_description pcap_options();
// The -D flag that makes a program send packet bytes (none without --pcap);
// throws EnvironmentError where the kernel cannot (before 4.11).
std::vector<std::string> pcap_cflags(const KernelFacts& facts, const PcapOptions& pcap);
PcapOptions pcap_options_of(const po::variables_map& vm);

// Parses args for `skbtrail COMMAND`; a stray word is an error unless a
// positional description takes it. Throws UsageError.
po::variables_map parse_options(const std::string& command, const std::vector<std::string>& args,
                                const po::options_description& options,
                                const po::positional_options_description& positional = {});

std::string text_of(const po::variables_map& vm, const char* name);
uint64_t parse_positive(const std::string& option, const std::string& text);

HeaderOptions header_options(const po::variables_map& vm);
RunOptions run_options_of(const po::variables_map& vm);
PacketFilter packet_filter(const po::variables_map& vm);
void apply_device_options(const po::variables_map& vm, PacketFilter& filter);

// usage, the options, then examples.
std::string help_text(const std::string& usage, const po::options_description& options, const std::string& examples);

// "10", "10s", "500ms", "2m", "1h" -> milliseconds; throws UsageError.
std::chrono::milliseconds parse_duration_option(const std::string& text);

// "a,b,c" -> {a, b, c}, empty parts dropped.
std::vector<std::string> split_list(const std::string& text);

}  // namespace skbtrail
