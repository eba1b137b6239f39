/*
 * attach.pml - a consumer joining a running single-producer ring, under TSO.
 *
 * P claims and publishes TOTAL events into N slots with no consumer yet:
 * its gating minimum is its own frontier, cached until it runs out of
 * room (bb_has_room()), then read again under the topo_seq seqlock
 * (bb_gating_min()). Every store of P (claim, slot, cursor) goes through
 * its FIFO store buffer, which the Drain process empties one store at a
 * time whenever it likes; a full barrier empties it.
 *
 * A attaches consumer C once, at any moment (bb_attach_consumer(), or
 * bb_mem_attach() on a memory ring): topo_seq odd, then the claim
 * frontier is read and C starts there, C joins the gating mask, topo_seq
 * even. C then reads from its start on.
 *
 * Checked: C reads every event from its start to the end, each holding
 * its own sequence (never one a lap later: P did not refill a slot under
 * it), and no run blocks.
 *
 * -DNO_SNAPSHOT_FENCE drops the full barrier between P's last claim store
 * and its gating snapshot; -DNO_ATTACH_FENCE lets A's odd topo_seq store
 * sit in its buffer past its read of the frontier (the kernel's smp_wmb()
 * before the fix). Each must let P overwrite an event C has not read:
 * A reads a frontier behind the one P's cached minimum was taken at.
 */

#ifndef N
#define N	2		/* slots */
#endif
#define MASK	(N - 1)
#ifndef TOTAL
#define TOTAL	5		/* events */
#endif

#define A_CLAIM		0	/* store buffer addresses */
#define A_CURSOR	1
#define A_SLOT		2	/* + slot index */

byte claim, cursor;		/* prod->claim, prod->cursor */
byte slot[N];			/* payload: the seq of the event it holds */
byte topo;			/* hdr->topo_seq */
bool attached;			/* C in the gating mask */
byte cseq;			/* C's sequence (its consumer page) */
chan sb = [6] of { byte, byte };	/* P's store buffer: address, value */

inline apply(a, v)
{
	if
	:: a == A_CLAIM -> claim = v
	:: a == A_CURSOR -> cursor = v
	:: else -> slot[a - A_SLOT] = v
	fi
}

/* A full barrier: P waits until its store buffer has drained. */
inline fence()
{
	do
	:: atomic { nempty(sb) -> sb?da, dv; apply(da, dv) }
	:: empty(sb) -> break
	od
}

active proctype Drain()
{
	byte a, v;

end:	do
	:: atomic { nempty(sb) -> sb?a, v; apply(a, v) }
	od
}

active proctype P()
{
	byte next, gating, end, t1, g, da, dv;

	do
	:: next == TOTAL -> break
	:: else ->
		end = next + 1;
		do
		:: end <= gating + N -> break
		:: else ->
#ifndef NO_SNAPSHOT_FENCE
			fence();
#endif
			/* bb_gating_min(v, next): retry while topo moves. */
			do
			:: atomic {
				t1 = topo;
				g = next;
				if
				:: attached && cseq < g -> g = cseq
				:: else
				fi
			   };
			   if
			   :: (t1 & 1) == 0 && t1 == topo -> break
			   :: else
			   fi
			od;
			gating = g
		od;
		/* bb_claim_single_fast(): the frontier, for observers. */
		sb!A_CLAIM, end;
		sb!A_SLOT + (next & MASK), next;
		/* bb_publish(): release, after the payload. */
		sb!A_CURSOR, end;
		next = end
	od;
	fence()
}

active proctype A()
{
	byte start;

#ifdef NO_ATTACH_FENCE
	/* The odd store still buffered when the frontier is read. */
	start = claim;
	topo++;
#else
	/* bb_topology_begin(): odd, then a full barrier. */
	topo++;
	start = claim;
#endif
	atomic {
		cseq = start;
		attached = true
	};
	topo++;			/* bb_topology_end(): even again */
	run C(start)
}

proctype C(byte start)
{
	byte seq = start;

	do
	:: seq == TOTAL -> break
	:: else ->
		cursor > seq;
		assert(slot[seq & MASK] == seq);
		seq++;
		cseq = seq
	od
}
