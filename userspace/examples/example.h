/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What every example shares: reporting and error handling. Not part of
 * libbadbatch; copy what you need.
 *
 * The library returns negative errno values instead of setting errno, so
 * one macro turns "rc < 0" into a message naming the failed call.
 */
#ifndef BADBATCH_EXAMPLE_H
#define BADBATCH_EXAMPLE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <badbatch.h>

/* "example-x: message", flushed: the VM runs static binaries unbuffered. */
static inline __attribute__((format(printf, 1, 2)))
void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s: ", program_invocation_short_name);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Report a failed check and exit non-zero: each example checks itself. */
#define die(...)					\
	do {						\
		say("FAILED: " __VA_ARGS__);		\
		exit(1);				\
	} while (0)

/* Die when a library call returns a negative errno. */
#define CHECK(call)						\
	do {							\
		int rc_ = (call);				\
								\
		if (rc_ < 0)					\
			die("%s: %s", #call, strerror(-rc_));	\
	} while (0)

#endif /* BADBATCH_EXAMPLE_H */
