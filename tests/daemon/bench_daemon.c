// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-daemon: the round trip of a call through xcalld (threads backend)
 * with 1, 8 and 64 clients, beside its floor measured in the same run: a
 * raw SOCK_SEQPACKET echo between two processes with frames of the same
 * sizes. Prints one table: p50/p99 of the round trip, calls/s, and the
 * ratio of each p50 to the echo's.
 *
 * Two more floors, servers of xcalld's shape that run no call and check
 * nothing, on the same socket, frames and clients as xcalld:
 *   - relay: one event loop (epoll) receives each frame and hands it to a
 *     worker thread pinned to the target CPU (mutex and condition
 *     variable), which sends the reply: the three wake-ups of a call
 *     through xcalld (client to loop, loop to worker, worker to client)
 *     against the echo's two;
 *   - loop: the same event loop replying itself, with 64 pipelining
 *     clients: what one server thread can answer on this machine at all.
 *
 *   bench_daemon XCALLD [SECONDS]
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"
#include "bench.h"

#define WINDOW		16	/* calls in flight per pipelining client */
#define MAX_SAMPLES	(1 << 20)

static double secs = 2.0;
static char sock_path[108];
static int target_cpu;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_daemon: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct result {
	uint64_t *lat;		/* ns per call */
	size_t n;
	double elapsed;		/* s */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(struct result *r, double p)
{
	size_t i = (size_t)(p * (double)(r->n - 1));

	return (double)r->lat[i] / 1000.0;
}

/* A ping request frame for @target_cpu, as the daemon backend sends it. */
static int ping_frame(uint8_t *buf, uint64_t id)
{
	struct xcall_req req = { .fn = XCALL_FN_PING };
	uint8_t set[16] = { 0 };

	set[target_cpu / 8] = 1U << (target_cpu % 8);
	return __xcall_wire_enc_call(buf, XCALL_WIRE_MAX_REQ, id, &req, set,
				     16);
}

/* ---- the floor: echo between two processes ------------------------------ */

static void echo_bench(struct result *r)
{
	uint8_t req[XCALL_WIRE_MAX_REQ], rep[XCALL_WIRE_MAX_FRAME];
	int fd, len, st;
	uint64_t t0, start;
	pid_t pid;

	/* Answers each frame with one the size of a ping reply. */
	pid = xt_bench_echo(&fd, XCALL_WIRE_REPLY_RES +
			    sizeof(struct xcall_result));
	if (pid < 0)
		die("echo child");
	len = ping_frame(req, 1);
	start = now_ns();
	for (r->n = 0; r->n < MAX_SAMPLES; r->n++) {
		t0 = now_ns();
		if (send(fd, req, len, 0) != len ||
		    recv(fd, rep, sizeof(rep), 0) <= 0)
			die("echo");
		r->lat[r->n] = now_ns() - t0;
		if ((r->n & 255) == 0 && now_ns() - start > secs * 1e9)
			break;
	}
	r->elapsed = (double)(now_ns() - start) / 1e9;
	close(fd);
	waitpid(pid, &st, 0);
}

/* ---- floors of xcalld's shape: an event loop, and a worker ---------------- */

struct relay {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;			/* the frame's client, -1: none pending */
	uint64_t id;
};

/* Answer frame @id on @fd as xcalld answers a ping to one CPU. */
static void floor_reply(int fd, uint64_t id)
{
	uint8_t out[XCALL_WIRE_MAX_FRAME];
	struct xcall_result res = { .cpu = (uint32_t)target_cpu };
	int len = __xcall_wire_enc_reply(out, sizeof(out), id, 0, &res, 1);

	if (len < 0 || send(fd, out, len, MSG_NOSIGNAL) != len)
		_exit(3);
}

static void *relay_worker(void *arg)
{
	struct relay *rl = arg;
	cpu_set_t set;
	uint64_t id;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(target_cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_mutex_lock(&rl->lock);
	for (;;) {
		while (rl->fd < 0)
			pthread_cond_wait(&rl->cond, &rl->lock);
		fd = rl->fd;
		id = rl->id;
		rl->fd = -1;
		pthread_cond_signal(&rl->cond);
		pthread_mutex_unlock(&rl->lock);
		floor_reply(fd, id);
		pthread_mutex_lock(&rl->lock);
	}
	return NULL;
}

/*
 * The floor server at @path: an epoll loop over its clients that answers
 * each frame itself (@relay false) or through the worker. Runs in a child
 * until killed; tells @ready when it listens.
 */
static void floor_server(const char *path, bool relay, int ready)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev, evs[64];
	static struct relay rl = { PTHREAD_MUTEX_INITIALIZER,
				   PTHREAD_COND_INITIALIZER, -1, 0 };
	uint8_t in[XCALL_WIRE_MAX_REQ];
	int lfd, ep, n, i, fd;
	pthread_t th;
	ssize_t len;

	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 128))
		_exit(2);
	if (relay && pthread_create(&th, NULL, relay_worker, &rl))
		_exit(2);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) || write(ready, "r", 1) != 1)
		_exit(2);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			while ((len = recv(fd, in, sizeof(in), 0)) > 0) {
				uint64_t id = __xcall_wire_peek_id(in, len);

				if (!relay) {
					floor_reply(fd, id);
					continue;
				}
				pthread_mutex_lock(&rl.lock);
				while (rl.fd >= 0)
					pthread_cond_wait(&rl.cond, &rl.lock);
				rl.fd = fd;
				rl.id = id;
				pthread_cond_signal(&rl.cond);
				pthread_mutex_unlock(&rl.lock);
			}
			if (len == 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
}

/* Start a floor server in a child; sock_path names it. */
static pid_t start_floor(const char *dir, bool relay)
{
	int p[2];
	char c;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", dir,
		 relay ? "relay" : "loop");
	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(p[0]);
		floor_server(sock_path, relay, p[1]);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "bench_daemon: the %s floor did not start\n",
			relay ? "relay" : "loop");
		exit(1);
	}
	close(p[0]);
	return pid;
}

static void stop_floor(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(sock_path);
}

/* ---- the daemon ------------------------------------------------------------- */

static pid_t start_daemon(const char *xcalld, char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char notify[128], buf[512];
	int nfd;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "%s/xcalld.sock", dir);
	snprintf(notify, sizeof(notify), "%s/notify", dir);
	nfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	strcpy(sa.sun_path, notify);
	if (nfd < 0 || bind(nfd, (struct sockaddr *)&sa, sizeof(sa)))
		die("notify socket");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 2);
		setenv("NOTIFY_SOCKET", notify, 1);
		execl(xcalld, "xcalld", "-s", sock_path, "-c", "/nonexistent",
		      "-u", "-", "-b", "threads", NULL);
		_exit(127);
	}
	pfd.fd = nfd;
	pfd.events = POLLIN;
	for (;;) {
		ssize_t n;

		if (poll(&pfd, 1, 20000) != 1) {
			fprintf(stderr, "bench_daemon: %s not ready\n", xcalld);
			exit(1);
		}
		n = recv(nfd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "READY=1"))
				break;
		}
	}
	close(nfd);
	unlink(notify);
	return pid;
}

static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	strcpy(sa.sun_path, sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	return fd;
}

struct client {
	pthread_t th;
	int window;
	uint64_t *lat;
	size_t n, cap;
	uint64_t stop_at;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	uint8_t req[XCALL_WIRE_MAX_REQ], rep[XCALL_WIRE_MAX_FRAME];
	uint64_t sent_at[WINDOW], next = 0, id;
	struct xcall_wire_callrep cr;
	int fd = connect_daemon(), len, out = 0;
	bool stopping = false;

	for (;;) {
		while (!stopping && out < c->window) {
			len = ping_frame(req, next);
			sent_at[next % WINDOW] = now_ns();
			if (send(fd, req, len, 0) != len)
				die("send");
			next++;
			out++;
		}
		if (!out)
			break;
		len = (int)recv(fd, rep, sizeof(rep), 0);
		if (len <= 0 || __xcall_wire_dec_reply(rep, len, &id, &cr) ||
		    cr.error || cr.nres != 1)
			die("reply");
		if (c->n < c->cap)
			c->lat[c->n++] = now_ns() - sent_at[id % WINDOW];
		out--;
		if (!stopping && ((c->n & 63) == 0 || c->n == c->cap) &&
		    (now_ns() > c->stop_at || c->n == c->cap))
			stopping = true;
	}
	close(fd);
	return NULL;
}

static void daemon_bench(int nclients, int window, struct result *r)
{
	struct client *c = calloc(nclients, sizeof(*c));
	size_t per = MAX_SAMPLES / nclients;
	uint64_t start = now_ns();
	int i;

	for (i = 0; i < nclients; i++) {
		c[i].window = window;
		c[i].lat = r->lat + i * per;
		c[i].cap = per;
		c[i].stop_at = start + (uint64_t)(secs * 1e9);
		if (pthread_create(&c[i].th, NULL, client_main, &c[i]))
			die("pthread_create");
	}
	r->n = 0;
	for (i = 0; i < nclients; i++) {
		pthread_join(c[i].th, NULL);
		memmove(r->lat + r->n, c[i].lat, c[i].n * sizeof(uint64_t));
		r->n += c[i].n;
	}
	r->elapsed = (double)(now_ns() - start) / 1e9;
	free(c);
}

/*
 * One line of the table, and two records: FIG_p50 (the round trip's
 * median, p10 and p90) and FIG_rate (calls/s over the whole row).
 */
static void row(const char *fig, const char *name, int clients, int window,
		struct result *r, double floor_p50)
{
	char what[80], f[48];

	qsort(r->lat, r->n, sizeof(uint64_t), cmp_u64);
	printf("%-26s %7d %6d %9.1f %9.1f %11.0f %9.2fx\n", name, clients,
	       window, pct(r, 0.5), pct(r, 0.99), (double)r->n / r->elapsed,
	       pct(r, 0.5) / floor_p50);
	snprintf(what, sizeof(what), "%s, %d client(s), round trip", name,
		 clients);
	snprintf(f, sizeof(f), "%s_p50", fig);
	xt_bench_record("daemon", f, "us", pct(r, 0.5), pct(r, 0.1),
			pct(r, 0.9), r->n, what);
	snprintf(what, sizeof(what), "%s, %d client(s), calls/s", name,
		 clients);
	snprintf(f, sizeof(f), "%s_rate", fig);
	xt_bench_record("daemon", f, "calls/s", (double)r->n / r->elapsed,
			NAN, NAN, 1, what);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/xcalld-bench.XXXXXX";
	struct result r = { 0 };
	double floor_p50;
	pid_t pid;
	int st;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_daemon XCALLD [SECONDS]\n");
		return 64;
	}
	if (argc > 2)
		secs = atof(argv[2]);
	target_cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	r.lat = malloc(MAX_SAMPLES * sizeof(uint64_t));
	if (!r.lat || !mkdtemp(dir))
		die("setup");

	printf("xcalld round trip: ping on CPU %d, %ld CPUs online, %.1f s "
	       "per row\n", target_cpu, sysconf(_SC_NPROCESSORS_ONLN), secs);
	printf("%-26s %7s %6s %9s %9s %11s %10s\n", "case", "clients",
	       "window", "p50_us", "p99_us", "calls/s", "p50/echo");
	echo_bench(&r);
	qsort(r.lat, r.n, sizeof(uint64_t), cmp_u64);
	floor_p50 = pct(&r, 0.5);
	row("echo", "raw SEQPACKET echo", 1, 1, &r, floor_p50);

	pid = start_floor(dir, true);
	daemon_bench(1, 1, &r);
	row("relay_1", "floor: loop + worker relay", 1, 1, &r, floor_p50);
	stop_floor(pid);
	pid = start_floor(dir, false);
	daemon_bench(64, WINDOW, &r);
	row("loop_64", "floor: loop answers itself", 64, WINDOW, &r,
	    floor_p50);
	stop_floor(pid);

	/* $XCALLD_BENCH_SOCKET: measure a daemon already running there. */
	if (getenv("XCALLD_BENCH_SOCKET")) {
		snprintf(sock_path, sizeof(sock_path), "%s",
			 getenv("XCALLD_BENCH_SOCKET"));
		pid = 0;
	} else {
		pid = start_daemon(argv[1], dir);
	}
	daemon_bench(1, 1, &r);
	row("xcalld_1", "xcalld", 1, 1, &r, floor_p50);
	daemon_bench(8, WINDOW, &r);
	row("xcalld_8", "xcalld, pipelined", 8, WINDOW, &r, floor_p50);
	daemon_bench(64, WINDOW, &r);
	row("xcalld_64", "xcalld, pipelined", 64, WINDOW, &r, floor_p50);
	free(r.lat);
	if (!pid) {
		rmdir(dir);
		return 0;
	}
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	unlink(sock_path);
	rmdir(dir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
