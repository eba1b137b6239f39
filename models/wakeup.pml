/*
 * wakeup.pml - need-wakeup sleeping and waking under TSO, with halt.
 *
 * One single producer P publishes K events into N slots; C0 and C1 follow
 * the cursor and C2 joins them (deps {C0, C1}), so C2 gates P. Everyone
 * who cannot go on blocks in the kernel (bb_wait()): queue, announce on
 * the counters (consumer_waiters, producer_waiters, or consumers[d].waiters
 * of each dependency still at or behind its seq), recheck after a full
 * barrier, sleep. A mover stores its sequence, issues a full barrier,
 * loads the counters and enters the kernel (bb_wake()) only when one is
 * set; the wake function wakes a waiter only if its condition holds and
 * then drops its announcement, and prunes a join's announcements on
 * dependencies that passed it (bb_announce_prune()). A waiter that finds
 * its announcement dropped announces again before sleeping again.
 *
 * TSO: every process's plain stores go through its own FIFO store buffer,
 * drained entirely by a full barrier or a locked instruction (atomic_inc,
 * spin_lock). Other drains happen at any time; here they happen lazily,
 * just before some other CPU loads the location (see()): a drain nobody
 * loads in between is invisible, so this admits exactly the behaviours of
 * free-running drains without their interleavings. No process loads a
 * location it has a store pending to, so forwarding needs no modelling.
 * A blocking guard on a buffered location also offers the drain, so a
 * pending store never blocks anyone forever by itself.
 *
 * Halt: a halter may set the flag (buffered) and wake everyone
 * (EPOLLHUP: no condition). Sleepers return -ESHUTDOWN, consumers drain
 * what is visible (a join waits for its inputs, bb_drain_or_shutdown())
 * and every consumer closes its fd when done, which heals the graph
 * (bb_topology_forget(): a join follows what a departed input followed),
 * bumps topo_seq and wakes everyone.
 *
 * Checked: no lost wakeup (once nothing can move, nobody sleeps while
 * what it waits for was stored: the Monitor's assertion); no run ends
 * with anyone asleep or waiting (invalid end state); without a halt
 * every consumer gets all K events; no slot is refilled under an
 * attached consumer; every announcement is withdrawn at the end.
 *
 * -DNC=1 keeps C0 alone; -DNO_HALT never halts (K, N: events, slots).
 *
 * -DSTAY_ATTACHED keeps C0 and C1 attached after they return (threads
 * of one process that close their fds once all have returned). A claim
 * taken before the halt and published after it then strands C2: its
 * inputs returned -ESHUTDOWN before the late event was visible. The
 * library gives up after a grace period without progress; with
 * -DNO_HALT_GRACE (the library before that fix) C2 yields forever.
 *
 * -DNO_FENCE drops the barrier in bb_consumers_need_wake() and
 * -DNO_ADVANCE_FENCE the one in bb_consumer_advance(): each must lose a
 * wakeup (a sleeper sees the old sequence after announcing, the mover
 * loads the counter before its store left the buffer). *
 * -DSLEEPER_BARRIER is BB_FEAT_SLEEPER_BARRIER: movers have no barrier of
 * their own (a compiler barrier keeps their load after their store in
 * program order, which a process here always does); instead, after
 * announcing and before re-checking, a sleeper has every CPU execute a
 * full barrier (bb_barrier_movers(), IPIs): every store buffer drains,
 * as one step of its own. -DNO_IPI drops that step and must lose a
 * wakeup.
 */

#ifndef K
#define K	3		/* events */
#endif
#ifndef N
#define N	2		/* slots */
#endif
/*
 * NC 3: C0 and C1 follow the cursor, C2 (the join) follows both, so the
 * prune and the healing on close are exercised. NC 1: C0 alone.
 */
#ifndef NC
#define NC	3
#endif
#if NC == 3
#define JOIN	2
#define DEPS0	3
#define ALIVE0	7
#define GMASK0	4
#else
#define JOIN	9		/* none */
#define DEPS0	0
#define ALIVE0	1
#define GMASK0	1
#endif

#define OK	0
#define SHUT	1
#define AGAIN	2
#define SLEEP	3		/* nothing yet: go to sleep */

/* Wait queues. */
#define CQ	1		/* consumer_wq: consumers following the cursor */
#define DQ	2		/* dependent_wq */

/* BB_WAKE_* */
#define WCONS	1
#define WPROD	2
#define WDEP	4

/* An announcement's counters: consumers[0].waiters, [1], consumer_waiters. */
#define A_D0	1
#define A_D1	2
#define A_CW	4

/* Memory (what other CPUs see). */
byte cursor;
byte cseq[NC];
bool halted;
/* Header, kernel-written: need-wakeup counters and the graph. */
byte cw, pw, dw[2];
byte topo;			/* topo_seq: a change is one atomic step here */
byte deps2 = DEPS0;		/* C2's deps: bit j = follows Cj */
byte alive = ALIVE0;		/* attached consumers */
byte gmask = GMASK0;		/* gating: attached, nobody follows */

/* Store buffers, drained in order. */
chan pbuf = [2] of { byte };
chan cbuf[NC] = [1] of { byte };
chan hbuf = [1] of { bool };

/* Kernel state of the waiters (struct bb_waiter, struct bb_announce). */
byte q[NC];			/* queue it is on, 0 if none */
byte ann[NC];			/* A_* counters it holds */
byte wseq[NC];
bool asleep[NC];		/* TASK_INTERRUPTIBLE, not yet woken */
bool pq, pann, pasleep;
byte pwseq;

byte fin;			/* participants finished */

/*
 * Scratch: gm is written after the last choice of the step that reads
 * it, so it stays out of the state vector (pan does not restore a hidden
 * variable when it backtracks). tmp receives from channels, which pan
 * undoes through the variable, so it is kept and zeroed after use.
 */
hidden byte gm;
byte tmp;
byte got[NC];			/* events each consumer finished */
/* Ghosts: what was stored, whether or not it left the buffer yet. */
byte pub;			/* events published */
byte fseq[NC];			/* each consumer's sequence */

#define DEPS(i)		((i) == JOIN -> deps2 : 0)
/* bb_ready() for consumer i at seq s; deps and sequences are loaded. */
#define READY(i, s)	(DEPS(i) == 0 -> cursor > (s) :			\
			 ((!(DEPS(i) & 1) || cseq[0] > (s)) &&		\
			  (!(DEPS(i) & 2) || cseq[1] > (s))))

/* Drain a store buffer into memory: a barrier or a locked op. */
#define FLUSH(b, var)							\
	do								\
	:: nempty(b) -> b?tmp; var = tmp; tmp = 0			\
	:: empty(b) -> break						\
	od

/* A plain store: a full buffer retires its oldest entry first. */
#define STORE(b, var, v)						\
	if								\
	:: full(b) -> b?tmp; var = tmp; tmp = 0				\
	:: nfull(b)							\
	fi;								\
	b!v

/* Drain some prefix of a store buffer (any, even none). */
#define SEE(b, var)							\
	do								\
	:: nempty(b) -> b?tmp; var = tmp; tmp = 0			\
	:: true -> break						\
	od

/* Before loading shared locations: let pending stores land, or not. */
inline see()
{
	SEE(pbuf, cursor);
	SEE(cbuf[0], cseq[0]);
#if NC == 3
	SEE(cbuf[1], cseq[1]);
	SEE(cbuf[2], cseq[2]);
#endif
	SEE(hbuf, halted)
}

/* bb_barrier_movers(): a full barrier on every CPU drains every buffer. */
inline barrier_movers()
{
#if defined(SLEEPER_BARRIER) && !defined(NO_IPI)
	atomic {
		FLUSH(pbuf, cursor);
		FLUSH(cbuf[0], cseq[0]);
#if NC == 3
		FLUSH(cbuf[1], cseq[1]);
		FLUSH(cbuf[2], cseq[2]);
#endif
		FLUSH(hbuf, halted)
	}
#else
	skip
#endif
}

/* bb_gating_min(v, bound) under the topology seqlock: one snapshot. */
inline gating_min(bound, out)
{
	atomic {
		see();
		out = bound;
		if
		:: (gmask & 1) && cseq[0] < out -> out = cseq[0]
		:: else
		fi;
		if
		:: (gmask & 2) && cseq[1] < out -> out = cseq[1]
		:: else
		fi;
		if
		:: (gmask & 4) && cseq[NC - 1] < out -> out = cseq[NC - 1]
		:: else
		fi
	}
}

inline unannounce(i)
{
	if
	:: ann[i] & A_D0 -> dw[0]--
	:: else
	fi;
	if
	:: ann[i] & A_D1 -> dw[1]--
	:: else
	fi;
	if
	:: ann[i] & A_CW -> cw--
	:: else
	fi;
	ann[i] = 0
}

/* bb_wake_fn() for consumer i, under its queue's lock. */
inline wake_fn(i, hup)
{
	see();
	if
	:: hup || READY(i, wseq[i]) ->
		unannounce(i);
		asleep[i] = 0
	:: else ->
		/* bb_announce_prune(): counters in dep order, keep one. */
		if
		:: ann[i] == (A_D0 | A_D1) ->
			if
			:: cseq[0] > wseq[i] -> dw[0]--; ann[i] = A_D1
			:: else ->
				if
				:: cseq[1] > wseq[i] -> dw[1]--; ann[i] = A_D0
				:: else
				fi
			fi
		:: else
		fi
	fi
}

inline pwake_fn(hup)
{
	gating_min(pwseq, gm);
	if
	:: hup || pwseq < gm + N ->
		if
		:: pann -> pw--; pann = 0
		:: else
		fi;
		pasleep = 0
	:: else
	fi
}

/* wake_up_interruptible_poll() on one consumer queue. */
inline wake_queue(which, hup)
{
	atomic {
		j = 0;
		do
		:: j < NC ->
			if
			:: q[j] == which -> wake_fn(j, hup)
			:: else
			fi;
			j++
		:: else -> j = 0; break
		od
	}
}

/* BB_IOC_WAKE: entering the kernel and taking a lock drains the buffer. */
inline sys_wake(what, b, var)
{
	atomic {
		FLUSH(b, var);
		if
		:: what & WCONS -> wake_queue(CQ, 0)
		:: else
		fi
	}
	if
	:: what & WPROD -> atomic { if :: pq -> pwake_fn(0) :: else fi }
	:: else
	fi;
	if
	:: what & WDEP -> wake_queue(DQ, 0)
	:: else
	fi
}

/*
 * bb_wake_all(): after a halt or a change of the graph. One step here:
 * the flag or the graph it follows is visible before the first queue
 * lock, and a waiter queued after any of the three locks rechecks after
 * its own barrier and sees it, so where it queues makes no difference.
 */
inline wake_all()
{
	atomic {
		wake_queue(CQ, 1);
		if
		:: pq -> pwake_fn(1)
		:: else
		fi;
		wake_queue(DQ, 1)
	}
}

/* bb_announce() for consumer i waiting for s, under the queue lock. */
inline announce(i, s)
{
	see();
	if
	:: DEPS(i) == 0 ->
		cw++;
		ann[i] = A_CW
	:: else ->
		/* bb_blocking_deps(): those at or behind s, else all. */
		ann[i] = 0;
		if
		:: (DEPS(i) & 1) && cseq[0] <= s -> ann[i] = A_D0
		:: else
		fi;
		if
		:: (DEPS(i) & 2) && cseq[1] <= s -> ann[i] = ann[i] | A_D1
		:: else
		fi;
		if
		:: ann[i] == 0 -> ann[i] = DEPS(i)
		:: else
		fi;
		if
		:: ann[i] & A_D0 -> dw[0]++
		:: else
		fi;
		if
		:: ann[i] & A_D1 -> dw[1]++
		:: else
		fi
	fi
}

/*
 * bb_wait() for consumer i at seq s: ret is OK or SHUT. Steps whose
 * split no other CPU can tell apart are merged (set_current_state()'s
 * barrier and the bb_ready() loads; the last three checks), but the
 * ready check stays apart from the announcement check, so a waker can
 * drop the announcement in between and the waiter must announce anew.
 */
inline cwait(i, s, ret)
{
	wseq[i] = s;
	do
	:: /* topo_seq, then queue and announce under the queue lock. */
		atomic {
			atop = topo;
			FLUSH(cbuf[i], cseq[i]);
			q[i] = (DEPS(i) == 0 -> CQ : DQ);
			announce(i, s)
		}
		barrier_movers();
		/* bb_wait_announced() */
		do
		:: atomic { asleep[i] = 1; see(); rdy = READY(i, s) };
			if
			:: rdy -> ret = OK; break
			:: else
			fi;
			atomic {
				see();
				if
				:: halted -> ret = SHUT
				:: else ->
					if
					:: topo != atop || ann[i] == 0 -> ret = AGAIN
					:: else -> ret = SLEEP
					fi
				fi
			}
			if
			:: ret != SLEEP -> break
			:: else
			fi;
			/* schedule() */
			!asleep[i]
		od;
		/* TASK_RUNNING, remove_wait_queue(), bb_unannounce() */
		atomic { asleep[i] = 0; q[i] = 0; unannounce(i); wseq[i] = 0; atop = 0; rdy = 0 };
		if
		:: ret != AGAIN -> break
		:: else
		fi
	od
}

/* bb_wait() for the producer at seq s. */
inline pwait(s, ret)
{
	atomic { see(); rdy = halted };
	if
	:: rdy -> ret = SHUT
	:: else ->
		pwseq = s;
		do
		:: atomic {
				atop = topo;
				FLUSH(pbuf, cursor);
				pq = 1;
				pw++;
				pann = 1
			}
			barrier_movers();
			do
			:: atomic {
					pasleep = 1;
					see();
					if
					:: halted -> ret = SHUT
					:: else ->
						gating_min(s, gm);
						if
						:: s < gm + N -> ret = OK
						:: else -> ret = SLEEP
						fi
					fi
				}
				if
				:: ret != SLEEP -> break
				:: else
				fi;
				atomic {
					see();
					if
					:: halted -> ret = SHUT
					:: else ->
						if
						:: topo != atop || !pann -> ret = AGAIN
						:: else -> ret = SLEEP
						fi
					fi
				}
				if
				:: ret != SLEEP -> break
				:: else
				fi;
				!pasleep
			od;
			atomic {
				pasleep = 0;
				pq = 0;
				pwseq = 0;
				atop = 0;
				rdy = 0;
				if
				:: pann -> pw--; pann = 0
				:: else
				fi
			}
			if
			:: ret != AGAIN -> break
			:: else
			fi
		od
	fi
}

active proctype Producer()
{
	byte next, gating, ret, atop, j;
	bool rdy, waited;

	do
	:: next == K -> break
	:: else ->
		/*
		 * badbatch_claim(): no new claim once halted; after a wait,
		 * bb_claim_wait() claims again without looking.
		 */
		atomic {
			see();
			rdy = halted && !waited;
			waited = 0;
			/* bb_has_room() for one slot: the cache, then a refresh. */
			if
			:: !rdy && next + 1 > gating + N -> gating_min(next, gating)
			:: else
			fi
		}
		if
		:: rdy -> break
		:: else
		fi;
		if
		:: next + 1 <= gating + N ->
			/* Slot next: every attached consumer passed next - N. */
			assert(next < N ||
			       ((!(alive & 1) || cseq[0] > next - N) &&
				(!(alive & 2) || cseq[1] > next - N) &&
				(!(alive & 4) || cseq[NC - 1] > next - N)));
			next++;
			/* bb_publish(): a plain store on x86. */
			atomic { STORE(pbuf, cursor, next); pub = next };
			/* bb_consumers_need_wake(): barrier, load the counter. */
			atomic {
#if !defined(NO_FENCE) && !defined(SLEEPER_BARRIER)
				FLUSH(pbuf, cursor);
#endif
				rdy = cw != 0
			}
			if
			:: rdy -> sys_wake(WCONS, pbuf, cursor)
			:: else
			fi;
			rdy = 0
		:: else ->
			/* bb_claim_wait(): sleep for slot next, claim again. */
			pwait(next, ret);
			if
			:: ret == SHUT -> break
			:: else
			fi;
			ret = 0;
			rdy = 0;
			waited = 1
		fi
	od;
	fin++
}

proctype Consumer(byte id)
{
	byte seq, lim, ret, d, wake, atop, j;
	bool shut, rdy;

	do
	:: seq == K -> break
	:: else ->
		/* bb_consumer_limit(): deps, then cursor or deps minimum. */
		atomic {
			see();
			d = DEPS(id);
			if
			:: d == 0 -> lim = cursor
			:: else ->
				lim = seq + N;
				if
				:: (d & 1) && cseq[0] < lim -> lim = cseq[0]
				:: else
				fi;
				if
				:: (d & 2) && cseq[1] < lim -> lim = cseq[1]
				:: else
				fi
			fi;
			if
			:: lim > seq + N -> lim = seq + N
			:: else
			fi
		}
		if
		:: lim > seq ->
			got[id] = got[id] + lim - seq;
			seq = lim;
			/* bb_consumer_advance(): release store, barrier, loads. */
			atomic { STORE(cbuf[id], cseq[id], seq); fseq[id] = seq };
			atomic {
#if !defined(NO_ADVANCE_FENCE) && !defined(SLEEPER_BARRIER)
				FLUSH(cbuf[id], cseq[id]);
#endif
				wake = 0;
				if
				:: id < 2 && dw[id] != 0 -> wake = WDEP
				:: else
				fi;
				if
				:: (gmask & (1 << id)) && pw != 0 -> wake = wake | WPROD
				:: else
				fi
			}
			if
			:: wake != 0 -> sys_wake(wake, cbuf[id], cseq[id])
			:: else
			fi;
			wake = 0;
			lim = 0
		:: else ->
			atomic { see(); rdy = cursor > seq };
			if
			:: !shut ->
				cwait(id, seq, ret);
				if
				:: ret == SHUT -> shut = 1
				:: else
				fi;
				ret = 0;
				rdy = 0
			:: shut && d != 0 && rdy ->
				/*
				 * bb_drain_or_shutdown() -EAGAIN: an input still
				 * holds published events; yield until it moves
				 * or leaves (the graph changes), or until the
				 * grace period without progress runs out (time
				 * is not modelled: it may run out at any step).
				 */
				do
#ifndef NO_HALT_GRACE
				:: goto grace_over
#endif
				:: atomic {
					(DEPS(id) != d ||
					 ((!(d & 1) || cseq[0] > seq) &&
					  (!(d & 2) || cseq[1] > seq))) -> break
				   }
				:: atomic { nempty(cbuf[0]) -> cbuf[0]?tmp; cseq[0] = tmp; tmp = 0 }
				:: atomic { nempty(cbuf[1]) -> cbuf[1]?tmp; cseq[1] = tmp; tmp = 0 }
				od;
				rdy = 0
			:: else -> break	/* -ESHUTDOWN */
			fi
		fi
	od;
#ifndef NO_HALT_GRACE
	goto grace_done;
grace_over:	/* -ESHUTDOWN after BB_HALT_GRACE_NS */
	skip;
grace_done:
#endif
	/* Close the fd: bb_detach() heals the graph, wakes everyone. */
#ifdef STAY_ATTACHED
	/* The inputs are threads whose fds close only when all are done. */
	if
	:: id != JOIN -> goto closed
	:: else
	fi;
#endif
	atomic {
		FLUSH(cbuf[id], cseq[id]);
		alive = alive & ~(1 << id);
		if
		:: id < 2 && (deps2 & (1 << id)) -> deps2 = deps2 & ~(1 << id)
		:: else
		fi;
		if
		:: id == JOIN -> deps2 = 0
		:: else
		fi;
		gmask = alive & ~((alive & 4) -> deps2 : 0);
		topo = topo + 2;
		wake_all()
	}
#ifdef STAY_ATTACHED
closed:
#endif
	fin++
}

active proctype Halter()
{
	byte j;

	if
	:: skip
#ifndef NO_HALT
	:: hbuf!1;
		/* r->lock, then the wait-queue locks: drained by now. */
		atomic {
			FLUSH(hbuf, halted);
			wake_all()
		}
#endif
	fi
}

/*
 * Once nothing can move: nobody may be asleep while what it waits for
 * was stored, drained or not (a real buffer drains by itself, but that
 * wakes nobody). The invalid end state would be reported anyway; this
 * names the lost wakeup.
 */
active proctype Monitor()
{
	byte i;
	bool lost_wakeup;

end:	timeout ->
	atomic {
		i = 0;
		do
		:: i < NC ->
			lost_wakeup = lost_wakeup ||
				(asleep[i] &&
				 (DEPS(i) == 0 -> pub > wseq[i] :
				  (!(DEPS(i) & 1) || fseq[0] > wseq[i]) &&
				  (!(DEPS(i) & 2) || fseq[1] > wseq[i])));
			i++
		:: else -> break
		od;
		/* The producer: every gating consumer passed its slot's last use. */
		lost_wakeup = lost_wakeup ||
			(pasleep &&
			 (!(gmask & 1) || pwseq < fseq[0] + N) &&
			 (!(gmask & 2) || pwseq < fseq[1] + N) &&
			 (!(gmask & 4) || pwseq < fseq[NC - 1] + N));
		assert(!lost_wakeup)
	}
}

init
{
	byte j;

	atomic {
		j = 0;
		do
		:: j < NC -> run Consumer(j); j++
		:: else -> break
		od
	}
	fin == NC + 1;
	/* Nobody still announced: every announcement was withdrawn. */
	assert(cw == 0 && pw == 0 && dw[0] == 0 && dw[1] == 0);
	j = 0;
	do
	:: j < NC -> assert(halted || got[j] == K); j++
	:: else -> break
	od
}
