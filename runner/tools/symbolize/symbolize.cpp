#include "runner/tools/symbolize/symbolize.h"

#include "runner/bpf/llvm_plugin.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

int run_symbolize(const SymbolizeOptions& options) { return llvm_plugin().run_symbolize(options); }

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
