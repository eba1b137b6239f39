/* SPDX-License-Identifier: GPL-2.0 */
/* Small shims for kernels newer than the 6.1 this module targets. */
#ifndef _BB_COMPAT_H
#define _BB_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void bb_vm_flags_mod(struct vm_area_struct *vma,
				   unsigned long set, unsigned long clear)
{
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
}
#else
static inline void bb_vm_flags_mod(struct vm_area_struct *vma,
				   unsigned long set, unsigned long clear)
{
	vm_flags_mod(vma, set, clear);
}
#endif

#endif /* _BB_COMPAT_H */
