/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AEEStdDef.h - the DSP platform's fixed-width integer names, as used by
 * the signatures of apps_mem.h and HAP_mem.h.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef AEESTDDEF_H
#define AEESTDDEF_H

#include <stdint.h>

#ifndef _UINT64_DEFINED
typedef uint64_t uint64;
#define _UINT64_DEFINED
#endif
#ifndef _INT64_DEFINED
typedef int64_t int64;
#define _INT64_DEFINED
#endif
#ifndef _UINT32_DEFINED
typedef uint32_t uint32;
#define _UINT32_DEFINED
#endif
#ifndef _INT32_DEFINED
typedef int32_t int32;
#define _INT32_DEFINED
#endif
#ifndef _UINT16_DEFINED
typedef uint16_t uint16;
#define _UINT16_DEFINED
#endif
#ifndef _INT16_DEFINED
typedef int16_t int16;
#define _INT16_DEFINED
#endif
#ifndef _UINT8_DEFINED
typedef uint8_t uint8;
#define _UINT8_DEFINED
#endif
#ifndef _INT8_DEFINED
typedef int8_t int8;
#define _INT8_DEFINED
#endif

#endif /* AEESTDDEF_H */
