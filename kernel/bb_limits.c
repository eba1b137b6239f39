// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits: module parameters bounding one ring, one user and the
 * whole module, and the per-user byte accounting behind them. The pages
 * themselves are also charged to the creator's memory cgroup.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "bb_internal.h"

static unsigned int max_ring_mb = 256;
module_param(max_ring_mb, uint, 0644);
MODULE_PARM_DESC(max_ring_mb, "Largest ring, in MiB (default 256)");

static unsigned int max_user_mb = 1024;
module_param(max_user_mb, uint, 0644);
MODULE_PARM_DESC(max_user_mb, "Ring memory per user, in MiB (default 1024)");

static unsigned int max_rings = 4096;
module_param(max_rings, uint, 0644);
MODULE_PARM_DESC(max_rings, "Rings alive at once (default 4096)");

struct bb_account {
	struct list_head node;
	kuid_t uid;
	u64 bytes;
	unsigned int rings;
};

static LIST_HEAD(bb_accounts);
static DEFINE_SPINLOCK(bb_accounts_lock);
static u64 bb_nr_rings;		/* under bb_accounts_lock */

static struct bb_account *bb_account_find(kuid_t uid)
{
	struct bb_account *a;

	list_for_each_entry(a, &bb_accounts, node)
		if (uid_eq(a->uid, uid))
			return a;
	return NULL;
}

/*
 * Charge one ring of bytes to uid: -E2BIG when no ring may be that big,
 * -ENOSPC when the user or the module is out of budget.
 */
int bb_account_charge(kuid_t uid, size_t bytes, struct bb_account **acct)
{
	struct bb_account *fresh, *a;
	int ret = 0;

	if (bytes > (u64)READ_ONCE(max_ring_mb) << 20)
		return -E2BIG;
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;

	spin_lock(&bb_accounts_lock);
	a = bb_account_find(uid);
	if (!a) {
		a = fresh;
		fresh = NULL;
		a->uid = uid;
		list_add(&a->node, &bb_accounts);
	}
	if (bb_nr_rings >= READ_ONCE(max_rings) ||
	    a->bytes + bytes > (u64)READ_ONCE(max_user_mb) << 20) {
		ret = -ENOSPC;
		if (!a->rings) {
			list_del(&a->node);
			fresh = a;
		}
	} else {
		a->bytes += bytes;
		a->rings++;
		bb_nr_rings++;
		*acct = a;
	}
	spin_unlock(&bb_accounts_lock);
	kfree(fresh);
	return ret;
}

void bb_account_uncharge(struct bb_account *a, size_t bytes)
{
	bool last;

	spin_lock(&bb_accounts_lock);
	a->bytes -= bytes;
	last = --a->rings == 0;
	if (last)
		list_del(&a->node);
	bb_nr_rings--;
	spin_unlock(&bb_accounts_lock);
	if (last)
		kfree(a);
}

u64 bb_rings_alive(void)
{
	u64 n;

	spin_lock(&bb_accounts_lock);
	n = bb_nr_rings;
	spin_unlock(&bb_accounts_lock);
	return n;
}
