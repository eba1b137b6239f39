/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The whole shared sequencing protocol, for the module and the library. */
#ifndef _BADBATCH_PROTOCOL_H
#define _BADBATCH_PROTOCOL_H

#include "view.h"
#include "gating.h"
#include "claim.h"
#include "consume.h"
#include "record.h"

#endif /* _BADBATCH_PROTOCOL_H */
