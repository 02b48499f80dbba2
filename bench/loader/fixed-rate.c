/*
 * fixed-rate: an open-loop HTTP load generator for the sustained-capacity benchmark (issue 17).
 *
 * wrk (Debian's) is closed-loop: each connection sends its next request when the last one is
 * answered, so a slow server is simply offered less, and a burst figure hides a growing backlog.
 * This loader offers a fixed rate instead: request i is *due* at t0 + i/rate whether or not the
 * server kept up, and its latency is measured from that due time (so queueing in front of a
 * slow server counts, as it would for Telegram's own queue). At most `conns` requests are in
 * flight (Telegram's max_connections); due requests wait for a free connection.
 *
 * Each request POSTs a real Telegram message update with a unique, increasing update_id (the
 * same body as bench/wrk/post-update.lua) and the secret header. Loopback only: the host must
 * be 127.0.0.1.
 *
 * Usage: fixed-rate PORT PATH SECRET RATE SECONDS CONNS FIRST_UPDATE_ID [CHATS=1000]
 * Prints one JSON line: {"offered":…,"due":…,"sent":…,"ok":…,"non2xx":…,"errors":…,
 *   "unsent":…,"p50_us":…,"p90_us":…,"p99_us":…,"max_us":…,"max_waiting":…,"seconds":…}
 * where unsent counts due requests never sent before the drain deadline (SECONDS + 10 s).
 * Build: cc -O2 -o fixed-rate fixed-rate.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define BUF 8192
#define HIST_US 10                     /* histogram resolution */
#define HIST_N (60 * 1000 * 1000 / HIST_US) /* up to 60 s */

struct conn {
  int fd;
  int busy;
  int64_t due_us; /* due time of the request in flight */
  char out[BUF];
  int out_len, out_off;
  char in[BUF];
  int in_len;
};

static struct conn conns[MAX_CONNS];
static uint32_t *hist;
static int64_t ok, non2xx, errors, sent, max_lat;
static struct sockaddr_in addr;
static int ep;
static const char *path, *secret;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void record(int64_t lat) {
  if (lat < 0) lat = 0;
  if (lat > max_lat) max_lat = lat;
  int64_t b = lat / HIST_US;
  if (b >= HIST_N) b = HIST_N - 1;
  hist[b]++;
}

static int64_t percentile(double p) {
  int64_t n = 0, seen = 0;
  for (int64_t i = 0; i < HIST_N; i++) n += hist[i];
  if (n == 0) return 0;
  for (int64_t i = 0; i < HIST_N; i++) {
    seen += hist[i];
    if (seen >= p * n) return i * HIST_US;
  }
  return (int64_t)HIST_N * HIST_US;
}

static int open_conn(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  c->busy = 0;
  c->in_len = 0;
  return 0;
}

static void reset_conn(struct conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  open_conn(c);
}

static void flush_out(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0) c->out_off += n;
    else if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    else {
      errors++;
      c->busy = 0;
      reset_conn(c);
      return;
    }
  }
}

static void send_req(struct conn *c, int64_t update_id, int64_t chats, int64_t due) {
  char body[1024];
  int64_t chat = 100000 + update_id % chats;
  int blen = snprintf(body, sizeof body,
                      "{\"update_id\":%lld,\"message\":{\"message_id\":%lld,\"from\":{\"id\":%lld,\"is_bot\":false,"
                      "\"first_name\":\"Bench\",\"last_name\":\"User\",\"username\":\"bench_user_%lld\",\"language_code\":\"en\"},"
                      "\"chat\":{\"id\":%lld,\"first_name\":\"Bench\",\"last_name\":\"User\",\"username\":\"bench_user_%lld\",\"type\":\"private\"},"
                      "\"date\":1764000000,\"text\":\"hello from the benchmark, message number %lld\"}}",
                      (long long)update_id, (long long)update_id, (long long)chat, (long long)chat, (long long)chat,
                      (long long)chat, (long long)update_id);
  c->out_len = snprintf(c->out, sizeof c->out,
                        "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "X-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: %d\r\n\r\n%s",
                        path, secret, blen, body);
  c->out_off = 0;
  c->busy = 1;
  c->due_us = due;
  c->in_len = 0;
  sent++;
  flush_out(c);
}

/* Returns 1 once a whole response is in c->in (and consumes it), 0 if more bytes are needed. */
static int parse_response(struct conn *c, int *status) {
  c->in[c->in_len < BUF ? c->in_len : BUF - 1] = 0;
  char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (!end) return 0;
  int head = (int)(end - c->in) + 4;
  *status = atoi(c->in + 9);
  long clen = 0;
  for (char *p = c->in; p < end; p++) {
    if ((p == c->in || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) clen = strtol(p + 15, NULL, 10);
  }
  if (c->in_len < head + clen) return 0;
  int rest = c->in_len - head - (int)clen;
  memmove(c->in, c->in + head + clen, rest);
  c->in_len = rest;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s PORT PATH SECRET RATE SECONDS CONNS FIRST_UPDATE_ID [CHATS]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  path = argv[2];
  secret = argv[3];
  double rate = atof(argv[4]);
  double seconds = atof(argv[5]);
  int nconns = atoi(argv[6]);
  int64_t first_id = atoll(argv[7]);
  int64_t chats = argc > 8 ? atoll(argv[8]) : 1000;
  if (nconns < 1 || nconns > MAX_CONNS || rate <= 0 || seconds <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  hist = calloc(HIST_N, sizeof *hist);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ep = epoll_create1(0);
  for (int i = 0; i < nconns; i++) {
    conns[i].fd = -1;
    if (open_conn(&conns[i]) < 0) {
      fprintf(stderr, "connect failed: %s\n", strerror(errno));
      return 1;
    }
  }

  int64_t total = (int64_t)(rate * seconds);
  int64_t t0 = now_us() + 10000; /* let the connections open */
  int64_t next = 0;               /* next request index to send */
  int64_t max_waiting = 0;
  int64_t deadline = t0 + (int64_t)(seconds * 1e6) + 10 * 1000000;
  struct epoll_event evs[256];
  for (;;) {
    int64_t t = now_us();
    int64_t due_n = t < t0 ? 0 : (int64_t)((double)(t - t0) * rate / 1e6) + 1;
    if (due_n > total) due_n = total;
    int64_t waiting = due_n - next;
    if (waiting > max_waiting) max_waiting = waiting;
    for (int i = 0; i < nconns && next < due_n; i++) {
      struct conn *c = &conns[i];
      if (c->busy || c->fd < 0) continue;
      send_req(c, first_id + next, chats, t0 + (int64_t)((double)next * 1e6 / rate));
      next++;
    }
    int inflight = 0;
    for (int i = 0; i < nconns; i++) inflight += conns[i].busy;
    if (next >= total && inflight == 0) break;
    if (t > deadline) break;
    int n = epoll_wait(ep, evs, 256, 1);
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      if (c->fd < 0) continue;
      if (evs[k].events & (EPOLLERR | EPOLLHUP)) {
        if (c->busy) errors++;
        c->busy = 0;
        reset_conn(c);
        continue;
      }
      if (evs[k].events & EPOLLOUT) flush_out(c);
      if (evs[k].events & EPOLLIN) {
        for (;;) {
          ssize_t r = read(c->fd, c->in + c->in_len, BUF - 1 - c->in_len);
          if (r > 0) {
            c->in_len += r;
            int status;
            while (c->busy && parse_response(c, &status)) {
              record(now_us() - c->due_us);
              if (status >= 200 && status < 300) ok++;
              else non2xx++;
              c->busy = 0;
            }
          } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (c->busy) errors++;
            c->busy = 0;
            reset_conn(c);
            break;
          } else break;
        }
      }
    }
  }
  double span = (double)(now_us() - t0) / 1e6;
  printf("{\"offered\":%.0f,\"due\":%lld,\"sent\":%lld,\"ok\":%lld,\"non2xx\":%lld,\"errors\":%lld,\"unsent\":%lld,"
         "\"p50_us\":%lld,\"p90_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld,\"max_waiting\":%lld,\"seconds\":%.2f}\n",
         rate, (long long)total, (long long)sent, (long long)ok, (long long)non2xx, (long long)errors,
         (long long)(total - next), (long long)percentile(0.5), (long long)percentile(0.9), (long long)percentile(0.99),
         (long long)max_lat, (long long)max_waiting, span);
  return 0;
}
