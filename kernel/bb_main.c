// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/badbatch: the misc device, per-open state and the module's entry
 * points. Each open file is one handle: unbound, a creator's handle, or
 * one participant of one ring.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "bb_internal.h"

struct bb_ring *bb_file_ring(struct bb_file *bf)
{
	/* Pairs with smp_store_release() when the fd is bound. */
	return smp_load_acquire(&bf->ring);
}

/* The participant's role; its consumer_id is valid once it says CONSUMER. */
u32 bb_file_role(struct bb_file *bf)
{
	/*
	 * Pairs with smp_store_release() in bb_attach(): a creator's handle
	 * attaching to its own ring changes role on a published ring.
	 */
	return smp_load_acquire(&bf->role);
}

static int bb_open(struct inode *inode, struct file *file)
{
	struct bb_file *bf = kzalloc(sizeof(*bf), GFP_KERNEL_ACCOUNT);

	if (!bf)
		return -ENOMEM;
	mutex_init(&bf->lock);
	spin_lock_init(&bf->poll_lock);
	bf->role = BB_ROLE_NONE;
	bf->consumer_id = BB_ID_ANY;
	bf->record_id = BB_ID_ANY;
	file->private_data = bf;
	return stream_open(inode, file);
}

/* The last reference to the file: the participant is gone for good. */
static int bb_release(struct inode *inode, struct file *file)
{
	struct bb_file *bf = file->private_data;
	struct bb_ring *r = bf->ring;

	if (r) {
		bb_detach(bf);
		bb_ring_put(r);
	}
	mutex_destroy(&bf->lock);
	kfree(bf);
	return 0;
}

const struct file_operations bb_fops = {
	.owner = THIS_MODULE,
	.open = bb_open,
	.release = bb_release,
	.unlocked_ioctl = bb_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = bb_mmap,
	.poll = bb_poll,
	.read = bb_read,
	.write = bb_write,
	.llseek = no_llseek,
};

static struct miscdevice bb_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "badbatch",
	.fops = &bb_fops,
	/* Rings carry their own owner/group/other modes. */
	.mode = 0666,
};

static int __init bb_init(void)
{
	int ret = bb_prec_init();

	if (ret)
		return ret;
	ret = misc_register(&bb_misc);
	if (ret)
		bb_prec_exit();
	return ret;
}

static void __exit bb_exit(void)
{
	misc_deregister(&bb_misc);
	bb_prec_exit();
}

module_init(bb_init);
module_exit(bb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Disruptor ring buffers shared between processes");
MODULE_AUTHOR("badbatch developers");
MODULE_VERSION("0.1.0");
