/* Makes a TCP connection end in a RST the way applications do, for the rst
 * scenarios:
 *   tcp_reset_helper unread PORT   the server closes without reading what the
 *                                  client sent (RST: closed with unread data)
 *   tcp_reset_helper linger0 PORT  the client closes with SO_LINGER {1,0}
 *                                  (RST: abort)
 * Both happen on 127.0.0.1 inside the caller's network namespace. Two more
 * modes hold a connection open across namespaces, for the conntrack-INVALID
 * scenario (a segment crafted against a live, NATed flow):
 *   tcp_reset_helper serve PORT SECONDS            accept one connection, keep it
 *   tcp_reset_helper hold ADDR PORT SPORT SECONDS  connect from SPORT, keep it */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what) {
  perror(what);
  return 1;
}

static int usage(const char *self) {
  fprintf(stderr,
          "usage: %s unread|linger0 PORT\n"
          "       %s serve PORT SECONDS\n"
          "       %s hold ADDR PORT SPORT SECONDS\n"
          "       %s udp-sink PORT SECONDS\n",
          self, self, self, self);
  return 2;
}

static int serve(int port, int seconds) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  int one = 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) || listen(listener, 1)) return fail("listen");
  /* Bounded: a client that never came (its SYN raced the listen under a slow
   * emulated CPU) must not leave the scenario's `wait` hanging forever. */
  struct pollfd ready = {.fd = listener, .events = POLLIN};
  if (poll(&ready, 1, (seconds + 10) * 1000) != 1) {
    fprintf(stderr, "serve: no connection on port %d within %d s\n", port, seconds + 10);
    return 1;
  }
  int server = accept(listener, NULL, NULL);
  if (server < 0) return fail("accept");
  sleep(seconds);
  return 0;
}

static int hold(const char *host, int port, int sport, int seconds) {
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(sport)};
  struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &remote.sin_addr) != 1) return usage("tcp_reset_helper");
  int one = 1;
  int client = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(client, (struct sockaddr *)&local, sizeof(local))) return fail("bind");
  /* The server may not listen yet (a refused connect is retried for up to
   * SECONDS); the socket is made again because a refused one is spent. */
  for (int tries = 0; connect(client, (struct sockaddr *)&remote, sizeof(remote)); ++tries) {
    if (errno != ECONNREFUSED || tries >= seconds * 10) return fail("connect");
    close(client);
    usleep(100000);
    client = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(client, (struct sockaddr *)&local, sizeof(local))) return fail("bind");
  }
  sleep(seconds);
  return 0;
}

/* Binds a UDP port on 127.0.0.1 and never reads it: every datagram's skb
 * stays alive in the receive queue (64 MiB of it), each at its own address,
 * for SECONDS. */
static int udp_sink(int port, int seconds) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  int bytes = 64 << 20;
  if (setsockopt(sink, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes))) return fail("SO_RCVBUFFORCE");
  if (bind(sink, (struct sockaddr *)&addr, sizeof(addr))) return fail("bind");
  sleep(seconds);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "udp-sink")) return udp_sink(atoi(argv[2]), atoi(argv[3]));
  if (argc == 4 && !strcmp(argv[1], "serve")) return serve(atoi(argv[2]), atoi(argv[3]));
  if (argc == 6 && !strcmp(argv[1], "hold")) return hold(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  if (argc != 3 || (strcmp(argv[1], "unread") && strcmp(argv[1], "linger0"))) return usage(argv[0]);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) || listen(listener, 1)) return fail("listen");
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(client, (struct sockaddr *)&addr, sizeof(addr))) return fail("connect");
  int server = accept(listener, NULL, NULL);
  if (server < 0) return fail("accept");
  if (!strcmp(argv[1], "unread")) {
    if (write(client, "request", 7) != 7) return fail("write");
    usleep(200000); /* let the data arrive, unread */
    close(server);
  } else {
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    close(client);
  }
  usleep(200000);
  return 0;
}
