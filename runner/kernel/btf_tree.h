// A kernel "header tree" generated from BTF, for BCC on kernels that ship
// BTF but no headers. BCC only reads headers through BCC_KERNEL_SOURCE, so
// the tree imitates the few files BCC includes by itself and puts the whole
// BTF type dump behind include/linux/kconfig.h (which BCC force-includes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace skbtrail {

struct BtfTreeRequest {
  std::filesystem::path btf_file = "/sys/kernel/btf/vmlinux";
  std::string release;
  uint32_t version_code = 0;
  std::filesystem::path kernel_config = "/proc/config.gz";  // optional, gzip or plain
  std::filesystem::path cache_root;  // trees live in <cache_root>/<key>/
  // The kernel's build id when btf_file is that kernel's: it names the BTF
  // without reading it (6 MiB of sysfs reads cost start-up ~0.1 s).
  std::string build_id;
  // The nf_tables module's BTF (/sys/kernel/btf/nf_tables: split BTF on
  // btf_file) when nf_tables is a loaded module: nft_do_chain's reader needs
  // struct nft_pktinfo/nft_chain/nft_table, which vmlinux's BTF has only
  // when nf_tables is built in. Empty: vmlinux's types alone. Only one
  // module is merged: every module's split BTF repeats the types it shares
  // with other modules, so two would define them twice.
  std::filesystem::path nf_tables_btf;
};

// <release>-<hash of the build id, else of the BTF blob, of the nf_tables
// module's BTF, and of this generator's layout>.
std::string btf_tree_key(const BtfTreeRequest& request);

// Writes the tree into `dest` (created). Throws std::runtime_error on failure.
void write_btf_header_tree(const BtfTreeRequest& request, const std::filesystem::path& dest);

// The cached tree for this kernel, generated first when missing. Safe
// against concurrent runs: generation happens in a temporary directory that
// is renamed into place.
std::filesystem::path ensure_btf_header_tree(const BtfTreeRequest& request);

// Whether a generated tree has nftables' types (struct nft_pktinfo), from
// vmlinux (nf_tables built in) or the module's BTF; recorded when the tree
// was written.
bool btf_tree_has_nf_tables(const std::filesystem::path& tree);

// Default cache root: $SKBTRAIL_CACHE_DIR, else /var/cache/skbtrail.
std::filesystem::path default_cache_root();

}  // namespace skbtrail
