/*
 * intent.pml - a multi-producer producer dies with its claim in flight:
 * may the kernel conclude that its CAS won (bb_prec_intent_won())?
 *
 * P and W claim by CAS on claim with the record protocol of
 * include/badbatch/record.h: intent (lo, n) before every CAS, on a win
 * the entry lo then end, then the intent cleared; after publishing a
 * slot, the entry shrinks past it. P claims 1 or 2 once and may die
 * between any two of its steps; W lives and claims 1 or 2 at a time
 * until the frontier reaches 3. Once P is dead the
 * kernel, interleaved with W at every read, looks at P's intent a few
 * times (the release, then the work item's re-checks): W's intent, then
 * W's entry, then lo's slot, and the frontier first of all. If none
 * explains the frontier passing lo + n it publishes P's [lo, lo + n)
 * abandoned.
 *
 * Checked: the kernel concludes "won" only if P's CAS from lo won, and
 * never abandons a slot of W's. Sequentially consistent: release and
 * acquire are what make the reads see the writes in this order (see
 * the comments in bb_prec_intent_won()).
 *
 * Negative controls: -DSLOT_FIRST reads the slot before the entries
 * (the order bb_prec_intent_settled() uses, fine there, where a wrong
 * "unsettled" only delays), -DNO_INTENT skips W's intent. Each must let
 * the kernel take W's claim for P's.
 */

#define MAXSEQ	8
#define NONE	255

byte claim;
bool pubd[MAXSEQ];		/* avail[] shows the slot's lap */
byte owner[MAXSEQ];		/* ghost: who won the slot (1 P, 2 W) */

/* The two records: intent and one entry each. */
byte ilo[2], in[2], elo[2], eend[2];

bool pdead;
byte p_won_lo = NONE;		/* ghost: where P's CAS won */

/* Producer i claims n: intent, CAS loop, entry, intent cleared. */
inline claim_rec(i, n, lo)
{
	lo = claim;
	ilo[i] = lo;
	in[i] = n;
	do
	:: atomic {
		if
		:: claim == lo ->
			claim = lo + n;
			k = lo;
			do
			:: k < lo + n -> owner[k] = i + 1; k++
			:: else -> break
			od;
			break
		:: else -> lo = claim
		fi
	   };
	   ilo[i] = lo		/* a new intent before the next CAS */
	od;
	elo[i] = lo;
	eend[i] = lo + n;
	in[i] = 0
}

active proctype W()
{
	byte lo, n, k, s;

	do
	:: claim >= 3 -> break
	:: else ->
		if
		:: n = 1
		:: n = 2
		fi;
		claim_rec(1, n, lo);
		s = lo;
		do
		:: s < lo + n ->
			assert(!pubd[s]);	/* nobody flagged it */
			pubd[s] = true;
			elo[1] = s + 1;		/* the entry shrinks past it */
			s++
		:: else -> break
		od
	od
}

/* P: one claim; dies (P_DIE) between any two steps, or publishes. */
#define P_DIE	if :: pdead = true; goto dead :: true fi

active proctype P()
{
	byte lo, n, k;

	if
	:: n = 1
	:: n = 2
	fi;
	lo = claim;
	P_DIE;
	ilo[0] = lo;
	P_DIE;
	in[0] = n;
	do
	:: P_DIE;
	   atomic {
		if
		:: claim == lo ->
			claim = lo + n;
			p_won_lo = lo;
			k = lo;
			do
			:: k < lo + n -> owner[k] = 1; k++
			:: else -> break
			od;
			break
		:: else -> lo = claim
		fi
	   };
	   P_DIE;
	   ilo[0] = lo
	od;
	P_DIE;
	elo[0] = lo;
	P_DIE;
	eend[0] = lo + n;
	P_DIE;
	in[0] = 0;
	/* Alive: publishes; the entry goes. */
	k = lo;
	do
	:: k < lo + n -> pubd[k] = true; k++
	:: else -> break
	od;
	elo[0] = lo + n;
	goto done;
dead:
	skip;
done:
	skip
}

active proctype Kernel()
{
	byte lo, n, f, a, b, tries, k;
	bool won;

	/* P may live: then there is nothing to release. */
end_alive:
	pdead;
	/* The release copies the dead record once. */
	atomic { lo = ilo[0]; n = in[0]; a = elo[0]; b = eend[0] };
	/* No intent, or its own entry from lo: recorded, released as such. */
	if
	:: n == 0 || (a == lo && a < b) -> goto out
	:: else
	fi;
	tries = 0;
	do
	:: tries == 3 -> break
	:: else ->
		tries++;
		won = true;
		f = claim;
		if
		:: f < lo + n -> won = false
		:: else
		fi;
#ifndef SLOT_FIRST
#ifndef NO_INTENT
		if
		:: won && in[1] != 0 && ilo[1] == lo -> won = false
		:: else
		fi;
#endif
		if
		:: won && elo[1] == lo && elo[1] < eend[1] -> won = false
		:: else
		fi;
		if
		:: won && pubd[lo] -> won = false
		:: else
		fi;
#else
		if
		:: won && pubd[lo] -> won = false
		:: else
		fi;
		if
		:: won && elo[1] == lo && elo[1] < eend[1] -> won = false
		:: else
		fi;
		if
		:: won && in[1] != 0 && ilo[1] == lo -> won = false
		:: else
		fi;
#endif
		if
		:: won ->
			assert(p_won_lo == lo);
			atomic {
				k = lo;
				do
				:: k < lo + n ->
					if
					:: !pubd[k] ->
						assert(owner[k] == 1);
						pubd[k] = true
					:: else
					fi;
					k++
				:: else -> break
				od
			};
			break
		:: else
		fi
	od;
out:
	skip
}
