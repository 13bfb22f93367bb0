/* The one-file skbtrail: this small static program carries, after its own
 * image, the whole dynamic build (skbtrail, its LLVM plugin, every shared
 * library both need, and the dynamic loader they were built with) as a
 * gzip'd tar, and a trailer saying where it is. On first run it unpacks the
 * payload into a private directory named by the payload's hash; every run
 * then executes skbtrail through that loader, so nothing comes from the
 * target's /usr/lib: the same file runs on CentOS 7's glibc 2.17 as on
 * Debian 12.
 *
 * Payload directory: $SKBTRAIL_RUNTIME_DIR/<id>, else /var/cache/skbtrail/
 * runtime/<id> for root, else $TMPDIR/skbtrail-runtime-<uid>/<id>; each
 * level must belong to us and not be writable by others (what is unpacked
 * there is executed), as skbtrail's own cache is.
 *
 * Built by tools/release.sh with `cc -static` against zlib. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

/* Trailer: the last 64 bytes of the file. */
#define MAGIC "skbtrail-payload"
struct trailer {
  char magic[16];
  uint64_t offset; /* of the gzip'd tar, from the start of the file */
  uint64_t size;
  char id[32];     /* hex digits naming the payload (its sha256 prefix) */
};

static void die(const char *what, const char *detail) {
  fprintf(stderr, "skbtrail: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(2);
}

/* A directory we may trust with executables: ours, not group/other writable. */
static void private_dir(const char *path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST) die("cannot create the runtime directory", path);
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) die("the runtime directory is not a directory", path);
  if (st.st_uid != geteuid() || (st.st_mode & 022))
    die("refusing a runtime directory another user may write (set SKBTRAIL_RUNTIME_DIR to a private one)", path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* rm -rf, without a shell (the target may have none). */
static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static uint64_t octal(const char *field, size_t len) {
  uint64_t value = 0;
  for (size_t i = 0; i < len && field[i]; ++i)
    if (field[i] >= '0' && field[i] <= '7') value = value * 8 + (uint64_t)(field[i] - '0');
  return value;
}

/* Unpacks the ustar stream `in` into `dir` (flat names and one level of
 * directories: what tools/release.sh writes). */
static void untar(gzFile in, const char *dir) {
  char block[512];
  char path[PATH_MAX];
  for (;;) {
    if (gzread(in, block, sizeof(block)) != (int)sizeof(block)) die("the payload is truncated", NULL);
    if (block[0] == 0) return; /* the end: two zero blocks */
    char name[256] = {0};
    if (block[345]) snprintf(name, sizeof(name), "%.155s/%.100s", block + 345, block);
    else snprintf(name, sizeof(name), "%.100s", block);
    if (strstr(name, "..") || name[0] == '/') die("a payload entry leaves its directory", name);
    const uint64_t size = octal(block + 124, 12);
    const unsigned mode = (unsigned)octal(block + 100, 8) & 0755;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char type = block[156];
    if (type == '5') {
      if (mkdir(path, 0755) != 0 && errno != EEXIST) die("cannot create", path);
      continue;
    }
    if (type == '2') {
      char target[101] = {0};
      memcpy(target, block + 157, 100);
      if (symlink(target, path) != 0) die("cannot create the link", path);
      continue;
    }
    if (type != '0' && type != 0) die("the payload has an entry of a kind this launcher does not unpack", name);
    const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode ? mode : 0644);
    if (fd < 0) die("cannot create", path);
    char buf[1 << 16];
    for (uint64_t left = size; left > 0;) {
      const unsigned want = left > sizeof(buf) ? (unsigned)sizeof(buf) : (unsigned)left;
      if (gzread(in, buf, want) != (int)want) die("the payload is truncated", name);
      for (unsigned done = 0; done < want;) {
        const ssize_t n = write(fd, buf + done, want - done);
        if (n <= 0) die("cannot write (is the disk full?)", path);
        done += (unsigned)n;
      }
      left -= want;
    }
    if (close(fd) != 0) die("cannot write", path);
    /* Entries are padded to whole blocks. */
    const unsigned pad = (unsigned)((512 - size % 512) % 512);
    if (pad && gzread(in, block, pad) != (int)pad) die("the payload is truncated", name);
  }
}

static void unpack(const char *self, const struct trailer *t, const char *dir) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof(tmp), "%s.tmp%d", dir, (int)getpid());
  if (mkdir(tmp, 0700) != 0) die("cannot create", tmp);
  const int fd = open(self, O_RDONLY);
  if (fd < 0 || lseek(fd, (off_t)t->offset, SEEK_SET) < 0) die("cannot read myself", self);
  gzFile in = gzdopen(fd, "rb");
  if (!in) die("cannot read the payload", self);
  gzbuffer(in, 1 << 17);
  untar(in, tmp);
  gzclose(in);
  char marker[PATH_MAX];
  snprintf(marker, sizeof(marker), "%s/.complete", tmp);
  const int m = open(marker, O_WRONLY | O_CREAT, 0644);
  if (m < 0) die("cannot write", marker);
  close(m);
  chmod(tmp, 0755);
  remove_tree(dir); /* a half-unpacked one from an interrupted run */
  if (rename(tmp, dir) != 0) die("cannot move the unpacked payload into place", dir);
}

int main(int argc, char **argv) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) die("cannot find my own file (is /proc mounted?)", NULL);
  self[n] = 0;

  struct trailer t;
  const int fd = open(self, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(t) ||
      pread(fd, &t, sizeof(t), st.st_size - (off_t)sizeof(t)) != (ssize_t)sizeof(t) ||
      memcmp(t.magic, MAGIC, sizeof(t.magic)) != 0)
    die("this file carries no skbtrail payload (rebuild it with tools/release.sh)", self);
  close(fd);
  char id[sizeof(t.id) + 1] = {0};
  memcpy(id, t.id, sizeof(t.id));

  char root[PATH_MAX / 2];
  const char *env = getenv("SKBTRAIL_RUNTIME_DIR");
  if (env && *env) {
    snprintf(root, sizeof(root), "%s", env);
    private_dir(root);
  } else if (geteuid() == 0) {
    mkdir("/var", 0755);
    mkdir("/var/cache", 0755);
    mkdir("/var/cache/skbtrail", 0755);
    snprintf(root, sizeof(root), "/var/cache/skbtrail/runtime");
    private_dir(root);
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/skbtrail-runtime-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)geteuid());
    private_dir(root);
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/%s", root, id);
  char marker[PATH_MAX];
  snprintf(marker, sizeof(marker), "%s/.complete", dir);
  if (access(marker, F_OK) != 0) {
    /* One unpacker at a time; the others wait and find it done. */
    char lock_path[PATH_MAX];
    snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", root, id);
    const int lock = open(lock_path, O_RDWR | O_CREAT, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) die("cannot lock", lock_path);
    if (access(marker, F_OK) != 0) unpack(self, &t, dir);
    close(lock);
  }

  /* skbtrail runs through the loader it was built with, on the libraries
   * beside it; its LLVM plugin is found through SKBTRAIL_PLUGIN_DIR (under
   * the loader, /proc/self/exe names the loader). */
  char loader[PATH_MAX], program[PATH_MAX];
  snprintf(loader, sizeof(loader), "%s/ld-linux-x86-64.so.2", dir);
  snprintf(program, sizeof(program), "%s/skbtrail", dir);
  setenv("SKBTRAIL_PLUGIN_DIR", dir, 1);
  char **args = calloc((size_t)argc + 8, sizeof(char *));
  if (!args) die("out of memory", NULL);
  int a = 0;
  args[a++] = loader;
  args[a++] = "--argv0";
  args[a++] = argv[0];
  args[a++] = "--library-path";
  args[a++] = dir;
  args[a++] = program;
  for (int i = 1; i < argc; ++i) args[a++] = argv[i];
  args[a] = NULL;
  execv(loader, args);
  die("cannot run the unpacked skbtrail", strerror(errno));
  return 2;
}
