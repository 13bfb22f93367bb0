#include "runner/kernel/btf_tree.h"

#include <bpf/btf.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace skbtrail {

namespace fs = std::filesystem;

namespace {

// Bump when the files written below change, so old caches are not reused.
constexpr int kTreeLayoutVersion = 3;

// Which optional types the tree has, one struct name per line.
constexpr const char* kTypesFile = "include/skbtrail-btf-types";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint64_t fnv1a(std::string_view data, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

void write_text(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

// Every CONFIG_ line of the running kernel's config, as autoconf.h would
// have it, so programs can test CONFIG_NET_NS and friends in BTF mode too.
std::string config_defines(const fs::path& config) {
  std::string out;
  gzFile in = gzopen(config.c_str(), "rb");  // also reads uncompressed files
  if (!in) return out;
  char line[4096];
  while (gzgets(in, line, sizeof(line))) {
    std::string_view l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
    if (!l.starts_with("CONFIG_")) continue;
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = l.substr(0, eq);
    const auto value = l.substr(eq + 1);
    if (value == "y")
      out += fmt::format("#define {} 1\n", name);
    else if (value == "m")
      out += fmt::format("#define {}_MODULE 1\n", name);
    else if (value != "n")
      out += fmt::format("#define {} {}\n", name, value);
  }
  gzclose(in);
  return out;
}

void dump_printf(void* ctx, const char* format, va_list args) {
  std::vfprintf(static_cast<FILE*>(ctx), format, args);
}

using BtfPtr = std::unique_ptr<btf, decltype(&btf__free)>;

// Writes every type of vmlinux (and of the nf_tables module when given) as C;
// returns whether struct nft_pktinfo is among them.
bool write_vmlinux_h(const fs::path& btf_file, const fs::path& nf_tables_btf, const fs::path& out_path) {
  BtfPtr base(btf__parse(btf_file.c_str(), nullptr), btf__free);
  if (!base) throw std::runtime_error(fmt::format("cannot parse BTF from {}: {}", btf_file.string(), std::strerror(errno)));
  // A module's split BTF numbers its types after the base's and refers to
  // them: one dumper over it emits vmlinux's types and then the module's.
  BtfPtr module(nullptr, btf__free);
  if (!nf_tables_btf.empty()) {
    module.reset(btf__parse_split(nf_tables_btf.c_str(), base.get()));
    if (!module)
      throw std::runtime_error(fmt::format("cannot parse BTF from {}: {}", nf_tables_btf.string(), std::strerror(errno)));
  }
  const btf* types = module ? module.get() : base.get();
  std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(out_path.c_str(), "w"), std::fclose);
  if (!out) throw std::runtime_error(fmt::format("cannot write {}: {}", out_path.string(), std::strerror(errno)));
  std::fprintf(out.get(),
               "/* C types of the running kernel, dumped from %s%s%s by skbtrail. */\n"
               "#ifndef __SKBTRAIL_VMLINUX_H__\n#define __SKBTRAIL_VMLINUX_H__\n\n",
               btf_file.c_str(), module ? " and " : "", module ? nf_tables_btf.c_str() : "");
  std::unique_ptr<btf_dump, decltype(&btf_dump__free)> dumper(btf_dump__new(types, dump_printf, out.get(), nullptr),
                                                              btf_dump__free);
  if (!dumper) throw std::runtime_error("libbpf btf_dump__new failed");
  const uint32_t count = btf__type_cnt(types);
  for (uint32_t id = 1; id < count; ++id) {
    if (const int err = btf_dump__dump_type(dumper.get(), id); err < 0)
      throw std::runtime_error(fmt::format("libbpf btf_dump__dump_type({}) failed: {}", id, std::strerror(-err)));
  }
  std::fprintf(out.get(), "\n#endif /* __SKBTRAIL_VMLINUX_H__ */\n");
  if (std::ferror(out.get())) throw std::runtime_error(fmt::format("write error on {}", out_path.string()));
  return btf__find_by_name_kind(types, "nft_pktinfo", BTF_KIND_STRUCT) > 0;
}

}  // namespace

std::string btf_tree_key(const BtfTreeRequest& request) {
  uint64_t hash = request.build_id.empty() ? fnv1a(read_file(request.btf_file)) : fnv1a("build-id " + request.build_id);
  // The module's BTF is small (~100 KiB) and changes with the module, not
  // with the kernel's build id; loading nf_tables later gives a new tree.
  if (!request.nf_tables_btf.empty()) hash = fnv1a(read_file(request.nf_tables_btf), fnv1a("nf_tables", hash));
  hash = fnv1a(fmt::format("layout{}", kTreeLayoutVersion), hash);
  return fmt::format("{}-{:016x}", request.release, hash);
}

void write_btf_header_tree(const BtfTreeRequest& request, const fs::path& dest) {
  fs::create_directories(dest / "include/linux");
  const bool nf_tables = write_vmlinux_h(request.btf_file, request.nf_tables_btf, dest / "include/vmlinux.h");
  write_text(dest / kTypesFile, nf_tables ? "nft_pktinfo\n" : "");

  // BCC force-includes <linux/kconfig.h> first: it becomes the entry point
  // that pulls in every kernel type, then disarms the uapi headers BCC would
  // include next (their contents are already in vmlinux.h).
  write_text(dest / "include/linux/kconfig.h",
             fmt::format("/* Generated by skbtrail for {}: BCC's entry into the BTF types. */\n"
                         "#ifndef __SKBTRAIL_KCONFIG_H__\n#define __SKBTRAIL_KCONFIG_H__\n"
                         "{}"
                         "#ifndef CONFIG_BPF_SYSCALL\n#define CONFIG_BPF_SYSCALL 1\n#endif\n"
                         "#ifndef CONFIG_BPF_EVENTS\n#define CONFIG_BPF_EVENTS 1\n#endif\n"
                         "/* BCC rewrites member accesses into probe reads itself; CO-RE\n"
                         "   relocations would only add thousands of warnings. */\n"
                         "#define BPF_NO_PRESERVE_ACCESS_INDEX 1\n"
                         "#include <vmlinux.h>\n"
                         "#define _UAPI__LINUX_BPF_H__\n"
                         "#define __LINUX_BPF_COMMON_H__\n"
                         "#define _UAPI__LINUX_BPF_COMMON_H__\n"
                         "#endif\n",
                         request.release, config_defines(request.kernel_config)));
  write_text(dest / "include/uapi/linux/bpf.h", "/* Types come from vmlinux.h. */\n");
  write_text(dest / "include/uapi/linux/if_packet.h", "/* Types come from vmlinux.h. */\n");
  write_text(dest / "include/linux/version.h",
             fmt::format("#define LINUX_VERSION_CODE {}\n"
                         "#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))\n",
                         request.version_code));
  write_text(dest / "include/linux/log2.h",
             "#ifndef __SKBTRAIL_LOG2_H__\n#define __SKBTRAIL_LOG2_H__\n"
             "/* A macro, not a function: BCC uses it in map initializers, which must be\n"
             "   compile-time constants (the kernel's version relies on ilog2 folding). */\n"
             "#define roundup_pow_of_two(n) \\\n"
             "  ((unsigned long)(n) <= 1 ? 1UL : 1UL << (64 - __builtin_clzl((unsigned long)(n) - 1)))\n"
             "#endif\n");
  write_text(dest / "arch/x86/include/asm/page.h",
             "#ifndef __SKBTRAIL_PAGE_H__\n#define __SKBTRAIL_PAGE_H__\n"
             "#define PAGE_SHIFT 12\n#define PAGE_SIZE (1UL << PAGE_SHIFT)\n#endif\n");
  write_text(dest / "include/config/kernel.release", request.release + "\n");
}

bool btf_tree_has_nf_tables(const fs::path& tree) {
  std::ifstream in(tree / kTypesFile);
  std::string line;
  while (std::getline(in, line))
    if (line == "nft_pktinfo") return true;
  return false;
}

fs::path default_cache_root() {
  if (const char* env = std::getenv("SKBTRAIL_CACHE_DIR"); env && *env) return env;
  return "/var/cache/skbtrail";
}

fs::path ensure_btf_header_tree(const BtfTreeRequest& request) {
  const fs::path root = request.cache_root.empty() ? default_cache_root() : request.cache_root;
  const fs::path tree = root / "btf-headers" / btf_tree_key(request);
  std::error_code ec;
  if (fs::exists(tree / "include/linux/kconfig.h", ec)) return tree;

  fs::create_directories(tree.parent_path());
  const fs::path staging = fs::path(tree.string() + fmt::format(".tmp{}", ::getpid()));
  fs::remove_all(staging, ec);
  try {
    write_btf_header_tree(request, staging);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  fs::rename(staging, tree, ec);
  if (ec) {
    // Another run won the race: its tree is as good as ours.
    fs::remove_all(staging, ec);
    if (!fs::exists(tree / "include/linux/kconfig.h", ec))
      throw std::runtime_error(fmt::format("cannot create {}", tree.string()));
  }
  return tree;
}

}  // namespace skbtrail
