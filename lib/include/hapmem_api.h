/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem_api.h - symbol visibility of the libhapmem public API.
 *
 * The library is compiled with -fvisibility=hidden and linked with a
 * version script (lib/libhapmem.map).  A function is exported only when
 *  1. its declaration in a public header (lib/include/) has default
 *     visibility, and
 *  2. its name matches a pattern of the version script
 *     (apps_mem_*, HAP_*, hapmem_*, and the porting faces' upstream names).
 *
 * The capability heaps' functions keep their short source names
 * (caps_malloc, ...) but are exported with the library's prefix
 * (hapmem_caps_malloc, ...): each declaration carries
 * HAPMEM_SYMBOL(name), an assembler label, so that a program using
 * libhapmem can still define a caps_* of its own.
 *
 * Public headers get (1) by wrapping their declarations in
 * HAPMEM_BEGIN_DECLS / HAPMEM_END_DECLS (which also give C linkage to C++
 * callers), or by marking single declarations HAPMEM_API.  The library's
 * .c files must include the public header that declares what they define.
 * "make lib-symbols" checks the exported set against lib/include/.
 *
 * Programs that include the headers are not affected.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_API_H
#define HAPMEM_API_H

#define HAPMEM_STR_(x) #x
#define HAPMEM_STR(x) HAPMEM_STR_(x)

#if defined(__GNUC__) || defined(__clang__)
#define HAPMEM_API __attribute__((visibility("default")))
#define HAPMEM_SYMBOL(name) \
	__asm__(HAPMEM_STR(__USER_LABEL_PREFIX__) "hapmem_" #name)
#define HAPMEM_VIS_PUSH _Pragma("GCC visibility push(default)")
#define HAPMEM_VIS_POP _Pragma("GCC visibility pop")
#else
#define HAPMEM_API
#define HAPMEM_SYMBOL(name)
#define HAPMEM_VIS_PUSH
#define HAPMEM_VIS_POP
#endif

#ifdef __cplusplus
#define HAPMEM_BEGIN_DECLS extern "C" { HAPMEM_VIS_PUSH
#define HAPMEM_END_DECLS HAPMEM_VIS_POP }
#else
#define HAPMEM_BEGIN_DECLS HAPMEM_VIS_PUSH
#define HAPMEM_END_DECLS HAPMEM_VIS_POP
#endif

#endif /* HAPMEM_API_H */
