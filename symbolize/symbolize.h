// faddr2line for skbtrail: "func+0xoff/0xsize" or raw (KASLR) addresses to
// file:line with the whole inline chain, for vmlinux and module .ko files,
// on LLVM's DWARF symbolizer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail::symbolize {

struct SymbolizeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One frame as kernels print it: "func+0x1a/0x2b", "func.isra.0+0x10",
// "nf_hook_slow+0x44 [nf_tables]", or a raw address "0xffffffff81a2b099".
struct FrameRef {
  std::string function;           // empty for a raw address
  std::string offset_text;        // as written ("0x1a"), kept for the output header
  uint64_t offset = 0;
  std::optional<uint64_t> size;   // the "/0x2b" part
  std::string module;             // "nf_tables", empty for vmlinux
  std::optional<uint64_t> address;  // raw runtime address
};

// Parses one token; nullopt when it is not a frame.
std::optional<FrameRef> parse_frame(std::string_view text);

// Frames inside free text (an oops, dmesg, a runner stack): where each is.
struct FrameInText {
  size_t begin = 0;
  size_t end = 0;  // one past the frame (and its " [module]" if any)
  FrameRef ref;
};
std::vector<FrameInText> find_frames(std::string_view line);

struct SourceLine {
  std::string function;
  std::string file;  // build-directory prefix already stripped
  uint32_t line = 0;
  uint32_t discriminator = 0;
};

// One symbol that matched a frame: "func+0xoff/0xsize:" and its chain,
// innermost function first.
struct Resolution {
  std::string header;
  std::vector<SourceLine> chain;
};

struct Options {
  bool return_address = false;  // stack frames: look up off-1 (the call, not the return)
};

// One ELF image with its symbols and DWARF: a vmlinux or a module .ko.
class Image {
 public:
  // Throws SymbolizeError naming the file: missing, not ELF, no symbols.
  static std::unique_ptr<Image> open(const std::string& path);
  virtual ~Image() = default;

  // faddr2line semantics: every symbol of that name whose size (the distance
  // to the next symbol) holds the offset, and matches /size when given.
  // Throws SymbolizeError when nothing matches (with the reason).
  virtual std::vector<Resolution> resolve(const FrameRef& frame, const Options& options) const = 0;
  // A link-time address (KASLR slide already removed).
  virtual Resolution resolve_address(uint64_t address, const Options& options) const = 0;
  // The link-time address of _text, for the KASLR slide; nullopt when absent.
  virtual std::optional<uint64_t> text_address() const = 0;
  virtual bool has_debug_info() const = 0;
  virtual std::string build_id() const = 0;  // hex, empty when none
};

// faddr2line's output for one resolution:
//   func+0x1a/0x2b:
//   leaf at net/ipv4/tcp.c:12
//    (inlined by) outer at net/ipv4/tcp.c:40
std::string format(const Resolution& resolution);

}  // namespace skbtrail::symbolize
