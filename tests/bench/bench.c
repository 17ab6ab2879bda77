// SPDX-License-Identifier: GPL-2.0
/*
 * escguard benchmark driver, run inside the test guest (static binary).
 *   bench forkexec N PATH   fork + exec PATH + wait, N times; prints ns/op
 *   bench fork N            fork + _exit + wait, N times; prints ns/op
 *   bench openclose N PATH  open(PATH, O_RDONLY) + close, N times; prints ns/op
 *   bench hold N            start N sleeping threads, print "ready", sleep
 *   bench thread-exec PATH ARG [TRIGGER]
 *                           a second thread (optionally writes "1" to TRIGGER
 *                           first) execs PATH ARG: a non-leader exec, which
 *                           swaps pids with the leader (test helper)
 *   true                    (when invoked as "true") exit 0 at once
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int reap(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench: child failed\n");
		return -1;
	}
	return 0;
}

static char **thread_exec_argv;

static void *thread_exec(void *arg)
{
	char **a = thread_exec_argv;

	if (a[4]) {
		FILE *f = fopen(a[4], "w");

		if (!f || fputs("1", f) < 0 || fclose(f)) {
			perror("bench: trigger");
			exit(1);
		}
	}
	execl(a[2], a[2], a[3], (char *)NULL);
	perror("bench: exec");
	exit(127);
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	long long t0;
	long i, n;

	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "true"))
		return 0;
	if (argc < 3) {
		fprintf(stderr, "usage: bench forkexec N PATH | fork N | hold N\n");
		return 2;
	}
	n = atol(argv[2]);
	if (!strcmp(argv[1], "thread-exec") && argc < 4) {
		fprintf(stderr, "usage: bench thread-exec PATH ARG [TRIGGER]\n");
		return 2;
	}
	if (!strcmp(argv[1], "forkexec") && argc == 4) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				execl(argv[3], "true", (char *)NULL);
				_exit(127);
			}
			if (reap(pid))
				return 1;
		}
		printf("%.0f\n", (double)(now_ns() - t0) / n);
		return 0;
	}
	if (!strcmp(argv[1], "openclose") && argc == 4) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			int fd = open(argv[3], O_RDONLY);

			if (fd < 0) {
				perror("bench: open");
				return 1;
			}
			close(fd);
		}
		printf("%.0f\n", (double)(now_ns() - t0) / n);
		return 0;
	}
	if (!strcmp(argv[1], "fork")) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(0);
			if (reap(pid))
				return 1;
		}
		printf("%.0f\n", (double)(now_ns() - t0) / n);
		return 0;
	}
	if (!strcmp(argv[1], "thread-exec") && argc >= 4) {
		pthread_t t;

		thread_exec_argv = argv;
		if (pthread_create(&t, NULL, thread_exec, NULL))
			return 1;
		for (;;)
			pause();
	}
	if (!strcmp(argv[1], "hold")) {
		/* All stacks in one mapping: 100k threads must not hit
		 * vm.max_map_count. */
		size_t sz = 16384;
		char *stacks = mmap(NULL, sz * n, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		pthread_attr_t a;

		if (stacks == MAP_FAILED) {
			perror("bench: mmap");
			return 1;
		}
		pthread_attr_init(&a);
		for (i = 0; i < n; i++) {
			pthread_t t;

			pthread_attr_setstack(&a, stacks + i * sz, sz);
			if (pthread_create(&t, &a, sleeper, NULL)) {
				fprintf(stderr, "bench: only %ld threads\n", i);
				return 1;
			}
		}
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "bench: unknown command %s\n", argv[1]);
	return 2;
}
