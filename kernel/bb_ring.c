// SPDX-License-Identifier: GPL-2.0
/*
 * Rings: validation of the creation arguments, the memory layout, the
 * pages behind it and the ring's lifetime (one reference per bound fd).
 */
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "bb_internal.h"

#define BB_DEFAULT_CONSUMERS	16

static atomic64_t bb_next_ring_id = ATOMIC64_INIT(0);

/* "" is valid (unnamed); otherwise [A-Za-z0-9._-]+ with a NUL in bounds. */
int bb_name_validate(const char *name)
{
	size_t len = strnlen(name, BB_NAME_MAX);
	size_t i;

	if (len == BB_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		/* The kernel's isalnum() takes Latin-1 letters: ASCII only. */
		if (!isascii(c) ||
		    (!isalnum(c) && c != '.' && c != '_' && c != '-'))
			return -EINVAL;
	}
	/* Bytes after the NUL must be zero too: no stale user data. */
	for (; i < BB_NAME_MAX; i++)
		if (name[i])
			return -EINVAL;
	return 0;
}

int bb_create_validate(const struct bb_create *c)
{
	size_t i;

	if (c->flags & ~BB_RING_FLAGS_ALL)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(c->reserved); i++)
		if (c->reserved[i])
			return -EINVAL;
	if (c->ring_id)
		return -EINVAL;
	if (c->slot_count < BB_MIN_SLOTS || c->slot_count > BB_MAX_SLOTS ||
	    !is_power_of_2(c->slot_count))
		return -EINVAL;
	if (!c->slot_size || c->slot_size > BB_MAX_SLOT_SIZE ||
	    c->slot_size % 8)
		return -EINVAL;
	if (c->max_consumers > BB_MAX_CONSUMERS)
		return -EINVAL;
	if (c->wait_strategy > BB_WAIT_STRATEGY_MAX)
		return -EINVAL;
	if (c->mode & ~0777U)
		return -EINVAL;
	return bb_name_validate(c->name);
}

/*
 * Memory: [header][producer page + avail + records][consumer pages][slots]
 * [pools].
 * Offsets: the same, with one extra page for "self" before the slots.
 */
void bb_layout_compute(const struct bb_create *c, struct bb_layout *l)
{
	size_t prod_bytes = sizeof(struct bb_producer_page);
	struct bb_region *r = l->region;
	unsigned long mem = 0, off;

	l->flags = c->flags;
	l->slot_count = c->slot_count;
	l->slot_size = c->slot_size;
	l->shift = ilog2(c->slot_count);
	l->max_consumers = c->max_consumers ?: BB_DEFAULT_CONSUMERS;
	l->wait_strategy = c->wait_strategy;
	/* Multi-producer: avail[], then the producers' claim records. */
	if (c->flags & BB_RING_MULTI_PRODUCER)
		prod_bytes = bb_records_off(c->flags, c->slot_count) +
			     BB_MAX_RECORDS * sizeof(struct bb_claim_record);

	r[BB_REGION_HEADER].pages = 1;
	r[BB_REGION_PRODUCER].pages = DIV_ROUND_UP(prod_bytes, PAGE_SIZE);
	r[BB_REGION_CONSUMERS].pages = l->max_consumers;
	r[BB_REGION_SELF].pages = 1;
	r[BB_REGION_SLOTS].pages =
		DIV_ROUND_UP((size_t)c->slot_count * c->slot_size, PAGE_SIZE);
	r[BB_REGION_POOLS].pages = DIV_ROUND_UP(BB_MAX_POOLS *
						sizeof(struct bb_pool_entry),
						PAGE_SIZE);

	for (off = 0; off < BB_NR_REGIONS; off++) {
		r[off].mem_pgoff = mem;
		if (off != BB_REGION_SELF)
			mem += r[off].pages;
	}
	r[BB_REGION_SELF].mem_pgoff = r[BB_REGION_CONSUMERS].mem_pgoff;
	l->nr_pages = mem;

	for (off = 0, mem = 0; off < BB_NR_REGIONS; off++) {
		r[off].pgoff = mem;
		mem += r[off].pages;
	}
}

size_t bb_layout_bytes(const struct bb_layout *l)
{
	return l->nr_pages << PAGE_SHIFT;
}

static void bb_ring_free_pages(struct bb_ring *r)
{
	unsigned long i;

	if (r->base)
		vunmap(r->base);
	if (!r->pages)
		return;
	for (i = 0; i < r->layout.nr_pages && r->pages[i]; i++)
		__free_page(r->pages[i]);
	kvfree(r->pages);
}

/* Zeroed pages charged to the caller's memcg, mapped into the kernel. */
static int bb_ring_alloc_pages(struct bb_ring *r)
{
	unsigned long i, n = r->layout.nr_pages;

	/*
	 * NOWARN: with max_ring_mb and max_user_mb raised high enough the
	 * array alone can exceed what kvmalloc() allows (it WARNs on that),
	 * or what vmalloc can find: that is just ENOMEM.
	 */
	r->pages = kvcalloc(n, sizeof(*r->pages),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!r->pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* NORETRY: a ring too big for its memcg fails, no OOM kill. */
		r->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					 __GFP_NOWARN | __GFP_NORETRY);
		if (!r->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	/* VM_USERMAP: remap_vmalloc_range() refuses other areas. */
	r->base = vmap(r->pages, n, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	return r->base ? 0 : -ENOMEM;
}

static void *bb_region_addr(struct bb_ring *r, enum bb_region_kind kind)
{
	return r->base + (r->layout.region[kind].mem_pgoff << PAGE_SHIFT);
}

/* Write the read-only header and build the kernel's own view. */
static void bb_ring_init_shared(struct bb_ring *r)
{
	const struct bb_layout *l = &r->layout;
	struct bb_ring_header *h = r->base;
	struct bb_view *v = &r->view;

	h->magic = BB_MAGIC;
	h->version = BB_ABI_VERSION;
	h->flags = l->flags;
	h->slot_count = l->slot_count;
	h->slot_size = l->slot_size;
	h->slot_shift = l->shift;
	h->max_consumers = l->max_consumers;
	h->wait_strategy = l->wait_strategy;
	h->ring_id = r->id;
	h->fail_by = BB_ID_ANY;
	r->hdr = h;
	r->fail_by = BB_ID_ANY;
	r->pools = bb_region_addr(r, BB_REGION_POOLS);

	v->hdr = h;
	v->prod = bb_region_addr(r, BB_REGION_PRODUCER);
	v->avail = (l->flags & BB_RING_MULTI_PRODUCER) ?
		   (u32 *)(v->prod + 1) : NULL;
	if (l->flags & BB_RING_MULTI_PRODUCER)
		r->records = (void *)v->prod +
			     bb_records_off(l->flags, l->slot_count);
	v->consumers = bb_region_addr(r, BB_REGION_CONSUMERS);
	v->cons_stride = PAGE_SIZE;
	v->slots = bb_region_addr(r, BB_REGION_SLOTS);
	v->mask = l->slot_count - 1;
	v->size = l->slot_count;
	v->shift = l->shift;
	v->slot_size = l->slot_size;
	v->max_consumers = l->max_consumers;
	v->multi = l->flags & BB_RING_MULTI_PRODUCER;
}

void bb_ring_destroy(struct bb_ring *r)
{
	if (r->acct)
		bb_account_uncharge(r->acct, bb_layout_bytes(&r->layout));
	bb_ring_free_pages(r);
	kfree(r);
}

/* A new ring, referenced once, named in the table if it has a name. */
int bb_ring_create(const struct bb_create *c, struct bb_ring **ringp)
{
	struct bb_ring *r;
	int ret;

	ret = bb_create_validate(c);
	if (ret)
		return ret;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	bb_layout_compute(c, &r->layout);
	ret = bb_account_charge(current_euid(), bb_layout_bytes(&r->layout),
				&r->acct);
	if (ret)
		goto fail;
	ret = bb_ring_alloc_pages(r);
	if (ret)
		goto fail;

	kref_init(&r->ref);
	mutex_init(&r->lock);
	INIT_LIST_HEAD(&r->node);
	INIT_LIST_HEAD(&r->intents);
	init_waitqueue_head(&r->consumer_wq);
	init_waitqueue_head(&r->producer_wq);
	init_waitqueue_head(&r->dependent_wq);
	r->id = atomic64_inc_return(&bb_next_ring_id);
	memcpy(r->name, c->name, BB_NAME_MAX);
	r->uid = current_euid();
	r->gid = current_egid();
	r->mode = c->mode ?: 0600;
	/* For the ring's life: a protocol change under movers loses wakeups. */
	r->sleeper_barrier = bb_sleeper_barrier_default();
	bb_ring_init_shared(r);

	ret = bb_names_insert(r);
	if (ret)
		goto fail;
	*ringp = r;
	return 0;
fail:
	bb_ring_destroy(r);
	return ret;
}
