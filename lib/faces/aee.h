/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: errno -> AEE translation for the DSP-platform faces.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_AEE_H
#define HAPMEM_LIB_AEE_H

#include "AEEStdErr.h"

/* AEE code for 0 or -errno (the table is in AEEStdErr.h). */
int hm_errno_to_aee(int neg_errno);

#endif /* HAPMEM_LIB_AEE_H */
