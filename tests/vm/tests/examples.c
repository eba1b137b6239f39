// SPDX-License-Identifier: GPL-2.0
/*
 * Run every example program ($BUILD/bin/example-*) with a timeout, one
 * TAP line each: ok when it exits 0. The examples check their own output;
 * this only runs them, so a new example needs no change here.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_S	20	/* per example; the lane allows 120 in all */

static int is_example(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	/* Skip the compiler's dependency files next to the binaries. */
	return !strncmp(d->d_name, "example-", 8) &&
	       !(n > 2 && !strcmp(d->d_name + n - 2, ".d"));
}

/* Run path in its own process group; 0 or a description of the failure. */
static const char *run(const char *path, char *why, size_t len)
{
	struct timespec nap = { 0, 10000000 };
	int status, i;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return why;
	}
	if (!pid) {
		setpgid(0, 0);
		execl(path, path, (char *)NULL);
		printf("# exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	for (i = 0; i < TIMEOUT_S * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&nap, NULL);
	}
	/* Kill the group either way: an example must leave nothing behind. */
	kill(-pid, SIGKILL);
	if (i == TIMEOUT_S * 100) {
		waitpid(pid, &status, 0);
		snprintf(why, len, "timed out after %d s", TIMEOUT_S);
		return why;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, len, "killed by signal %d", WTERMSIG(status));
		return why;
	}
	if (WEXITSTATUS(status)) {
		snprintf(why, len, "exit status %d", WEXITSTATUS(status));
		return why;
	}
	return NULL;
}

int main(void)
{
	const char *build = getenv("BUILD");
	struct dirent **list;
	char dir[4096], path[4096 + 256], why[128];
	const char *err;
	int n, i, failed = 0;

	snprintf(dir, sizeof(dir), "%s/bin", build ? build : "build");
	n = scandir(dir, &list, is_example, alphasort);
	if (n <= 0) {
		printf("1..0 # SKIP no example-* programs in %s\n", dir);
		return 77;
	}
	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		err = run(path, why, sizeof(why));
		if (err)
			failed++;
		printf("%sok %d - %s%s%s\n", err ? "not " : "", i + 1,
		       list[i]->d_name, err ? ": " : "", err ? err : "");
		fflush(stdout);
		free(list[i]);
	}
	free(list);
	return failed ? 1 : 0;
}
