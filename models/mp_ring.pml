/*
 * mp_ring.pml - multi-producer ring: two producers, a two-stage pipeline.
 *
 * Each producer claims batches of 1 or 2 by compare-and-swap on the shared
 * claim frontier with the room check of bb_try_claim() (cached gating
 * minimum, a failed CAS reloads the frontier and checks room again),
 * fills its slots and publishes each one in either order: avail[seq &
 * mask] = round(seq). C1 follows the producers (bb_published_limit():
 * scan up to the first slot not showing its round), C2 follows C1.
 *
 * The round counter is kept modulo RMOD (2^31 in the ABI). With the
 * default RMOD 2 it wraps every other lap, the smallest modulus at which
 * "this lap" and "the lap before" still differ: if the protocol let a
 * reader see a slot two laps stale or a lap early, the check below would
 * catch the alias.
 *
 * Checked: no read before publication or after refill (payload carries
 * its seq), no refill before C1 and C2 passed the old occupant, every
 * event reaches both consumers once, in seq order and in each producer's
 * claim order, and no run blocks (waits are blocking guards).
 */

#ifndef N
#define N	2		/* slots */
#endif
#define SHIFT	1		/* log2(N) */
#define MASK	(N - 1)
#ifndef RMOD
#define RMOD	2		/* round modulus: 2^31 in the ABI */
#endif
#ifndef PER
#define PER	3		/* events per producer */
#endif
#define NP	2
#define TOTAL	(NP * PER)	/* three laps */

#define ROUND(s)	((((s) >> SHIFT) + 1) % RMOD)

byte claim;			/* prod->claim: the shared claim frontier */
byte avail[N];			/* per-slot round, 0 before the first lap */
byte c1, c2;			/* the consumers' sequences */
/* The event in a slot: its seq, its producer, its rank there. */
byte ev_seq[N], ev_pid[N], ev_k[N];
byte done;

proctype Producer(byte id)
{
	byte k, gating, n, cur, end, s;
	bool first;

	do
	:: k == PER -> break
	:: else ->
		if
		:: n = 1
		:: k + 2 <= PER -> n = 2
		fi;
		/* bb_try_claim(), multi-producer. */
		cur = claim;
		do
		:: end = cur + n;
			if
			:: end > gating + N ->
				/*
				 * Refresh from the gating set {C2}; when still
				 * full, the strategy waits until C2 or the
				 * frontier moved, then claim_now reloads.
				 */
				gating = c2;
				if
				:: end > gating + N ->
					(c2 != gating || claim != cur);
					cur = claim;
					goto retry
				:: else
				fi
			:: else
			fi;
			/* The CAS: on failure cur is reloaded, room rechecked. */
			atomic {
				if
				:: claim == cur -> claim = end; break
				:: else -> cur = claim
				fi
			}
retry:		skip
		od;
		/* [cur, end) is ours: fill it. */
		s = cur;
		do
		:: s < end ->
			assert(s < N || (c1 > s - N && c2 > s - N));
			/* Still the last lap's round: nobody reads it. */
			assert(avail[s & MASK] == (s >> SHIFT) % RMOD);
			ev_seq[s & MASK] = s;
			ev_pid[s & MASK] = id;
			ev_k[s & MASK] = k;
			k++;
			s++
		:: else -> break
		od;
		/* bb_publish(): one release store per slot, any order here. */
		if
		:: n == 1 -> avail[cur & MASK] = ROUND(cur)
		:: n == 2 ->
			if
			:: first = 0
			:: first = 1
			fi;
			avail[(cur + first) & MASK] = ROUND(cur + first);
			avail[(cur + 1 - first) & MASK] = ROUND(cur + 1 - first)
		fi
	od;
	done++
}

/* Per producer, the rank each consumer expects next. */
byte want[2 * NP];		/* [consumer * NP + producer] */

inline consume(seq, lim, c)
{
	do
	:: seq < lim ->
		assert(ev_seq[seq & MASK] == seq);
		assert(ev_k[seq & MASK] == want[c * NP + ev_pid[seq & MASK]]);
		want[c * NP + ev_pid[seq & MASK]]++;
		seq++
	:: else -> break
	od
}

active proctype C1()
{
	byte seq, lim, max;

	do
	:: seq == TOTAL -> break
	:: else ->
		if
		:: max = 1
		:: max = N
		fi;
		/* Blocking until seq is published; then scan up to max. */
		avail[seq & MASK] == ROUND(seq);
		lim = seq + 1;
		do
		:: lim < seq + max && avail[lim & MASK] == ROUND(lim) -> lim++
		:: else -> break
		od;
		consume(seq, lim, 0);
		c1 = seq
	od;
	done++
}

active proctype C2()
{
	byte seq, lim, max;

	do
	:: seq == TOTAL -> break
	:: else ->
		if
		:: max = 1
		:: max = N
		fi;
		c1 > seq;
		lim = c1;
		if
		:: lim > seq + max -> lim = seq + max
		:: else
		fi;
		consume(seq, lim, 1);
		c2 = seq
	od;
	done++
}

init
{
	atomic {
		run Producer(0);
		run Producer(1)
	}
	done == NP + 2;
	assert(claim == TOTAL && c1 == TOTAL && c2 == TOTAL);
	assert(want[0] == PER && want[1] == PER);
	assert(want[2] == PER && want[3] == PER)
}
