/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: errno -> AEE translation for the DSP-platform faces.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_LIB_AEE_H
#define HAPMEM_LIB_AEE_H

#include "AEEStdErr.h"

/*
 * -HM_ECPUMAP: memory the kernel mapped for the remote could not be mapped
 * for the CPU (and was unmapped again).  A library-internal error number
 * beyond every errno (which are below 4096), carried in the -errno channel
 * like the others; it becomes AEE_EMMAP.
 */
#define HM_ECPUMAP 4096

/*
 * AEE code for 0 or -errno (the table is in AEEStdErr.h).  The faces call
 * it once, on their way out; nothing below them returns AEE codes.
 */
int hm_errno_to_aee(int neg_errno);

#endif /* HAPMEM_LIB_AEE_H */
