/*
 * producer_death.pml - a multi-producer ring whose second producer dies.
 *
 * P0 lives: it claims batches of 1 or 2 by CAS and publishes each slot
 * through its mapping. P1 claims through BB_IOC_CLAIM, so the kernel
 * records the claim (bb_kclaims_add(): back-to-back claims extend one
 * record, clipped to a ring), and publishes through its mapping, which
 * the kernel does not see. P1 may die at any point: before a claim,
 * after it, between filling and publishing, or between the two slots of
 * a batch. Its fd release then runs bb_kclaims_abandon(): per record,
 * read the claim frontier once, and for each slot in the window CAS the
 * slot to round | ABANDONED only if it still shows the lap before.
 * C1 follows the producers and C2 follows C1; both skip abandoned slots
 * (bb_is_abandoned(), its own load, as in badbatch_consume()).
 *
 * Checked: nobody hangs (consumers wait on blocking guards, so a slot
 * left unpublished is an invalid end state); every event of P0, and
 * every event P1 published before it died, reaches both consumers once
 * and in order; only P1's unpublished slots are ever flagged; the kernel
 * never flags a slot that has moved on to a later event.
 *
 * RMOD is the round modulus (2^31 in the ABI). The lap check can only be
 * fooled by a slot RMOD - 1 laps ahead of the one it looks for, which
 * needs the ring to lap that often between the frontier read and the
 * slot read; the default 4 with three laps rules that out, as 2^31 laps
 * do in practice. -DRMOD=2 lets the model show that alias.
 */

#ifndef N
#define N	2
#endif
#define SHIFT	1
#define MASK	(N - 1)
#ifndef RMOD
#define RMOD	4
#endif
#ifndef PER0
#define PER0	2		/* P0's events */
#endif
#ifndef PER1
#define PER1	3		/* P1's events, if it lives */
#endif
#define MAXSEQ	(PER0 + PER1)
#define ABANDONED	128		/* bit 31 in the ABI */
#define RMASK	127

#define ROUND(s)	((((s) >> SHIFT) + 1) % RMOD)
#define BEFORE(s)	(((s) >> SHIFT) % RMOD)

byte claim;
byte avail[N];
byte c1, c2;
byte ev_seq[N], ev_pid[N], ev_k[N];
byte pdone;			/* producers finished (P1: dead and reaped) */

/* Ghosts, per seq: whose claim it is, and whether it was published. */
byte owner[MAXSEQ];
bool pubd[MAXSEQ];
bool p1dead;
byte p1pub;			/* P1 events published before it died */

/* Room for [cur, end) by CAS; leaves lo = the claimed start. */
inline claim_cas(n, lo, gating)
{
	lo = claim;
	do
	:: end = lo + n;
		if
		:: end > gating + N ->
			gating = c2;
			if
			:: end > gating + N ->
				(c2 != gating || claim != lo);
				lo = claim;
				goto again
			:: else
			fi
		:: else
		fi;
		atomic {
			if
			:: claim == lo ->
				claim = end;
				s = lo;
				do
				:: s < end -> owner[s] = id; s++
				:: else -> break
				od;
				break
			:: else -> lo = claim
			fi
		}
again:		skip
	od
}

/* Write event s, rank k of producer id, into its slot. */
inline fill(s, k)
{
	assert(s < N || (c1 > s - N && c2 > s - N));
	assert((avail[s & MASK] & RMASK) == BEFORE(s));
	ev_seq[s & MASK] = s;
	ev_pid[s & MASK] = id;
	ev_k[s & MASK] = k
}

/* The release store of bb_publish() for one slot. */
inline publish(s)
{
	d_step {
		avail[s & MASK] = ROUND(s);
		pubd[s] = 1;
		if
		:: id == 1 -> p1pub++
		:: else
		fi
	}
}

proctype Producer0(byte id)
{
	byte k, gating, n, lo, end, s;
	bool first;

	do
	:: k == PER0 -> break
	:: else ->
		if
		:: n = 1
		:: k + 2 <= PER0 -> n = 2
		fi;
		claim_cas(n, lo, gating);
		fill(lo, k);
		if
		:: n == 2 -> fill(lo + 1, k + 1)
		:: else
		fi;
		k = k + n;
		if
		:: n == 1 -> publish(lo)
		:: n == 2 ->
			if
			:: first = 0
			:: first = 1
			fi;
			publish(lo + first);
			publish(lo + 1 - first)
		fi
	od;
	pdone++
}

/* May die here: the fd release reaps the claims. */
#define MAYDIE	if :: goto die :: skip fi

proctype Producer1(byte id)
{
	byte k, gating, n, lo, end, s;
	bool first;
	/* The fd's claim records (struct bb_kclaims). */
	byte rlo[PER1], rend[PER1], rn, i;
	byte frontier, from, now;

	do
	:: k == PER1 -> break
	:: else ->
		MAYDIE;
		if
		:: n = 1
		:: k + 2 <= PER1 -> n = 2
		fi;
		/* BB_IOC_CLAIM: the claim and its record, no death between. */
		atomic {
			claim_cas(n, lo, gating);
			/* bb_kclaims_add() */
			i = 0;
			do
			:: i < rn && rend[i] == lo -> break
			:: i < rn && rend[i] != lo -> i++
			:: i == rn -> rlo[i] = lo; rn++; break
			od;
			rend[i] = lo + n;
			if
			:: rend[i] - rlo[i] > N -> rlo[i] = rend[i] - N
			:: else
			fi
		}
		MAYDIE;
		fill(lo, k);
		if
		:: n == 2 -> fill(lo + 1, k + 1)
		:: else
		fi;
		k = k + n;
		MAYDIE;
		if
		:: n == 1 -> publish(lo)
		:: n == 2 ->
			if
			:: first = 0
			:: first = 1
			fi;
			publish(lo + first);
			MAYDIE;
			publish(lo + 1 - first)
		fi
	od;
	pdone++;
	goto out;

die:
	p1dead = 1;
	/* bb_kclaims_abandon(), one record at a time. */
	i = 0;
	do
	:: i < rn ->
		/* bb_kclaims_window(): the frontier, read once per record. */
		frontier = claim;
		if
		:: rend[i] > frontier -> frontier = rend[i]
		:: else
		fi;
		if
		:: frontier > N -> from = frontier - N
		:: else -> from = 0
		fi;
		if
		:: rlo[i] > from -> from = rlo[i]
		:: else
		fi;
		s = from;
		do
		:: s < rend[i] ->
			now = avail[s & MASK];
			if
			:: (now & RMASK) == BEFORE(s) ->
				/* cmpxchg_release(word, now, round | ABANDONED) */
				atomic {
					if
					:: avail[s & MASK] == now ->
						/* Still s's slot: s unpublished, held. */
						assert(owner[s] == 1 && !pubd[s]);
						assert(claim <= s + N);
						avail[s & MASK] = ROUND(s) | ABANDONED
					:: else
					fi
				}
			:: else
			fi;
			s++
		:: else -> break
		od;
		i++
	:: else -> break
	od;
	/* bb_detach_claims() then wakes the consumers: they are spinning. */
	pdone++;
out:	skip
}

byte want[4];			/* [consumer * 2 + producer]: next rank */
byte got1[2];			/* P1 events each consumer got */

inline deliver(s, c)
{
	if
	:: avail[s & MASK] & ABANDONED ->
		assert(owner[s] == 1 && p1dead && !pubd[s])
	:: else ->
		assert(ev_seq[s & MASK] == s);
		if
		:: ev_pid[s & MASK] == 0 ->
			assert(ev_k[s & MASK] == want[c * 2]);
			want[c * 2]++
		:: else ->
			/* P1's survivors: in order, none twice. */
			assert(ev_k[s & MASK] >= want[c * 2 + 1]);
			want[c * 2 + 1] = ev_k[s & MASK] + 1;
			got1[c]++
		fi
	fi
}

active proctype C1()
{
	byte seq, lim, max, s;

	do
	:: pdone == 2 && seq == claim -> break
	:: (avail[seq & MASK] & RMASK) == ROUND(seq) ->
		if
		:: max = 1
		:: max = N
		fi;
		lim = seq + 1;
		do
		:: lim < seq + max &&
		   (avail[lim & MASK] & RMASK) == ROUND(lim) -> lim++
		:: else -> break
		od;
		s = seq;
		do
		:: s < lim -> deliver(s, 0); s++
		:: else -> break
		od;
		seq = lim;
		c1 = seq
	od
}

active proctype C2()
{
	byte seq, lim, max, s;

	do
	:: pdone == 2 && c1 == seq && seq == claim -> break
	:: c1 > seq ->
		if
		:: max = 1
		:: max = N
		fi;
		lim = c1;
		if
		:: lim > seq + max -> lim = seq + max
		:: else
		fi;
		s = seq;
		do
		:: s < lim -> deliver(s, 1); s++
		:: else -> break
		od;
		seq = lim;
		c2 = seq
	od
}

init
{
	atomic {
		run Producer0(0);
		run Producer1(1)
	}
	(pdone == 2 && c1 == claim && c2 == claim);
	assert(want[0] == PER0 && want[2] == PER0);
	assert(got1[0] == p1pub && got1[1] == p1pub);
	assert(p1dead || p1pub == PER1)
}
