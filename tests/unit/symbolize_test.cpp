// Symbolization against fixtures built here with gcc: a mini "vmlinux"
// linked at a kernel address (3-deep inline chain, two static functions of
// the same name, an asm function with an inner label) in DWARF 4, DWARF 5 and
// zlib-compressed flavours, and a fake module (.ko, ld -r) whose .text and
// .init.text both start at 0. Every answer must equal addr2line's.
#include "symbolize/kernel_symbols.h"
#include "symbolize/symbolize.h"
#include "runner/kernel/kallsyms.h"
#include "runner/kernel/kernel_info.h"
#include "runner/llvm/plugin_parts.h"
#include "runner/output/address_namer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

namespace skbtrail::symbolize {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe.get())) > 0;) out.append(buf, n);
  return out;
}

std::string fmt_hex(uint64_t value);

class Fixtures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* tool : {"gcc", "addr2line", "nm", "ld", "objcopy"})
      if (run(std::string("command -v ") + tool).empty()) return;
    dir_ = fs::temp_directory_path() / ("skbtrail-symbolize-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "inl.c") <<
        "static inline __attribute__((always_inline)) int leaf(volatile int *p, int x) { *p = x * 3; return *p + 1; }\n"
        "static inline __attribute__((always_inline)) int middle(volatile int *p, int x) { int y = leaf(p, x); *p = y; return y + 2; }\n"
        "volatile int sink;\n"
        "__attribute__((noinline)) int outer(int x) { int r = middle(&sink, x); sink = r; return r ^ 5; }\n"
        "static __attribute__((noinline, used)) int dup(int x) { sink = x; return x + 1; }\n"
        "int call_a(int x) { return dup(x) + outer(x); }\n";
    std::ofstream(dir_ / "dup2.c") <<
        "volatile int sink2;\n"
        "static __attribute__((noinline, used)) int dup(int x) { sink2 = x; sink2 = x * 7; sink2 = x * 9;\n"
        "  sink2 = x * 11; return x + sink2; }\n"
        "int call_b(int x) { return dup(x); }\n";
    std::ofstream(dir_ / "asmf.S") << "  .text\n  .globl asm_func\n  .type asm_func,@function\nasm_func:\n  nop\n  nop\n"
                                      "asm_inner_label:\n  nop\n  ret\n  .size asm_func, .-asm_func\n";
    std::ofstream(dir_ / "mod.c") <<
        "static inline __attribute__((always_inline)) int mleaf(volatile int *p, int x) { *p = x + 1; return *p; }\n"
        "volatile int msink;\n"
        "__attribute__((noinline)) int mod_work(int x) { return mleaf(&msink, x) * 2; }\n"
        "__attribute__((section(\".init.text\"), noinline)) int mod_init(int x) { msink = x; return mleaf(&msink, x); }\n";
    const std::string link = " -O2 -mcmodel=kernel -fno-pie -no-pie -nostdlib -static -Wl,-Ttext=0xffffffff81000000 "
                             "-Wl,--defsym=_text=0xffffffff81000000 -Wl,-e,call_a inl.c dup2.c asmf.S 2>/dev/null";
    const std::string cd = "cd '" + dir_.string() + "' && ";
    built_ = run(cd + "gcc -gdwarf-4" + link + " -o vmlinux4 && gcc -gdwarf-5" + link + " -o vmlinux5 && gcc -gdwarf-5" +
                 link + " -Wl,--compress-debug-sections=zlib -o vmlinuxz && objcopy --strip-all vmlinux5 stripped && "
                 "gcc -c -g -O2 -mcmodel=kernel -fno-pie -o mod.o mod.c && ld -r -o fake.ko mod.o && echo ok") == "ok\n";
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    // tools/setup.sh installs gcc and binutils: a missing fixture is a failure, not a skip.
    ASSERT_TRUE(built_) << "the fixtures did not build (gcc/binutils missing?) in " << dir_;
  }

  // addr2line's answer, normalized: fixture dir, discriminators and "//" gone.
  static std::string addr2line(const std::string& file, const std::string& where, const std::string& section = "") {
    std::string out = run("addr2line -fipe '" + (dir_ / file).string() + "'" + (section.empty() ? "" : " -j " + section) +
                          " " + where);
    return normalize(out);
  }
  static std::string normalize(std::string text) {
    text = std::regex_replace(text, std::regex(" \\(discriminator [0-9]+\\)"), "");
    text = std::regex_replace(text, std::regex("//"), "/");
    text = std::regex_replace(text, std::regex(dir_.string() + "/"), "");
    return text;
  }
  static std::string chain_text(const Resolution& r) {
    const std::string all = format(r);
    return normalize(all.substr(all.find('\n') + 1));
  }

  static inline fs::path dir_;
  static inline bool built_ = false;
};

std::string fmt_hex(uint64_t value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

struct NmSymbol {
  std::string name;
  uint64_t address, size;
};

std::vector<NmSymbol> functions(const fs::path& file) {
  std::vector<NmSymbol> out;
  std::istringstream in(run("nm -S '" + file.string() + "'"));
  std::string address, size, type, name;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    if (!(words >> address >> size >> type >> name) || (type != "T" && type != "t")) continue;
    out.push_back({name, std::stoull(address, nullptr, 16), std::stoull(size, nullptr, 16)});
  }
  return out;
}

TEST_F(Fixtures, EveryFunctionStartAndMiddleMatchesAddr2line) {
  for (const char* file : {"vmlinux4", "vmlinux5", "vmlinuxz"}) {
    const auto image = Image::open((dir_ / file).string());
    ASSERT_TRUE(image->has_debug_info()) << file;
    const auto syms = functions(dir_ / file);
    ASSERT_GE(syms.size(), 6u) << file;
    for (const auto& s : syms) {
      for (const uint64_t offset : {uint64_t{0}, s.size / 2}) {
        const uint64_t address = s.address + offset;
        const std::string expected = addr2line(file, fmt_hex(address));
        EXPECT_EQ(chain_text(image->resolve_address(address, {})), expected) << file << " " << s.name << "+" << offset;
      }
    }
  }
}

TEST_F(Fixtures, InlineChainIsThreeDeepInFaddr2lineFormat) {
  const auto image = Image::open((dir_ / "vmlinux5").string());
  const auto r = image->resolve(*parse_frame("outer+0x4"), {});
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].chain.size(), 3u);
  EXPECT_EQ(r[0].chain[0].function, "leaf");
  EXPECT_EQ(r[0].chain[1].function, "middle");
  EXPECT_EQ(r[0].chain[2].function, "outer");
  // faddr2line strips the build directory: paths are relative to it.
  EXPECT_EQ(r[0].chain[0].file, "inl.c");
  const std::string text = format(r[0]);
  EXPECT_EQ(text.substr(0, text.find('\n')), "outer+0x4/0x30:");
  EXPECT_NE(text.find("\nleaf at inl.c:1\n (inlined by) middle at inl.c:2\n (inlined by) outer at inl.c:4\n"),
            std::string::npos)
      << text;
}

TEST_F(Fixtures, SameNameStaticsAllPrintedAndSizeSelects) {
  const auto image = Image::open((dir_ / "vmlinux5").string());
  const auto both = image->resolve(*parse_frame("dup+0x4"), {});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].chain.back().file, "inl.c");
  EXPECT_EQ(both[1].chain.back().file, "dup2.c");
  // The size given after '/' must match the distance to the next symbol.
  const std::string second_header = both[1].header;  // "dup+0x4/0x40:"
  const std::string size = second_header.substr(second_header.find('/') + 1, second_header.size() - second_header.find('/') - 2);
  const auto one = image->resolve(*parse_frame("dup+0x4/" + size), {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].chain.back().file, "dup2.c");
  EXPECT_THROW(image->resolve(*parse_frame("dup+0x4/0x1234"), {}), SymbolizeError);
}

TEST_F(Fixtures, AsmInnerLabelIsNamedByItsFunction) {
  const auto image = Image::open((dir_ / "vmlinux5").string());
  const auto r = image->resolve(*parse_frame("asm_func+0x2"), {});
  ASSERT_EQ(r.size(), 1u);
  const auto syms = functions(dir_ / "vmlinux5");
  const auto it = std::find_if(syms.begin(), syms.end(), [](const NmSymbol& s) { return s.name == "asm_func"; });
  ASSERT_NE(it, syms.end());
  EXPECT_EQ(chain_text(r[0]), addr2line("vmlinux5", fmt_hex(it->address + 2)));
  EXPECT_EQ(r[0].chain[0].function, "asm_func");
  EXPECT_EQ(r[0].chain[0].file, "asmf.S");
}

TEST_F(Fixtures, ReturnAddressesAreLookedUpOneByteEarlier) {
  const auto image = Image::open((dir_ / "vmlinux5").string());
  const auto call_a = *parse_frame("call_a+0x5");
  Options as_return;
  as_return.return_address = true;
  const auto exact = image->resolve(call_a, {});
  const auto earlier = image->resolve(call_a, as_return);
  const auto syms = functions(dir_ / "vmlinux5");
  const auto it = std::find_if(syms.begin(), syms.end(), [](const NmSymbol& s) { return s.name == "call_a"; });
  ASSERT_NE(it, syms.end());
  EXPECT_EQ(chain_text(earlier[0]), addr2line("vmlinux5", fmt_hex(it->address + 4)));
  EXPECT_EQ(chain_text(exact[0]), addr2line("vmlinux5", fmt_hex(it->address + 5)));
}

TEST_F(Fixtures, ModuleTextAndInitTextBothStartAtZero) {
  const auto image = Image::open((dir_ / "fake.ko").string());
  for (const auto& [name, section] : std::vector<std::pair<std::string, std::string>>{{"mod_work", ".text"},
                                                                                     {"mod_init", ".init.text"}}) {
    for (const char* offset : {"0x0", "0x4", "0x8"}) {
      const auto r = image->resolve(*parse_frame(name + "+" + offset), {});
      ASSERT_EQ(r.size(), 1u) << name;
      EXPECT_EQ(chain_text(r[0]), addr2line("fake.ko", offset, section)) << name << "+" << offset;
    }
  }
  KernelSymbolsOptions options;
  options.vmlinux = (dir_ / "vmlinux5").string();
  options.modules_dir = dir_.string();
  KernelSymbols kernel(options);
  EXPECT_EQ(kernel.annotate("  mod_work+0x4/0x12 [fake]", {}),
            "  mod_work+0x4/0x12 [fake] (mleaf at mod.c:1, inlined by mod_work at mod.c:3)");
}

TEST_F(Fixtures, BadInputGetsClearErrors) {
  auto message = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const SymbolizeError& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_NE(message([&] { Image::open((dir_ / "missing").string()); }).find("cannot read"), std::string::npos);
  EXPECT_NE(message([&] { Image::open((dir_ / "inl.c").string()); }).find("not an ELF file"), std::string::npos);
  EXPECT_NE(message([&] { Image::open((dir_ / "stripped").string()); }).find("no symbol table"), std::string::npos);
  const auto image = Image::open((dir_ / "vmlinux5").string());
  EXPECT_NE(message([&] { image->resolve(*parse_frame("outer+0x999"), {}); }).find("offset exceeds symbol size"),
            std::string::npos);
  EXPECT_NE(message([&] { image->resolve(*parse_frame("nosuchfunc+0x1"), {}); }).find("no symbol 'nosuchfunc'"),
            std::string::npos);
  KernelSymbolsOptions no_vmlinux;
  no_vmlinux.release = "0.0.0-none";
  const std::string missing = message([&] { KernelSymbols k(no_vmlinux); });
  EXPECT_NE(missing.find("linux-image-0.0.0-none-dbg"), std::string::npos) << missing;
  KernelSymbolsOptions garbage;
  garbage.vmlinux = (dir_ / "inl.c").string();
  EXPECT_NE(message([&] { KernelSymbols k(garbage); }).find("not an ELF file"), std::string::npos);
}

TEST_F(Fixtures, RawAddressesLoseTheKaslrSlide) {
  KernelSymbolsOptions options;
  options.vmlinux = (dir_ / "vmlinux5").string();
  KernelSymbols kernel(options);
  const uint64_t slide = 0x1e000000;  // a multiple of 2 MiB, as KASLR picks
  kernel.set_runtime_text(0xffffffff81000000 + slide, kernel.vmlinux().build_id());
  EXPECT_EQ(kernel.slide(), slide);
  FrameRef raw;
  raw.address = 0xffffffff81000004 + slide;
  const auto r = kernel.resolve(raw, {});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header, "outer+0x4/0x30:");
  EXPECT_EQ(r[0].chain.front().function, "leaf");
  // Another kernel's build id: the slide would point at the wrong code.
  EXPECT_THROW(kernel.set_runtime_text(0xffffffff81000000 + slide, "00ff"), SymbolizeError);
}

TEST_F(Fixtures, RunnerStacksAndLocationsGetFileAndLine) {
  // What drop/trace --symbolize print: kallsyms names, then the source.
  std::istringstream in("ffffffff81000000 T outer\nffffffff81000040 T call_a\n");
  const Kallsyms kallsyms = Kallsyms::parse(in);
  std::string error;
  const auto lines = open_dwarf_annotator((dir_ / "vmlinux5").string(), error);  // what --symbolize opens
  ASSERT_TRUE(lines) << error;
  const AddressNamer names(kallsyms, lines.get());
  EXPECT_EQ(names.describe(0xffffffff81000004, false),
            "outer+0x4 (leaf at inl.c:1, inlined by middle at inl.c:2, inlined by outer at inl.c:4)");
  EXPECT_EQ(names.describe(0x1234, true), "0x1234");  // unknown addresses stay numeric
  const AddressNamer plain(kallsyms);
  EXPECT_EQ(plain.describe(0xffffffff81000004), "outer+0x4");
  std::string out;
  const uint64_t stack[] = {0xffffffff81000004, 0xffffffff81000045};
  append_stack_text(out, StackView{&names, stack});
  EXPECT_NE(out.find("    outer+0x4 (leaf at inl.c:1"), std::string::npos) << out;
  EXPECT_NE(out.find("    call_a+0x5 ("), std::string::npos) << out;
}

TEST(FrameParser, KernelStackForms) {
  auto f = parse_frame("tcp_v4_rcv+0x99/0x9b0");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->function, "tcp_v4_rcv");
  EXPECT_EQ(f->offset, 0x99u);
  EXPECT_EQ(f->offset_text, "0x99");
  EXPECT_EQ(f->size, 0x9b0u);
  f = parse_frame("ip_rcv_core.isra.0+0x10");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->function, "ip_rcv_core.isra.0");
  EXPECT_FALSE(f->size);
  f = parse_frame("nft_do_chain+0x46f/0x5b0 [nf_tables]");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->module, "nf_tables");
  f = parse_frame("0xffffffff81a2b099");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->address, 0xffffffff81a2b099u);
  for (const char* bad : {"", "tcp_v4_rcv", "tcp_v4_rcv+99", "tcp_v4_rcv+0xzz", "+0x10", "a b+0x1", "f+0x1/zz",
                          "f+0x1 [bad module]", "0xnothex"})
    EXPECT_FALSE(parse_frame(bad)) << bad;
}

TEST(FrameParser, FramesInOopsAndStackText) {
  const auto frames = find_frames(
      "[  123.456789]  ? nf_hook_slow+0x44/0xb0 [nf_tables]  RIP: 0010:tcp_v4_rcv+0x99/0x9b0 x+0x1y 0xffffffff8100");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].ref.function, "nf_hook_slow");
  EXPECT_EQ(frames[0].ref.module, "nf_tables");
  EXPECT_EQ(frames[1].ref.function, "tcp_v4_rcv");
  EXPECT_TRUE(find_frames("[  123.456789] no frames here 0x10").empty());
  EXPECT_EQ(find_frames("    sk_skb_reason_drop+0x90").size(), 1u);  // skbtrail's own stack lines
}

TEST(BuildId, FromKernelNotes) {
  // namesz=4 descsz=4 type=3 "GNU\0" desc
  const char note[] = {4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, '\x12', '\x34', '\xab', '\xcd'};
  EXPECT_EQ(skbtrail::build_id_from_notes(std::string_view(note, sizeof(note))), "1234abcd");
  EXPECT_EQ(skbtrail::build_id_from_notes(std::string_view(note, 10)), "");
}

}  // namespace
}  // namespace skbtrail::symbolize
