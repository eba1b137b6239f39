// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Producers and consumers: attach to a ring (a descriptor of their own,
 * bound by BB_IOC_ATTACH, and the mappings their role may have), detach.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Two cache lines: the unit adjacent-line prefetchers move. */
#define BB_HANDLE_ALIGN	128

enum { MAP_HDR, MAP_PROD, MAP_CONS, MAP_SELF, MAP_SLOTS, MAP_POOLS };

/* Are the regions large enough for everything the view will index? */
static int bb_check_regions(const struct bb_info *in, bool consumer,
			    bool pool)
{
	__u64 n = in->slot_count;

	if (in->producer_len < sizeof(struct bb_producer_page) ||
	    in->consumer_stride < sizeof(__u64) || in->consumer_stride % 8 ||
	    in->consumers_len < in->consumer_stride * in->max_consumers ||
	    in->slots_len < n * in->slot_size)
		return -EPROTO;
	if ((in->flags & BB_RING_MULTI_PRODUCER) &&
	    (in->avail_off % 4 || in->avail_off > in->producer_len ||
	     in->producer_len - in->avail_off < n * sizeof(__u32)))
		return -EPROTO;
	if (consumer && (in->self_len < sizeof(__u64) ||
			 in->consumer_id >= in->max_consumers))
		return -EPROTO;
	if (pool && in->pools_len <
		    BB_MAX_POOLS * sizeof(struct bb_pool_entry))
		return -EOPNOTSUPP;
	return 0;
}

static int bb_map_regions(struct bb_part *p, const struct bb_info *in,
			  bool producer, bool consumer, bool pool)
{
	bool slots_rw = producer ||
			(in->flags & BB_RING_MUTABLE_CONSUMERS);
	int fd = p->fd;
	int rc;

	rc = bb_sys_map(fd, in->header_off, in->header_len, false,
			&p->maps[MAP_HDR]);
	if (!rc)
		rc = bb_sys_check_header(p->maps[MAP_HDR].addr, in);
	if (!rc)
		rc = bb_sys_map(fd, in->producer_off, in->producer_len,
				producer, &p->maps[MAP_PROD]);
	if (!rc)
		rc = bb_sys_map(fd, in->consumers_off, in->consumers_len,
				false, &p->maps[MAP_CONS]);
	if (!rc && consumer)
		rc = bb_sys_map(fd, in->self_off, in->self_len, true,
				&p->maps[MAP_SELF]);
	if (!rc)
		rc = bb_sys_map(fd, in->slots_off, in->slots_len, slots_rw,
				&p->maps[MAP_SLOTS]);
	if (!rc && pool)
		rc = bb_sys_map(fd, in->pools_off, in->pools_len, true,
				&p->maps[MAP_POOLS]);
	return rc;
}

/*
 * Bind a new descriptor to ring as a->role, map what the role may map and
 * build p->view. On failure everything is undone.
 */
int bb_part_attach(struct badbatch *ring, struct bb_attach *a,
		   struct bb_part *p)
{
	bool consumer = a->role == BB_ROLE_CONSUMER;
	bool pool = a->flags & BB_ATTACH_POOL;
	unsigned char *prod;
	struct bb_info in;
	int rc;

	if (ring->fd >= 0) {
		a->flags = BB_ATTACH_FD | (pool ? BB_ATTACH_POOL : 0);
		a->ring_fd = ring->fd;
	} else {
		a->flags = BB_ATTACH_NAME | (pool ? BB_ATTACH_POOL : 0);
		a->ring_fd = -1;
		memcpy(a->name, ring->name, sizeof(a->name));
	}
	p->fd = bb_sys_open();
	if (p->fd < 0)
		return p->fd;
	memset(&in, 0, sizeof(in));
	rc = bb_sys_ioctl(p->fd, BB_IOC_ATTACH, a);
	if (!rc)
		rc = bb_sys_ioctl(p->fd, BB_IOC_INFO, &in);
	if (!rc)
		rc = bb_sys_check_info(&in);
	if (!rc)
		rc = bb_check_regions(&in, consumer, pool);
	if (!rc && consumer && in.consumer_id != a->consumer_id)
		rc = -EPROTO;
	if (!rc)
		rc = bb_map_regions(p, &in, a->role == BB_ROLE_PRODUCER,
				    consumer, pool);
	if (rc) {
		bb_part_detach(p);
		return rc;
	}
	prod = p->maps[MAP_PROD].addr;
	p->record = NULL;
	/* A module without claim records leaves records_off 0. */
	if (a->role == BB_ROLE_PRODUCER &&
	    (in.flags & BB_RING_MULTI_PRODUCER) && in.records_off &&
	    in.record_id < BB_MAX_RECORDS && in.records_off % 8 == 0 &&
	    in.records_off <= in.producer_len &&
	    (in.producer_len - in.records_off) /
	    sizeof(struct bb_claim_record) > in.record_id)
		p->record = (struct bb_claim_record *)(prod + in.records_off) +
			    in.record_id;
	/* Before any claim: the kernel may then count on the record. */
	if (p->record && (in.features & BB_FEAT_RECORD_WON))
		bb_record_keep(p->record);
	bb_view_init(&p->view, p->maps[MAP_HDR].addr, prod,
		     (in.flags & BB_RING_MULTI_PRODUCER) ?
		     (__u32 *)(prod + in.avail_off) : NULL,
		     p->maps[MAP_CONS].addr, in.consumer_stride,
		     p->maps[MAP_SLOTS].addr);
	/* An older module leaves it 0: movers keep their full barrier. */
	p->view.sleeper_barrier = in.features & BB_FEAT_SLEEPER_BARRIER;
	return 0;
}

void bb_part_detach(struct bb_part *p)
{
	unsigned int i;

	for (i = 0; i < BB_PART_MAPS; i++)
		bb_sys_unmap(&p->maps[i]);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int bb_part_halt(struct bb_part *p)
{
	if (p->mem) {
		bb_mem_halt(p->mem);
		return 0;
	}
	return bb_sys_ioctl(p->fd, BB_IOC_HALT, NULL);
}

static const struct badbatch_wait_config *
bb_wait_of(const struct badbatch_wait_config *w)
{
	static const struct badbatch_wait_config defaults;

	return w ? w : &defaults;
}

/* Attach through the kernel or the memory ring; resolve the strategy. */
static int bb_attach_any(struct badbatch *ring, struct bb_attach *a,
			 const struct badbatch_wait_config *w,
			 struct bb_part *p, __u64 **self)
{
	int rc;

	/* Memory rings have nobody to count a pool's members. */
	if (ring->mem && (a->flags & BB_ATTACH_POOL))
		return -EOPNOTSUPP;
	/* Refuse a bad config before changing the ring's topology. */
	rc = bb_waitcfg_resolve(&p->wait, w, BB_WAIT_BLOCK);
	if (rc)
		return rc;
	p->fd = -1;
	if (ring->mem) {
		rc = bb_mem_attach(ring->mem, a, p, self);
		if (rc)
			return rc;
	} else {
		rc = bb_part_attach(ring, a, p);
		if (rc)
			return rc;
		if (self)
			*self = p->maps[MAP_SELF].addr;
	}
	return bb_waitcfg_resolve(&p->wait, w, p->view.hdr->wait_strategy);
}

static void bb_detach_any(struct bb_part *p, __u32 role, __u32 id)
{
	if (p->mem)
		bb_mem_detach(p->mem, p, role, id);
	else
		bb_part_detach(p);
}

/*
 * A zeroed handle on cache lines of its own: its hot fields are written
 * on every claim or batch, and must not share a line (or the adjacent
 * line a prefetcher pulls with it) with another thread's handle.
 */
static void *bb_handle_alloc(size_t size)
{
	size_t rounded = (size + BB_HANDLE_ALIGN - 1) & ~(BB_HANDLE_ALIGN - 1);
	void *h = aligned_alloc(BB_HANDLE_ALIGN, rounded);

	if (h)
		memset(h, 0, rounded);
	return h;
}

int badbatch_producer_attach(struct badbatch *ring,
			     const struct badbatch_producer_config *cfg,
			     struct badbatch_producer **pp)
{
	struct badbatch_producer *p;
	struct bb_attach a;
	const struct bb_view *v;
	__u64 frontier;
	int rc;

	if (!ring || !pp)
		return -EINVAL;
	p = bb_handle_alloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.role = BB_ROLE_PRODUCER;
	a.consumer_id = BB_ID_ANY;
	rc = bb_attach_any(ring, &a, bb_wait_of(cfg ? &cfg->wait : NULL),
			   &p->part, NULL);
	if (rc) {
		if (p->part.view.hdr)
			bb_detach_any(&p->part, BB_ROLE_PRODUCER, 0);
		free(p);
		return rc;
	}
	v = &p->part.view;
	p->rec = p->part.record;
	if (v->multi) {
		frontier = bb_load(&v->prod->claim);
	} else {
		/*
		 * Resume after what is published: a predecessor's claims it
		 * never published are not visible and are claimed again.
		 */
		frontier = bb_load_acquire(&v->prod->cursor);
		p->pc.next = frontier;
		p->published = frontier;
		p->claim_end = frontier;
	}
	p->pc.gating = bb_gating_min(v, frontier);
	*pp = p;
	return 0;
}

void badbatch_producer_close(struct badbatch_producer *p)
{
	if (!p)
		return;
	bb_detach_any(&p->part, BB_ROLE_PRODUCER, 0);
	free(p);
}

/*
 * Trailing by default for the strategies that already trade a little
 * latency for throughput; the busy spins promise the least latency, and
 * a coalescing consumer keeps away from the producer already. Pool
 * members claim their own batches: nothing to trail. A trail never
 * outlasts the wait's timeout.
 */
static __u32 bb_trail_resolve(const struct badbatch_consumer_config *cfg,
			      const struct bb_waitcfg *w, int pool)
{
	__u32 ns = cfg->trail_ns;

	if (ns == BADBATCH_TRAIL_OFF || pool >= 0)
		return 0;
	if (!ns) {
		if (w->strategy == BB_WAIT_BUSY_SPIN ||
		    w->strategy == BB_WAIT_BUSY_SPIN_PAUSE || cfg->min_batch)
			return 0;
		ns = BADBATCH_TRAIL_DEFAULT_NS;
	}
	if (w->timeout_ns && ns > w->timeout_ns)
		ns = (__u32)w->timeout_ns;
	return ns;
}

int bb_consumer_new(struct badbatch *ring,
		    const struct badbatch_consumer_config *cfg, int pool,
		    struct badbatch_consumer **cp)
{
	static const struct badbatch_consumer_config defaults;
	struct badbatch_consumer *c;
	struct bb_attach a;
	int rc;

	if (!ring || !cp || pool >= BB_MAX_POOLS)
		return -EINVAL;
	if (!cfg)
		cfg = &defaults;
	if (cfg->want_id && cfg->id >= BB_MAX_CONSUMERS)
		return -EINVAL;
	/* Coalescing: both or neither, and no more than a batch may hold. */
	if (!cfg->min_batch != !cfg->linger_ns || cfg->min_batch == 1 ||
	    (cfg->max_batch && cfg->min_batch > cfg->max_batch))
		return -EINVAL;
	if (cfg->trail_ns > BADBATCH_TRAIL_MAX_NS &&
	    cfg->trail_ns != BADBATCH_TRAIL_OFF)
		return -EINVAL;
	c = bb_handle_alloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.role = BB_ROLE_CONSUMER;
	a.consumer_id = cfg->want_id ? cfg->id : BB_ID_ANY;
	a.deps = cfg->deps;
	if (pool >= 0) {
		a.flags = BB_ATTACH_POOL;
		a.pool = (__u32)pool;
	}
	rc = bb_attach_any(ring, &a, &cfg->wait, &c->part, &c->self);
	if (rc) {
		if (c->part.view.hdr)
			bb_detach_any(&c->part, BB_ROLE_CONSUMER,
				      a.consumer_id);
		free(c);
		return rc;
	}
	c->id = a.consumer_id;
	if (pool >= 0)
		c->pools = c->part.maps[MAP_POOLS].addr;
	/* Where the kernel started us; pairs with its store of it. */
	c->seq = bb_load_acquire(c->self);
	c->limit = c->seq;
	c->max_batch = cfg->max_batch;
	if (!c->max_batch || c->max_batch > c->part.view.size)
		c->max_batch = c->part.view.size;
	/* Beyond the ring (max_batch 0): a full ring is all there can be. */
	c->min_batch = cfg->min_batch < c->max_batch ? cfg->min_batch :
						       c->max_batch;
	c->linger_ns = cfg->linger_ns;
	c->trail_ns = bb_trail_resolve(cfg, &c->part.wait, pool);
	c->taken_from = c->seq;
	*cp = c;
	return 0;
}

int badbatch_consumer_attach(struct badbatch *ring,
			     const struct badbatch_consumer_config *cfg,
			     struct badbatch_consumer **cp)
{
	return bb_consumer_new(ring, cfg, -1, cp);
}

void badbatch_consumer_close(struct badbatch_consumer *c)
{
	if (!c)
		return;
	bb_detach_any(&c->part, BB_ROLE_CONSUMER, c->id);
	free(c);
}

int badbatch_producer_fd(const struct badbatch_producer *p)
{
	return p->part.fd;
}

int badbatch_consumer_fd(const struct badbatch_consumer *c)
{
	return c->part.fd;
}

int badbatch_producer_halt(struct badbatch_producer *p)
{
	return bb_part_halt(&p->part);
}

int badbatch_consumer_halt(struct badbatch_consumer *c)
{
	return bb_part_halt(&c->part);
}

uint32_t badbatch_consumer_id(const struct badbatch_consumer *c)
{
	return c->id;
}
