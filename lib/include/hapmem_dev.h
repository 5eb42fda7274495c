/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hapmem_dev.h - the session's remote, seen from the application side:
 * its description and counters, and its DMA engine (so that a program can
 * check what the remote sees at a device address without raw ioctls).
 *
 * Functions return 0 or a negative errno.  Thread-safe.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef HAPMEM_DEV_H
#define HAPMEM_DEV_H

#include <stddef.h>
#include <stdint.h>

#include <linux/hapmem.h>

#include "hapmem_api.h"

HAPMEM_BEGIN_DECLS

/*
 * hapmem_info() - describe the session's remote (@remote
 * HAPMEM_INFO_SELF) or remote number @remote, with the driver's limits and
 * counters (struct hapmem_info in <linux/hapmem.h>).
 */
int hapmem_info(uint32_t remote, struct hapmem_info *info);

/*
 * hapmem_remote_read() / hapmem_remote_write() - the remote's DMA engine
 * copies @len bytes between device address @vadsp and @buf.  The range
 * must lie inside one map of this process's session (-ENOENT).  -EFAULT:
 * the IOMMU refused part of it.  Each 4 KiB costs a device round trip: for
 * spot checks, not bulk copies.
 */
int hapmem_remote_read(uint64_t vadsp, void *buf, size_t len);
int hapmem_remote_write(uint64_t vadsp, const void *buf, size_t len);

/*
 * --- heapvm additions (for the demo and the heap's VM tests) ---
 *
 * hapmem_remote_probe() - does the remote reach @len bytes at @vadsp?  The
 * DMA engine reads them without the library's or the driver's check that
 * the range is one of this session's maps, so the IOMMU decides: *@faults
 * is the number of device page accesses it refused (0: all reachable).
 * For showing that an unmapped address faults.  Needs CAP_SYS_ADMIN
 * (-EPERM).  Each 4 KiB costs a device round trip.
 */
int hapmem_remote_probe(uint64_t vadsp, size_t len, uint32_t *faults);

/*
 * hapmem_map_chunks() - how the IOMMU laid out the apps_mem_request_map()
 * map at device address @vadsp (2 MiB, 64 KiB and 4 KiB pieces).  -ENOENT:
 * no such request_map map in this process.
 */
int hapmem_map_chunks(uint64_t vadsp, struct hapmem_chunks *chunks);
/* --- end of heapvm additions --- */

/*
 * hapmem_device_path() - the device node the session uses (or will use):
 * $HAPMEM_DEVICE, else /dev/hapmem.
 */
const char *hapmem_device_path(void);

HAPMEM_END_DECLS

#endif /* HAPMEM_DEV_H */
