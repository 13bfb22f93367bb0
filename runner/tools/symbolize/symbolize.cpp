#include "runner/tools/symbolize/symbolize.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/tools/options.h"
#include "runner/kernel/kallsyms.h"
#include "symbolize/kernel_symbols.h"

namespace skbtrail {

namespace {

// KASLR: where _text really is, if this vmlinux is the running kernel.
void apply_runtime_slide(symbolize::KernelSymbols& symbols, const SymbolizeOptions& options) {
  if (!options.release.empty()) return;
  std::ifstream notes_file("/sys/kernel/notes", std::ios::binary);
  const std::string notes{std::istreambuf_iterator<char>(notes_file), std::istreambuf_iterator<char>()};
  Kallsyms kallsyms;
  try {
    kallsyms = Kallsyms::load();
  } catch (const std::exception&) {
    return;  // no kallsyms: addresses are taken as they are
  }
  if (const auto runtime = kallsyms.address_of("_text"); runtime && *runtime)
    symbols.set_runtime_text(*runtime, symbolize::build_id_from_notes(notes));
}

int run_symbolize(const SymbolizeOptions& options) {
  if (options.args.empty())
    throw UsageError("symbolize: give frames (tcp_v4_rcv+0x99/0x9b0, 0xffffffff81a2b099) or - to read text from stdin");
  std::unique_ptr<symbolize::KernelSymbols> symbols;
  try {
    symbols = std::make_unique<symbolize::KernelSymbols>(
        symbolize::KernelSymbolsOptions{options.vmlinux, options.release, options.modules_dir});
  } catch (const symbolize::SymbolizeError& e) {
    throw EnvironmentError(std::string("symbolize: ") + e.what());
  }

  if (options.args.size() == 1 && options.args[0] == "-") {
    try {
      apply_runtime_slide(*symbols, options);
    } catch (const symbolize::SymbolizeError&) {
      // Raw addresses are not annotated from text anyway; func+off still works.
    }
    symbolize::Options lookup;
    lookup.return_address = !options.exact;  // stack frames are return addresses
    for (std::string line; std::getline(std::cin, line);) std::cout << symbols->annotate(line, lookup) << '\n';
    return 0;
  }

  int failures = 0;
  bool first = true;
  bool slide_applied = false;
  for (const auto& arg : options.args) {
    const auto frame = symbolize::parse_frame(arg);
    if (!frame) {
      std::fprintf(stderr, "skbtrail: %s: not a frame (expected func+0xoff, func+0xoff/0xsize, \"func+0xoff [module]\" "
                           "or a 0x address)\n", arg.c_str());
      ++failures;
      continue;
    }
    try {
      if (frame->address && !slide_applied) {
        slide_applied = true;
        try {
          apply_runtime_slide(*symbols, options);
        } catch (const symbolize::SymbolizeError& e) {
          std::fprintf(stderr, "skbtrail: note: %s; taking raw addresses as link-time addresses\n", e.what());
        }
      }
      for (const auto& resolution : symbols->resolve(*frame, symbolize::Options{})) {
        if (!first) std::cout << '\n';  // faddr2line separates entries with a blank line
        first = false;
        std::cout << symbolize::format(resolution);
      }
    } catch (const symbolize::SymbolizeError& e) {
      std::fprintf(stderr, "skbtrail: %s\n", e.what());
      ++failures;
    }
  }
  return failures ? kExitFailure : 0;
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

class SymbolizeTool : public Tool {
 public:
  std::string_view name() const override { return "symbolize"; }
  std::string_view summary() const override {
    return "func+0xoff or addresses to file:line with inline chains (faddr2line)";
  }

  Command parse(const std::vector<std::string>& args) const override {
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
    const auto vm = parse_options("symbolize", args, symbolize, positional);
    if (vm.count("help")) return Command::show(help_text(kSymbolizeText, symbolize, ""));
    SymbolizeOptions o;
    o.vmlinux = text_of(vm, "vmlinux");
    o.modules_dir = text_of(vm, "modules");
    o.release = text_of(vm, "kernel-release");
    o.exact = vm["exact"].as<bool>();
    if (vm.count("frame")) o.args = vm["frame"].as<std::vector<std::string>>();
    return Command::run(std::move(o), &run_symbolize);
  }
};

}  // namespace

const Tool& symbolize_tool() {
  static const SymbolizeTool tool;
  return tool;
}

}  // namespace skbtrail
