// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of a ring's regions with protections by role: only producers may
 * write the producer page and the slots (consumers too on rings created
 * mutable), only a consumer may write its own page and map (writable)
 * the work pools page, nobody writes the header, nothing is executable
 * and no mapping can grow.
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "bb_compat.h"
#include "bb_internal.h"

static bool bb_region_writable(const struct bb_ring *r,
			       const struct bb_file *bf,
			       enum bb_region_kind kind)
{
	switch (kind) {
	case BB_REGION_PRODUCER:
		return bf->role == BB_ROLE_PRODUCER;
	case BB_REGION_SELF:
	case BB_REGION_POOLS:
		return bf->role == BB_ROLE_CONSUMER;
	case BB_REGION_SLOTS:
		return bf->role == BB_ROLE_PRODUCER ||
		       (bf->role == BB_ROLE_CONSUMER &&
			(r->layout.flags & BB_RING_MUTABLE_CONSUMERS));
	default:
		return false;
	}
}

static int bb_region_find(const struct bb_ring *r, unsigned long pgoff)
{
	int kind;

	for (kind = 0; kind < BB_NR_REGIONS; kind++)
		if (r->layout.region[kind].pgoff == pgoff)
			return kind;
	return -EINVAL;
}

int bb_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bb_file *bf = file->private_data;
	struct bb_ring *r = bb_file_ring(bf);
	const struct bb_region *reg;
	unsigned long mem_pgoff;
	int kind;

	if (!r)
		return -EBADFD;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	kind = bb_region_find(r, vma->vm_pgoff);
	if (kind < 0)
		return kind;
	/* Regions only a consumer has: nobody else learns their offsets. */
	if ((kind == BB_REGION_SELF || kind == BB_REGION_POOLS) &&
	    bb_file_role(bf) != BB_ROLE_CONSUMER)
		return -EINVAL;
	reg = &r->layout.region[kind];
	if (!vma_pages(vma) || vma_pages(vma) > reg->pages)
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (!bb_region_writable(r, bf, kind)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		/* No later mprotect(PROT_WRITE) either. */
		bb_vm_flags_mod(vma, 0, VM_MAYWRITE);
	}
	bb_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);

	mem_pgoff = reg->mem_pgoff;
	if (kind == BB_REGION_SELF)
		mem_pgoff += bf->consumer_id;
	return remap_vmalloc_range(vma, r->base, mem_pgoff);
}
