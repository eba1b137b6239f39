// SPDX-License-Identifier: GPL-2.0
/*
 * The table of named rings. A name is unique while its ring lives and
 * leaves the table in the same critical section that drops the last
 * reference, so a lookup never returns a dying ring and a name is free
 * again as soon as its last fd is closed.
 */
#include <linux/string.h>
#include "bb_internal.h"

static LIST_HEAD(bb_named);
static DEFINE_MUTEX(bb_named_lock);

static struct bb_ring *bb_names_find(const char *name)
{
	struct bb_ring *r;

	list_for_each_entry(r, &bb_named, node)
		if (!strncmp(r->name, name, BB_NAME_MAX))
			return r;
	return NULL;
}

/* -EEXIST when the name is taken; unnamed rings are not listed. */
int bb_names_insert(struct bb_ring *r)
{
	int ret = 0;

	if (!r->name[0])
		return 0;
	mutex_lock(&bb_named_lock);
	if (bb_names_find(r->name))
		ret = -EEXIST;
	else
		list_add(&r->node, &bb_named);
	mutex_unlock(&bb_named_lock);
	return ret;
}

/* A new reference to the ring called name, or NULL. */
struct bb_ring *bb_names_lookup(const char *name)
{
	struct bb_ring *r;

	mutex_lock(&bb_named_lock);
	r = bb_names_find(name);
	if (r)
		kref_get(&r->ref);
	mutex_unlock(&bb_named_lock);
	return r;
}

/* Called by kref_put_mutex() with bb_named_lock held; drops it. */
static void bb_ring_release(struct kref *ref)
{
	struct bb_ring *r = container_of(ref, struct bb_ring, ref);

	list_del_init(&r->node);
	mutex_unlock(&bb_named_lock);
	bb_ring_destroy(r);
}

void bb_ring_put(struct bb_ring *r)
{
	kref_put_mutex(&r->ref, bb_ring_release, &bb_named_lock);
}
