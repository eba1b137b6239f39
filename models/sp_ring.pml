/*
 * sp_ring.pml - single-producer ring, a two-stage pipeline.
 *
 * P claims by advancing a private frontier (batches of 1 or 2) with the
 * room check of bb_has_room() (cached gating minimum, refreshed only when
 * the cache says full), fills the slots, then release-stores the cursor.
 * C1 follows the cursor (bb_published_limit), C2 follows C1
 * (bb_deps_min); only C2 gates P. Events wrap the ring several times.
 *
 * Checked: a consumer never reads a slot before it is published and never
 * after it was refilled (payload == seq), P never refills a slot that a
 * consumer has not passed, every event reaches both consumers once and in
 * order, and no run blocks (every wait is a blocking guard, not a spin
 * loop, so a stuck wait is an invalid end state rather than a cycle).
 *
 * Promela is sequentially consistent: the release/acquire pairs of the
 * real code are exactly what makes the message passing here SC.
 */

#ifndef N
#define N	2		/* slots, a power of two */
#endif
#define MASK	(N - 1)
#ifndef TOTAL
#define TOTAL	8		/* events: four laps of the ring */
#endif
#define EMPTY	255		/* payload of a slot never written */

byte cursor;			/* prod->cursor: events published */
byte c1, c2;			/* the consumers' sequences */
byte slot[N];			/* payload: the seq of the event it holds */
byte done;

active proctype Producer()
{
	byte next, gating, n, end, s;

	do
	:: next == TOTAL -> break
	:: else ->
		if
		:: n = 1
		:: next + 2 <= TOTAL -> n = 2
		fi;
		end = next + n;
		/* bb_has_room(): the cached minimum first, it is never too high. */
		if
		:: end > gating + N ->
			/*
			 * bb_gating_min() over {C2}, bounded by the frontier. A
			 * blocking guard stands for the wait strategy: claim
			 * again once C2 moved, and hang visibly if it never does.
			 */
			atomic { end <= c2 + N -> gating = c2 };
			assert(gating <= next)
		:: else
		fi;
		s = next;
		do
		:: s < end ->
			/* The old occupant, s - N, is finished by everyone. */
			assert(s < N || (c1 > s - N && c2 > s - N));
			slot[s & MASK] = s;
			s++
		:: else -> break
		od;
		next = end;
		/* bb_publish(): release, after the payload stores. */
		cursor = end
	od;
	done++
}

active proctype C1()
{
	byte seq, lim, s;

	do
	:: seq == TOTAL -> break
	:: else ->
		/* bb_published_limit(v, seq, N): wait, then cap at a ring. */
		cursor > seq;
		lim = cursor;
		/* max: one event, or a whole ring (the cap in the code). */
		if
		:: lim = seq + 1
		:: lim > seq + N -> lim = seq + N
		:: lim <= seq + N
		fi;
		s = seq;
		do
		:: s < lim ->
			assert(slot[s & MASK] == s);
			s++
		:: else -> break
		od;
		/* bb_consumer_advance(): one release store per batch. */
		seq = lim;
		c1 = seq
	od;
	done++
}

active proctype C2()
{
	byte seq, lim, s;

	do
	:: seq == TOTAL -> break
	:: else ->
		/* bb_consumer_limit() with deps = {C1}. */
		c1 > seq;
		lim = c1;
		/* max: one event, or a whole ring (the cap in the code). */
		if
		:: lim = seq + 1
		:: lim > seq + N -> lim = seq + N
		:: lim <= seq + N
		fi;
		s = seq;
		do
		:: s < lim ->
			assert(slot[s & MASK] == s);
			s++
		:: else -> break
		od;
		seq = lim;
		c2 = seq
	od;
	done++
}

/* Every event reached everyone, once each (seq only moves by reads). */
active proctype Check()
{
	done == 3;
	assert(cursor == TOTAL && c1 == TOTAL && c2 == TOTAL)
}
