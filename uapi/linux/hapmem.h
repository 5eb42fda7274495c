/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hapmem: the memory services of a DSP platform, for Linux.
 *
 * Copyright (C) 2026 The hapmem authors
 */
#ifndef _UAPI_LINUX_HAPMEM_H
#define _UAPI_LINUX_HAPMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: General ioctl format
 *
 * Every ioctl takes one struct whose first two members are ``__u32 size``
 * and ``__u32 flags``.  The ioctl number carries no size: the kernel reads
 * @size bytes from the user pointer.
 *
 * - A caller built against an older header passes a smaller @size; the
 *   kernel treats the missing members as zero.  A @size smaller than the
 *   struct's first published version is refused with ``EINVAL``.
 * - A caller built against a newer header passes a larger @size; the bytes
 *   the kernel does not know must be zero, or the call fails with ``E2BIG``.
 *   A @size larger than 4096 is refused with ``E2BIG`` before anything is
 *   read.
 * - Output members are written back only on success, and only the first
 *   min(@size, kernel size) bytes.  Every byte of that span is written,
 *   so reserved members read back as zero.
 * - Every ``__reserved`` member must be zero, and every flags member
 *   accepts only the bits of its published ``*_VALID`` mask; anything else
 *   is refused with ``EINVAL``.
 * - Pointers are passed as ``__u64``.
 *
 * File descriptors returned by the driver are dma-buf fds created with
 * ``O_CLOEXEC | O_RDWR``.  They are installed only after every output has
 * been copied to user space, so a failed call never leaves an fd behind.
 *
 * Device nodes: ``/dev/hapmem-<name>`` for each remote (``adsp``, ``cdsp``,
 * ``sdsp``, ``mdsp`` in the order the remotes were found, then
 * ``dsp<N>``), and ``/dev/hapmem`` for the first remote.  Opening a node
 * starts a *session* bound to that remote; closing it releases every map
 * and reservation the session holds.  Nodes are created mode 0600; the
 * udev rule gives them to the ``hapmem`` group.
 *
 * Every PCI device bound to the driver is a remote: QEMU's edu devices by
 * default, any other device once bound through sysfs (``driver_override``
 * or ``new_id``).  Only an edu device has a DMA engine
 * (%HAPMEM_REMOTE_DMA_ENGINE in info); on the others remote access fails
 * with ``EOPNOTSUPP``, and everything else works as on any remote with an
 * IOMMU.
 *
 * A remote can be removed (PCI removal, hot-unplug, unbind) while sessions
 * are open.  Its sessions then turn dead: every map is unmapped from the
 * remote's IOMMU and released, pinned pages are unpinned, reservations are
 * dropped, and every later ioctl of the session fails with ``ENODEV``
 * until it is closed.  dma-bufs the driver exported stay valid CPU memory
 * for whoever holds them; a protected one can no longer be mapped by any
 * remote.
 */

/**
 * DOC: Error numbers
 *
 * These meanings hold for every ioctl; the struct documentation adds the
 * cases particular to each one.
 *
 * - ``ENOTTY``: unknown ioctl number.
 * - ``EFAULT``: the argument or a user buffer it points to is not
 *   accessible.
 * - ``EINVAL``: a malformed argument: @size below the first version, a
 *   non-zero ``__reserved`` member, a zero, negative, unaligned or
 *   overflowing length or offset, a range beyond its buffer, a vadsp or
 *   length that does not match the map it names, an unknown flag bit or
 *   contradictory flags.
 * - ``E2BIG``: @size larger than the kernel's struct with non-zero bytes
 *   in the part the kernel does not know.
 * - ``EOPNOTSUPP``: a feature this remote does not have (a fixed address
 *   without an IOMMU, remote access without a DMA engine).
 * - ``EBADF``: the fd is not open.
 * - ``ENOENT``: no map, reservation or remote by that address, fd or index
 *   in this session.  A double unmap gets ``ENOENT``.
 * - ``ENODEV``: the session's remote was removed (every ioctl); or the fd
 *   is open but is not a dma-buf.
 * - ``ENOMEM``: out of memory (the caller's memory cgroup included), the
 *   LLC carve-out is exhausted, or pinning user pages would pass the
 *   caller's ``RLIMIT_MEMLOCK`` (without ``CAP_IPC_LOCK``).
 * - ``ENOSPC``: the remote's device address window (the 32-bit one for a
 *   32-bit request) has no free range of that size.
 * - ``EDQUOT``: a per-session, per-user or global limit would be exceeded:
 *   bytes allocated and mapped, maps, reserved bytes, or a share of the
 *   32-bit window (see the module parameters in Documentation/driver.rst).
 * - ``EEXIST``: a fixed address overlaps an existing map or reservation.
 * - ``EBUSY``: a reservation still holds maps.
 * - ``EPERM``: the flag needs ``CAP_SYS_ADMIN`` (protected memory, LLC,
 *   raw remote access), protected memory was asked for a CPU path or by
 *   another remote, or remote access is disabled (the module parameter
 *   ``allow_remote_access``, off by default: it is a test interface).
 * - ``EOPNOTSUPP`` also: pinning a shared mapping of a regular file (only
 *   anonymous memory, tmpfs/shmem and hugetlbfs can be pinned long-term).
 * - ``EIO``: the remote's DMA engine reported an error or did not finish.
 * - ``EINTR``: a fatal signal arrived during a long allocation or transfer;
 *   nothing was kept.
 */

#define HAPMEM_TYPE 0xD5

enum {
	HAPMEM_CMD_BASE = 0x80,
	HAPMEM_CMD_INFO = HAPMEM_CMD_BASE,
	HAPMEM_CMD_ALLOC,
	HAPMEM_CMD_REQUEST_MAP,
	HAPMEM_CMD_REQUEST_UNMAP,
	HAPMEM_CMD_SHARE_MAP,
	HAPMEM_CMD_SHARE_UNMAP,
	HAPMEM_CMD_DMA_HANDLE_MAP,
	HAPMEM_CMD_DMA_HANDLE_UNMAP,
	HAPMEM_CMD_REMOTE_ACCESS,
	HAPMEM_CMD_RESERVE_VA,
	HAPMEM_CMD_UNRESERVE_VA,
	HAPMEM_CMD_NOP,
	HAPMEM_CMD_END,
};

/* Remote flags (@rflags of request_map): the DSP platform's values. */
#define HAPMEM_RFLAG_HEAP_ADDR		0x00004U
#define HAPMEM_RFLAG_REMOTE_HEAP_ADDR	0x00008U
#define HAPMEM_RFLAG_ADD_PAGES		0x01000U
#define HAPMEM_RFLAG_ADD_PAGES_LLC	0x03000U
#define HAPMEM_RFLAG_HLOS_FD		0x10000U
#define HAPMEM_RFLAGS_VALID						\
	(HAPMEM_RFLAG_HEAP_ADDR | HAPMEM_RFLAG_REMOTE_HEAP_ADDR |	\
	 HAPMEM_RFLAG_ADD_PAGES_LLC | HAPMEM_RFLAG_HLOS_FD)

/* Cache attribute (@ion_flags of request_map, @flags of alloc). */
#define HAPMEM_ION_FLAG_CACHED		0x1U
#define HAPMEM_ION_FLAGS_VALID		HAPMEM_ION_FLAG_CACHED

/* Heap ids accepted by request_map: any, the default, or the system heap. */
#define HAPMEM_HEAP_ID_ANY		(-1)
#define HAPMEM_HEAP_ID_DEFAULT		0
#define HAPMEM_HEAP_ID_SYSTEM		25

/* Where a map may be placed in the remote's device address space. */
#define HAPMEM_MAP_VA32			0x1U /* vadsp + len <= 4 GiB */
#define HAPMEM_MAP_VA_HIGH		0x2U /* vadsp >= 4 GiB */
#define HAPMEM_MAP_FIXED		0x4U /* at @vadsp, in a reservation */
#define HAPMEM_MAP_READ_ONLY		0x8U /* the remote may only read */

/**
 * struct hapmem_chunks - how a map was laid out in the remote's IOMMU
 * @n_2m: contiguous, 2 MiB aligned chunks of 2 MiB
 * @n_64k: contiguous, 64 KiB aligned chunks of 64 KiB
 * @n_4k: remaining 4 KiB pages
 * @__reserved: must be 0
 */
struct hapmem_chunks {
	__u32 n_2m;
	__u32 n_64k;
	__u32 n_4k;
	__u32 __reserved;
};

/* Remote capabilities (@remote_flags of info). */
#define HAPMEM_REMOTE_IOMMU		0x1U /* an IOMMU translates */
#define HAPMEM_REMOTE_DMA_ENGINE	0x2U /* remote access works */
#define HAPMEM_REMOTE_FIXED_VA		0x4U /* reserve_va works */

#define HAPMEM_INFO_SELF		0xffffffffU

/**
 * struct hapmem_info - describe a remote, the limits and the counters
 * @size: sizeof(struct hapmem_info)
 * @flags: must be 0
 * @remote: in: index of the remote to describe, or %HAPMEM_INFO_SELF for
 *	the session's own
 * @num_remotes: out: number of remotes
 * @remote_index: out: index of the remote described
 * @remote_flags: out: ``HAPMEM_REMOTE_*`` bits
 * @name: out: NUL-terminated remote name ("adsp", ...)
 * @pci_bdf: out: bus << 8 | devfn of the remote's device, or ~0 if none
 * @__reserved: must be 0
 * @va32_start: out: first address of the 32-bit window
 * @va32_end: out: end (exclusive) of the 32-bit window
 * @va64_start: out: first address of the high window (0 if none)
 * @va64_end: out: end (exclusive) of the high window
 * @pgsize_bitmap: out: page sizes the remote's IOMMU maps
 * @max_session_bytes: out: limit on the bytes one session maps
 * @max_session_maps: out: limit on the maps one session holds
 * @max_global_bytes: out: limit on the bytes all sessions map
 * @llc_total: out: size of the LLC carve-out
 * @llc_used: out: bytes of it in use
 * @session_maps: out: maps this session holds
 * @session_bytes: out: bytes this session maps
 * @global_sessions: out: open sessions
 * @global_maps: out: live maps, all sessions
 * @global_bytes: out: bytes mapped, all sessions
 * @global_buffers: out: live buffers this driver allocated
 * @global_pages: out: pages those buffers hold
 * @global_reservations: out: live address reservations
 *
 * ``ENOENT``: @remote is neither an index below @num_remotes nor
 * %HAPMEM_INFO_SELF.
 */
struct hapmem_info {
	__u32 size;
	__u32 flags;
	__u32 remote;
	__u32 num_remotes;
	__u32 remote_index;
	__u32 remote_flags;
	char name[16];
	__u32 pci_bdf;
	__u32 __reserved;
	__u64 va32_start;
	__u64 va32_end;
	__u64 va64_start;
	__u64 va64_end;
	__u64 pgsize_bitmap;
	__u64 max_session_bytes;
	__u64 max_session_maps;
	__u64 max_global_bytes;
	__u64 llc_total;
	__u64 llc_used;
	__u64 session_maps;
	__u64 session_bytes;
	__u64 global_sessions;
	__u64 global_maps;
	__u64 global_bytes;
	__u64 global_buffers;
	__u64 global_pages;
	__u64 global_reservations;
};

#define HAPMEM_IOC_INFO _IO(HAPMEM_TYPE, HAPMEM_CMD_INFO)

/**
 * struct hapmem_alloc - allocate a buffer and export it as a dma-buf
 * @size: sizeof(struct hapmem_alloc)
 * @flags: %HAPMEM_ION_FLAG_CACHED, or 0 for uncached (write-combined)
 * @len: bytes; rounded up to a whole number of pages
 * @fd: out: the dma-buf fd
 * @__reserved: must be 0
 *
 * The memory is zeroed and charged to the caller's memory cgroup.  It is
 * not mapped for the remote: share_map or dma_handle_map does that.
 * ``EINVAL``: @len is 0.  ``EDQUOT``: @len exceeds the session limit.
 */
struct hapmem_alloc {
	__u32 size;
	__u32 flags;
	__u64 len;
	__s32 fd;
	__u32 __reserved;
};

#define HAPMEM_IOC_ALLOC _IO(HAPMEM_TYPE, HAPMEM_CMD_ALLOC)
#define HAPMEM_ALLOC_VALID HAPMEM_ION_FLAG_CACHED

/* @flags of request_map, besides the HAPMEM_MAP_VA32/VA_HIGH placement. */
#define HAPMEM_REQUEST_FD		0x100U /* also return a dma-buf fd */
#define HAPMEM_REQUEST_MAP_VALID					\
	(HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH | HAPMEM_REQUEST_FD)

/**
 * struct hapmem_request_map - memory for the remote (apps_mem request_map)
 * @size: sizeof(struct hapmem_request_map)
 * @flags: %HAPMEM_MAP_VA32 (the 32-bit call: vadsp + len <= 4 GiB and
 *	len <= INT32_MAX), %HAPMEM_MAP_VA_HIGH, %HAPMEM_REQUEST_FD
 * @heap_id: %HAPMEM_HEAP_ID_ANY, %HAPMEM_HEAP_ID_DEFAULT or
 *	%HAPMEM_HEAP_ID_SYSTEM
 * @ion_flags: %HAPMEM_ION_FLAG_CACHED or 0
 * @rflags: one of the ``HAPMEM_RFLAG_*`` values, or 0 for plain memory
 * @__reserved: must be 0
 * @vin: 0 to have the kernel allocate, or (0 and ADD_PAGES only) the page
 *	aligned address of the caller's own memory to map
 * @len: bytes, a multiple of the page size when @vin is set
 * @vadsp: out: the device address (0 for HLOS_FD: mapped on first need)
 * @fd: out: a dma-buf fd of the memory when %HAPMEM_REQUEST_FD was asked
 *	or for HLOS_FD, else -1
 * @__reserved2: must be 0
 * @chunks: out: the IOMMU layout of the map (version 2; a caller whose
 *	@size ends before it gets everything else)
 *
 * REMOTE_HEAP_ADDR and ADD_PAGES_LLC need ``CAP_SYS_ADMIN`` (``EPERM``).
 * REMOTE_HEAP_ADDR memory is never given a CPU path, so %HAPMEM_REQUEST_FD
 * with it returns an fd that refuses mmap, vmap and CPU access.
 * ``ENOMEM``: out of memory, or the LLC carve-out is exhausted.
 */
struct hapmem_request_map {
	__u32 size;
	__u32 flags;
	__s32 heap_id;
	__u32 ion_flags;
	__u32 rflags;
	__u32 __reserved;
	__u64 vin;
	__u64 len;
	__u64 vadsp;
	__s32 fd;
	__u32 __reserved2;
	struct hapmem_chunks chunks;
};

#define HAPMEM_IOC_REQUEST_MAP _IO(HAPMEM_TYPE, HAPMEM_CMD_REQUEST_MAP)

/**
 * struct hapmem_unmap - undo request_map or share_map
 * @size: sizeof(struct hapmem_unmap)
 * @flags: must be 0
 * @vadsp: the device address the map returned
 * @len: the length the map was made with
 *
 * Used by request_unmap and share_unmap, each for maps of its own kind.
 * ``ENOENT``: no map at @vadsp in this session.  ``EINVAL``: @len differs
 * from the map's, or the map is of the other kind.
 */
struct hapmem_unmap {
	__u32 size;
	__u32 flags;
	__u64 vadsp;
	__u64 len;
};

#define HAPMEM_IOC_REQUEST_UNMAP _IO(HAPMEM_TYPE, HAPMEM_CMD_REQUEST_UNMAP)
#define HAPMEM_IOC_SHARE_UNMAP _IO(HAPMEM_TYPE, HAPMEM_CMD_SHARE_UNMAP)

#define HAPMEM_SHARE_MAP_VALID						\
	(HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH | HAPMEM_MAP_FIXED |	\
	 HAPMEM_MAP_READ_ONLY)

/**
 * struct hapmem_share_map - map any dma-buf for the remote
 * @size: sizeof(struct hapmem_share_map)
 * @flags: %HAPMEM_MAP_VA32, %HAPMEM_MAP_VA_HIGH, %HAPMEM_MAP_FIXED,
 *	%HAPMEM_MAP_READ_ONLY
 * @fd: a dma-buf fd from any exporter
 * @__reserved: must be 0
 * @offset: page aligned offset into the buffer
 * @len: bytes from @offset, a multiple of the page size; 0 means up to
 *	the end of the buffer
 * @vadsp: in with %HAPMEM_MAP_FIXED (inside a reservation of this
 *	session), out: the device address
 * @chunks: out: the IOMMU layout of the map (version 2)
 *
 * ``EBADF``/``ENODEV``: @fd is not open / not a dma-buf.  ``EINVAL``:
 * @offset + @len beyond the buffer.  ``EEXIST``: a fixed @vadsp overlaps
 * another map.  ``ENOENT``: a fixed @vadsp outside the session's
 * reservations.
 */
struct hapmem_share_map {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__u64 offset;
	__u64 len;
	__u64 vadsp;
	struct hapmem_chunks chunks;
};

#define HAPMEM_IOC_SHARE_MAP _IO(HAPMEM_TYPE, HAPMEM_CMD_SHARE_MAP)

#define HAPMEM_DMA_HANDLE_MAP_VALID (HAPMEM_MAP_VA32 | HAPMEM_MAP_READ_ONLY)

/**
 * struct hapmem_dma_handle_map - map part of a dma-buf, keyed by the buffer
 * @size: sizeof(struct hapmem_dma_handle_map)
 * @flags: %HAPMEM_MAP_VA32, %HAPMEM_MAP_READ_ONLY
 * @fd: a dma-buf fd from any exporter
 * @__reserved: must be 0
 * @offset: page aligned offset into the buffer
 * @len: bytes from @offset, a multiple of the page size
 * @vadsp: out: the device address
 * @refs: out: references on this (buffer, offset, len) map after the call
 * @__reserved2: must be 0
 * @chunks: out: the IOMMU layout of the map (version 2)
 *
 * Mapping the same buffer range again takes a reference on the existing
 * map.  The map is found by the buffer itself, never by the fd number.
 */
struct hapmem_dma_handle_map {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__u64 offset;
	__u64 len;
	__u64 vadsp;
	__u32 refs;
	__u32 __reserved2;
	struct hapmem_chunks chunks;
};

#define HAPMEM_IOC_DMA_HANDLE_MAP _IO(HAPMEM_TYPE, HAPMEM_CMD_DMA_HANDLE_MAP)

/**
 * struct hapmem_dma_handle_unmap - drop a reference on a dma_handle map
 * @size: sizeof(struct hapmem_dma_handle_unmap)
 * @flags: must be 0
 * @fd: a dma-buf fd of the same buffer (any fd of it)
 * @__reserved: must be 0
 * @len: the length the map was made with
 * @refs: out: references left (0: the map is gone)
 * @__reserved2: must be 0
 *
 * When the buffer has several maps of @len, the newest is dropped.
 * ``ENOENT``: no map of this buffer with @len.
 */
struct hapmem_dma_handle_unmap {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__u64 len;
	__u32 refs;
	__u32 __reserved2;
};

#define HAPMEM_IOC_DMA_HANDLE_UNMAP _IO(HAPMEM_TYPE, HAPMEM_CMD_DMA_HANDLE_UNMAP)

#define HAPMEM_ACCESS_WRITE		0x1U /* user buffer -> device */
#define HAPMEM_ACCESS_RAW		0x2U /* any vadsp; CAP_SYS_ADMIN */
#define HAPMEM_ACCESS_VALID (HAPMEM_ACCESS_WRITE | HAPMEM_ACCESS_RAW)
#define HAPMEM_ACCESS_MAX_LEN		0x1000000U /* 16 MiB */

/**
 * struct hapmem_remote_access - the remote's DMA engine reads or writes
 * @size: sizeof(struct hapmem_remote_access)
 * @flags: %HAPMEM_ACCESS_WRITE to write @len bytes from @uptr at @vadsp,
 *	else read them into @uptr; %HAPMEM_ACCESS_RAW to skip the check
 *	that the range lies in this session's maps (a diagnostic that lets a
 *	test show that an unmapped address faults)
 * @vadsp: device address
 * @len: bytes, at most %HAPMEM_ACCESS_MAX_LEN
 * @uptr: user buffer
 * @faults: out: page accesses of the device that the IOMMU refused
 * @__reserved: must be 0
 *
 * The transfer goes through the device's own DMA engine, staged through
 * its internal buffer (at most 4095 bytes a transfer).  Each transfer takes
 * about 100 ms on QEMU's edu device: move the bytes you need, not megabytes.
 * ``ENOENT``: without %HAPMEM_ACCESS_RAW, the range is not inside one map
 * of this session.  A %HAPMEM_ACCESS_RAW access of an unmapped range
 * succeeds with @faults > 0: the IOMMU refused those accesses (and logs a
 * DMAR fault), a read returns what the device received instead (zeros on
 * QEMU).  A write into a map the remote may only read
 * (%HAPMEM_MAP_READ_ONLY) is refused by the IOMMU the same way: it
 * succeeds with @faults counting every page of the range, and memory is
 * unchanged.  ``EOPNOTSUPP``: the remote has no DMA engine.  ``EIO``: the
 * engine did not finish.  ``EPERM``: remote access is a test interface,
 * disabled unless the module parameter ``allow_remote_access`` is set.
 */
struct hapmem_remote_access {
	__u32 size;
	__u32 flags;
	__u64 vadsp;
	__u64 len;
	__u64 uptr;
	__u32 faults;
	__u32 __reserved;
};

#define HAPMEM_IOC_REMOTE_ACCESS _IO(HAPMEM_TYPE, HAPMEM_CMD_REMOTE_ACCESS)

#define HAPMEM_RESERVE_VA_VALID (HAPMEM_MAP_VA32 | HAPMEM_MAP_VA_HIGH)

/**
 * struct hapmem_reserve_va - reserve a range of the remote's address space
 * @size: sizeof(struct hapmem_reserve_va)
 * @flags: %HAPMEM_MAP_VA32, %HAPMEM_MAP_VA_HIGH
 * @len: bytes, a multiple of the page size
 * @vadsp: out: start of the range
 *
 * No map other than a %HAPMEM_MAP_FIXED share_map of this session ever
 * lands in the range.  ``EOPNOTSUPP``: the remote has no IOMMU.
 * ``EDQUOT``: the session's reservations would exceed the module
 * parameter max_session_reserved_bytes (1 GiB by default) in bytes, or
 * max_session_maps in number, or all sessions' together
 * max_global_reserved_bytes (2 GiB by default).  ``ENOSPC``: no free range of @len in the
 * window.
 */
struct hapmem_reserve_va {
	__u32 size;
	__u32 flags;
	__u64 len;
	__u64 vadsp;
};

#define HAPMEM_IOC_RESERVE_VA _IO(HAPMEM_TYPE, HAPMEM_CMD_RESERVE_VA)

/**
 * struct hapmem_unreserve_va - release a reservation
 * @size: sizeof(struct hapmem_unreserve_va)
 * @flags: must be 0
 * @vadsp: start of the range
 * @len: its length
 *
 * ``EBUSY``: maps are still inside.  ``ENOENT``/``EINVAL`` as for unmap.
 */
struct hapmem_unreserve_va {
	__u32 size;
	__u32 flags;
	__u64 vadsp;
	__u64 len;
};

#define HAPMEM_IOC_UNRESERVE_VA _IO(HAPMEM_TYPE, HAPMEM_CMD_UNRESERVE_VA)

/**
 * struct hapmem_nop - does nothing; the floor for ioctl round trips
 * @size: sizeof(struct hapmem_nop)
 * @flags: must be 0
 */
struct hapmem_nop {
	__u32 size;
	__u32 flags;
};

#define HAPMEM_IOC_NOP _IO(HAPMEM_TYPE, HAPMEM_CMD_NOP)

#endif /* _UAPI_LINUX_HAPMEM_H */
