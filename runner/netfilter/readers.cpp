#include "runner/netfilter/readers.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netlink.h>

extern char** environ;

namespace skbtrail::netfilter {

namespace {

// A symbol of a dlopen'ed library, typed by the library's own declaration.
template <typename Fn>
bool bind(void* lib, const char* name, Fn*& fn) {
  fn = reinterpret_cast<Fn*>(dlsym(lib, name));
  return fn != nullptr;
}

std::string dl_error(const char* library) {
  const char* e = dlerror();
  return e ? std::string(e) : fmt::format("{}: not loadable", library);
}

// The first of these sonames that loads, by name (the loader's own path and
// cache), then from the directories distributions keep them in: the one-file
// build runs its own loader, whose default paths are Debian's, while RHEL
// keeps libraries in /usr/lib64.
void* open_library(std::initializer_list<const char*> sonames, std::string& loaded, std::string& error) {
  for (const char* soname : sonames) {
    for (const char* dir : {"", "/usr/lib64/", "/lib64/", "/usr/lib/x86_64-linux-gnu/", "/lib/x86_64-linux-gnu/"}) {
      const std::string path = std::string(dir) + soname;
      if (void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        loaded = soname;
        return lib;
      }
      if (!*dir) error = dl_error(soname);
    }
  }
  return nullptr;
}

// The command's standard output (stderr dropped), or "" when it cannot run.
// Run from the calling thread, so a child of a thread inside a namespace
// starts in that namespace.
std::string output_of(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out.clear();
  }
  close(fds[0]);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// nft's syntax for a name: quoted unless it is a plain identifier.
std::string nft_name(const std::string& name) {
  const bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                     name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                         std::string::npos;
  return plain ? name : "\"" + name + "\"";
}

std::string hook_of_builtin(const std::string& chain) {
  if (chain == "PREROUTING") return "prerouting";
  if (chain == "INPUT") return "input";
  if (chain == "FORWARD") return "forward";
  if (chain == "OUTPUT") return "output";
  if (chain == "POSTROUTING") return "postrouting";
  return {};
}

}  // namespace

struct RulesetReader::Nftables {
  void* lib = nullptr;
  std::string soname, error;
  decltype(&nft_ctx_new) ctx_new = nullptr;
  decltype(&nft_ctx_free) ctx_free = nullptr;
  decltype(&nft_ctx_output_set_flags) set_flags = nullptr;
  decltype(&nft_ctx_buffer_output) buffer_output = nullptr;
  decltype(&nft_ctx_get_output_buffer) output_buffer = nullptr;
  decltype(&nft_ctx_buffer_error) buffer_error = nullptr;
  decltype(&nft_ctx_get_error_buffer) error_buffer = nullptr;
  decltype(&nft_run_cmd_from_buffer) run = nullptr;
  std::map<uint64_t, nft_ctx*> contexts;  // by netns inode

  Nftables() {
    lib = open_library({"libnftables.so.1"}, soname, error);
    if (!lib) {
      error += " (Debian/Ubuntu: apt install libnftables1; RHEL 8+: dnf install nftables)";
      return;
    }
    if (!bind(lib, "nft_ctx_new", ctx_new) || !bind(lib, "nft_ctx_free", ctx_free) ||
        !bind(lib, "nft_ctx_output_set_flags", set_flags) || !bind(lib, "nft_ctx_buffer_output", buffer_output) ||
        !bind(lib, "nft_ctx_get_output_buffer", output_buffer) || !bind(lib, "nft_ctx_buffer_error", buffer_error) ||
        !bind(lib, "nft_ctx_get_error_buffer", error_buffer) || !bind(lib, "nft_run_cmd_from_buffer", run)) {
      error = soname + " lacks " + dl_error(soname.c_str());
      dlclose(lib);
      lib = nullptr;
    }
  }
  ~Nftables() {
    for (auto& [netns, ctx] : contexts) ctx_free(ctx);
    // Not dlclose'd: libnftables registers atexit-free state of its own.
  }

  nft_ctx* context(uint64_t netns) {
    if (auto it = contexts.find(netns); it != contexts.end()) return it->second;
    nft_ctx* ctx = ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return nullptr;
    buffer_output(ctx);
    buffer_error(ctx);
    return contexts.emplace(netns, ctx).first->second;
  }

  // Whether the calling thread's namespace can open an nfnetlink socket.
  // libnftables exit()s when it cannot (netlink_init_error: "mnl.c: Unable
  // to initialize Netlink socket", exit code 3), which would end the tool
  // with its probes attached; a kernel without nfnetlink (not built, or its
  // module not loadable, as on a system without /lib/modules) has no
  // nftables ruleset to read anyway.
  static bool nfnetlink_opens(std::string& why) {
    const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) {
      why = fmt::format("no nftables ruleset: this kernel has no nfnetlink (socket(NETLINK_NETFILTER): {})",
                        std::strerror(errno));
      return false;
    }
    close(fd);
    return true;
  }

  // The command's output, or nullopt with `why`.
  std::optional<std::string> command(uint64_t netns, unsigned flags, const std::string& cmd, std::string& why) {
    if (!nfnetlink_opens(why)) return std::nullopt;
    nft_ctx* ctx = context(netns);
    if (!ctx) {
      why = "nft_ctx_new failed";
      return std::nullopt;
    }
    set_flags(ctx, flags);
    if (run(ctx, cmd.c_str()) != 0) {
      std::string e = error_buffer(ctx) ? error_buffer(ctx) : "";
      while (!e.empty() && e.back() == '\n') e.pop_back();
      why = fmt::format("libnftables: {}: {}", cmd, e.empty() ? "failed" : e.substr(0, e.find('\n')));
      return std::nullopt;
    }
    const char* out = output_buffer(ctx);
    return std::string(out ? out : "");
  }
};

struct RulesetReader::Iptc {
  void* lib = nullptr;
  std::string soname, error;
  decltype(&iptc_init) init = nullptr;
  decltype(&iptc_free) free = nullptr;
  decltype(&iptc_first_chain) first_chain = nullptr;
  decltype(&iptc_next_chain) next_chain = nullptr;
  decltype(&iptc_first_rule) first_rule = nullptr;
  decltype(&iptc_next_rule) next_rule = nullptr;
  decltype(&iptc_get_target) get_target = nullptr;
  decltype(&iptc_builtin) builtin = nullptr;
  decltype(&iptc_get_policy) get_policy = nullptr;
  decltype(&iptc_is_chain) is_chain = nullptr;
  decltype(&iptc_strerror) strerror = nullptr;

  Iptc() {
    // .so.2 since iptables 1.8; CentOS/RHEL 7's iptables 1.4.21 ships .so.0,
    // same functions, and ipt_entry is the kernel's ABI.
    lib = open_library({"libip4tc.so.2", "libip4tc.so.0"}, soname, error);
    if (!lib) {
      error += " (Debian/Ubuntu: apt install libip4tc2; RHEL/CentOS: yum install iptables)";
      return;
    }
    if (!bind(lib, "iptc_init", init) || !bind(lib, "iptc_free", free) || !bind(lib, "iptc_first_chain", first_chain) ||
        !bind(lib, "iptc_next_chain", next_chain) || !bind(lib, "iptc_first_rule", first_rule) ||
        !bind(lib, "iptc_next_rule", next_rule) || !bind(lib, "iptc_get_target", get_target) ||
        !bind(lib, "iptc_builtin", builtin) || !bind(lib, "iptc_get_policy", get_policy) ||
        !bind(lib, "iptc_is_chain", is_chain) || !bind(lib, "iptc_strerror", strerror)) {
      error = soname + " lacks " + dl_error(soname.c_str());
      dlclose(lib);
      lib = nullptr;
    }
  }

  // The legacy tables that exist in the calling thread's namespace: only
  // those, since opening one that does not exist would create it (and
  // register its hooks) in a namespace that had none.
  static std::vector<std::string> tables() {
    std::vector<std::string> out;
    std::ifstream in(this_thread_proc("net/ip_tables_names"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(line);
    return out;
  }

  // The simple matches of an entry: its IP header fields and the tcp/udp
  // matches' ports.
  static void conditions_of(const ipt_entry* e, NetfilterRule& rule) {
    if (e->ip.proto != 0) {
      Condition c;
      c.field = Condition::Field::L4Proto;
      c.ip_version = 4;
      c.negated = e->ip.invflags & IPT_INV_PROTO;
      c.numbers.push_back({e->ip.proto, e->ip.proto});
      rule.conditions.push_back(c);
    }
    auto address = [&](in_addr addr, in_addr mask, bool inverted, Condition::Field field) {
      if (mask.s_addr == 0) return;
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &addr, text, sizeof text);
      Condition c;
      c.field = field;
      c.ip_version = 4;
      c.negated = inverted;
      c.prefixes.push_back({text, __builtin_popcount(mask.s_addr)});
      rule.conditions.push_back(c);
    };
    address(e->ip.src, e->ip.smsk, e->ip.invflags & IPT_INV_SRCIP, Condition::Field::Saddr);
    address(e->ip.dst, e->ip.dmsk, e->ip.invflags & IPT_INV_DSTIP, Condition::Field::Daddr);
    for (size_t at = sizeof(ipt_entry); at < e->target_offset;) {
      const auto* m = reinterpret_cast<const xt_entry_match*>(reinterpret_cast<const uint8_t*>(e) + at);
      if (m->u.match_size == 0) break;
      const std::string name = m->u.user.name;
      const int proto = name == "tcp" ? 6 : name == "udp" ? 17 : -1;
      if (proto > 0) {
        const uint16_t* spts = reinterpret_cast<const xt_tcp*>(m->data)->spts;  // xt_udp starts alike
        const uint16_t* dpts = reinterpret_cast<const xt_tcp*>(m->data)->dpts;
        const uint8_t inv = proto == 6 ? reinterpret_cast<const xt_tcp*>(m->data)->invflags
                                       : reinterpret_cast<const xt_udp*>(m->data)->invflags;
        auto ports = [&](const uint16_t* range, bool inverted, Condition::Field field) {
          if (range[0] == 0 && range[1] == 0xffff) return;
          Condition c;
          c.field = field;
          c.l4_proto = proto;
          c.negated = inverted;
          c.numbers.push_back({range[0], range[1]});
          rule.conditions.push_back(c);
        };
        ports(spts, inv & XT_TCP_INV_SRCPT, Condition::Field::Sport);
        ports(dpts, inv & XT_TCP_INV_DSTPT, Condition::Field::Dport);
      }
      at += m->u.match_size;
    }
  }

  void read(Ruleset& set) {
    for (const auto& table : tables()) {
      xtc_handle* h = init(table.c_str());
      if (!h) {
        set.errors.push_back(fmt::format("libiptc: table {}: {}", table, strerror(errno)));
        continue;
      }
      for (const char* name = first_chain(h); name; name = next_chain(h)) {
        NetfilterChain chain;
        chain.backend = Backend::IptablesLegacy;
        chain.family = "ip";
        chain.table = table;
        chain.name = name;
        if (builtin(name, h)) {
          chain.hook = hook_of_builtin(chain.name);
          xt_counters counters{};
          if (const char* policy = get_policy(name, &counters, h)) {
            chain.policy = policy;
            for (auto& ch : chain.policy) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            chain.policy_counter = {true, counters.pcnt, counters.bcnt};
          }
        }
        unsigned position = 0;
        for (const ipt_entry* e = first_rule(name, h); e; e = next_rule(e, h)) {
          NetfilterRule rule;
          rule.backend = Backend::IptablesLegacy;
          rule.family = "ip";
          rule.table = table;
          rule.chain = chain.name;
          rule.position = ++position;
          rule.handle = position;
          rule.counter = {true, e->counters.pcnt, e->counters.bcnt};
          const std::string target = get_target(e, h) ? get_target(e, h) : "";
          if (target == "DROP" || target == "ACCEPT" || target == "RETURN" || target == "QUEUE") {
            rule.verdict = target;
            for (auto& ch : rule.verdict) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          } else if (target == "REJECT") {
            rule.verdict = "reject";
          } else if (!target.empty() && is_chain(target.c_str(), h)) {
            rule.verdict = (e->ip.flags & IPT_F_GOTO) ? "goto" : "jump";
            rule.target = target;
          }
          conditions_of(e, rule);
          set.rules.push_back(std::move(rule));
        }
        set.chains.push_back(std::move(chain));
      }
      free(h);
    }
  }
};

RulesetReader::RulesetReader() : nft_(std::make_unique<Nftables>()), iptc_(std::make_unique<Iptc>()) {}
RulesetReader::~RulesetReader() = default;

bool RulesetReader::available() const { return nft_->lib || iptc_->lib; }

std::vector<std::string> RulesetReader::describe() const {
  return {"nftables, iptables-nft: " + (nft_->lib ? nft_->soname : nft_->error),
          "iptables-legacy: " + (iptc_->lib ? iptc_->soname : iptc_->error)};
}

Ruleset RulesetReader::read(uint64_t netns) {
  Ruleset set;
  if (nft_->lib) {
    std::string why;
    if (auto text = nft_->command(netns, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE, "list ruleset", why)) {
      try {
        set = parse_nftables_json(*text);
      } catch (const std::exception& e) {
        set.errors.push_back(e.what());
      }
    } else {
      set.errors.push_back(why);
    }
  }
  if (iptc_->lib) {
    Ruleset legacy;
    iptc_->read(legacy);
    legacy.link();
    set.append(std::move(legacy));
  }
  return set;
}

void RulesetReader::fill_text(NetfilterRule& rule, uint64_t netns) {
  if (!rule.text.empty()) return;
  const std::string iptables = rule.family == "ip6" ? "ip6tables" : "iptables";
  if (rule.backend != Backend::Nftables) {
    const std::string tool = iptables + (rule.backend == Backend::IptablesNft ? "-nft" : "-legacy");
    // iptables' own words for its rule: no library prints them (its
    // extensions do, inside the binary), so the binary is asked for this one rule.
    rule.text = output_of({tool, "-w", "1", "-t", rule.table, "-S", rule.chain, std::to_string(rule.position)});
    if (!rule.text.empty() || rule.backend == Backend::IptablesLegacy) return;
  }
  if (!nft_->lib) return;
  std::string why;
  const auto listing = nft_->command(
      netns, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS,
      fmt::format("list chain {} {} {}", rule.family, nft_name(rule.table), nft_name(rule.chain)), why);
  if (!listing) return;
  for (const auto& [handle, text] : nftables_rule_texts(*listing))
    if (handle == rule.handle) rule.text = text;
}

}  // namespace skbtrail::netfilter
