// skbtrail symbolize: faddr2line's job, in the LLVM plugin.
#include "runner/llvm/plugin_parts.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/kernel/kallsyms.h"
#include "runner/kernel/kernel_info.h"
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
    symbols.set_runtime_text(*runtime, build_id_from_notes(notes));
}

}  // namespace

int symbolize_command(const SymbolizeOptions& options) {
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


}  // namespace skbtrail
