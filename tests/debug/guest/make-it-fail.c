// SPDX-License-Identifier: GPL-2.0
/*
 * Debug lane, fault-injection pass: LD_PRELOAD'ed by make-it-fail.sh, sets
 * /proc/self/make-it-fail once the program is loaded, before main(). Set
 * before exec, it fails the exec itself (exit 126) nearly every time.
 * Children inherit the flag through fork.
 */
#include <fcntl.h>
#include <unistd.h>

__attribute__((constructor)) static void bb_make_it_fail(void)
{
	int fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			_exit(125);
		close(fd);
	}
}
