// SPDX-License-Identifier: GPL-2.0-only
/*
 * libhapmem: the AEE codes (values from the platform), the errno -> AEE
 * table, and the code -> string function.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "AEEStdErr.h"
#include "HAP_mem.h"
#include "faces/aee.h"
#include "apps_mem.h"

TEST(aee_values_match_platform)
{
	static const struct { int code, value; } v[] = {
		{ AEE_SUCCESS, 0 }, { AEE_EUNKNOWN, -1 }, { AEE_EFAILED, 0x01 },
		{ AEE_ENOMEMORY, 0x02 }, { AEE_EBADCLASS, 0x0A },
		{ AEE_EBADSTATE, 0x0D }, { AEE_EBADPARM, 0x0E },
		{ AEE_EUNSUPPORTED, 0x14 }, { AEE_EPRIVLEVEL, 0x15 },
		{ AEE_ERESOURCENOTFOUND, 0x16 }, { AEE_EALREADY, 0x1A },
		{ AEE_EBADHANDLE, 0x2C }, { AEE_EINTERRUPTED, 46 },
		{ AEE_EWOULDBLOCK, 516 }, { AEE_ERPC, 0x200 },
		{ AEE_EINVALIDFD, 0x3A }, { AEE_ENOSUCHMAP, 0x48 },
		{ AEE_EBADOFFSET, 0x4C }, { AEE_EBADSIZE, 0x4D },
		{ AEE_EBADPERMS, 0x4E }, { AEE_EBADFD, 0x4F },
		{ AEE_EBADMEMALIGN, 0x55 }, { AEE_EIOCTL, 0x56 },
		{ AEE_EMMAP, 0x65 }, { AEE_ENORPCMEMORY, 0x68 },
		{ AEE_ENOTINITIALIZED, 0x6B }, { AEE_EINVARGS, 0x71 },
		{ AEE_EBADVA, 0x83 }, { AEE_EBADMAPREFCNT, 0x85 },
		{ AEE_EMAPALREADYPRESENT, 0x87 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		EXPECT_EQ(v[i].value, v[i].code);
}

TEST(platform_constants)
{
	EXPECT_EQ(4, ADSP_MMAP_HEAP_ADDR);
	EXPECT_EQ(8, ADSP_MMAP_REMOTE_HEAP_ADDR);
	EXPECT_EQ(0x1000, ADSP_MMAP_ADD_PAGES);
	EXPECT_EQ(0x3000, ADSP_MMAP_ADD_PAGES_LLC);
	EXPECT_EQ(0x10000, FASTRPC_ALLOC_HLOS_FD);
	EXPECT_EQ(0, HAP_PROT_NONE);
	EXPECT_EQ(1, HAP_PROT_READ);
	EXPECT_EQ(2, HAP_PROT_WRITE);
	EXPECT_EQ(4, HAP_PROT_EXEC);
	EXPECT_EQ(0x10, HAP_MEM_CACHE_WRITEBACK);
	EXPECT_EQ(0x20, HAP_MEM_CACHE_NON_SHARED);
	EXPECT_EQ(0x40, HAP_MEM_CACHE_WRITETHROUGH);
	EXPECT_EQ(0, HAP_MEM_FLAGS_SKIP_DSP_MAP);
	EXPECT_EQ(1, HAP_MEM_FLAGS_DSP_MAP);
	EXPECT_EQ(2, HAP_MEM_FLAGS_EXTENDED_MAP);
	EXPECT_EQ(3, HAP_MEM_FLAGS_MAX);
	EXPECT_EQ(1, HAP_MEM_LOG_BLOCKS);
	EXPECT_EQ(2, HAP_MEM_SET_MARKER);
	EXPECT_EQ(3, HAP_MEM_MAP);
	EXPECT_EQ(4, HAP_MEM_UNMAP);
	EXPECT_EQ(5, HAP_RESERVE_VA);
	EXPECT_EQ(6, HAP_UNRESERVE_VA);
	/* the platform's types: the signatures compile only with them */
	EXPECT_EQ(4, (int)sizeof(uint32));
	EXPECT_EQ(4, (int)sizeof(int32));
	EXPECT_EQ(8, (int)sizeof(uint64));
	EXPECT_EQ(8, (int)sizeof(int64));
	EXPECT_TRUE((int32)-1 < 0);
	EXPECT_TRUE((uint32)-1 > 0);
}

/* The documented table (AEEStdErr.h, Documentation/library.rst). */
static const struct { int err, aee; } table[] = {
	{ 0, AEE_SUCCESS },
	{ EINVAL, AEE_EBADPARM }, { EDOM, AEE_EBADPARM },
	{ ENOMEM, AEE_ENOMEMORY }, { EMFILE, AEE_ENOMEMORY }, { ENFILE, AEE_ENOMEMORY },
	{ ENOSPC, AEE_ENORPCMEMORY }, { EDQUOT, AEE_ENORPCMEMORY },
	{ EOPNOTSUPP, AEE_EUNSUPPORTED }, { ENOSYS, AEE_EUNSUPPORTED },
	{ ENOTTY, AEE_EIOCTL }, { E2BIG, AEE_EIOCTL },
	{ EPERM, AEE_EPRIVLEVEL }, { EACCES, AEE_EBADPERMS },
	{ ENOENT, AEE_ENOSUCHMAP },
	{ ENODEV, AEE_ERESOURCENOTFOUND }, { ENXIO, AEE_ERESOURCENOTFOUND },
	{ EBADF, AEE_EBADFD }, { EBADFD, AEE_EINVALIDFD },
	{ EEXIST, AEE_EMAPALREADYPRESENT }, { EBUSY, AEE_EBADSTATE },
	{ EALREADY, AEE_EALREADY }, { EFAULT, AEE_EBADVA },
	{ EOVERFLOW, AEE_EBADSIZE }, { ERANGE, AEE_EBADSIZE }, { EFBIG, AEE_EBADSIZE },
	{ EIO, AEE_ERPC }, { ETIMEDOUT, AEE_ERPC },
	{ EINTR, AEE_EINTERRUPTED }, { EAGAIN, AEE_EWOULDBLOCK },
	/* not in the table */
	{ ECHILD, AEE_EFAILED }, { ESRCH, AEE_EFAILED }, { 4000, AEE_EFAILED },
};

TEST(errno_to_aee_table)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		EXPECT_EQ(table[i].aee, hm_errno_to_aee(-table[i].err)) {
			TH_LOG("errno %d", table[i].err);
		}
		/* the public one takes either sign */
		EXPECT_EQ(table[i].aee, hapmem_errno_to_aee(table[i].err));
		EXPECT_EQ(table[i].aee, hapmem_errno_to_aee(-table[i].err));
	}
}

TEST(aee_strings)
{
	static const struct { int code; const char *name; } names[] = {
		{ AEE_SUCCESS, "AEE_SUCCESS" }, { AEE_EBADPARM, "AEE_EBADPARM" },
		{ AEE_ENOMEMORY, "AEE_ENOMEMORY" }, { AEE_EUNSUPPORTED, "AEE_EUNSUPPORTED" },
		{ AEE_ENOSUCHMAP, "AEE_ENOSUCHMAP" }, { AEE_EBADMAPREFCNT, "AEE_EBADMAPREFCNT" },
		{ AEE_EMMAP, "AEE_EMMAP" }, { AEE_EWOULDBLOCK, "AEE_EWOULDBLOCK" },
		{ AEE_EUNKNOWN, "AEE_EUNKNOWN" }, { AEE_EBADFD, "AEE_EBADFD" },
		{ AEE_EINVALIDFD, "AEE_EINVALIDFD" }, { AEE_ERPC, "AEE_ERPC" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *s = hapmem_aee_str(names[i].code);
		size_t n = strlen(names[i].name);

		ASSERT_NE(NULL, s);
		/* "NAME: meaning", exactly that name (not a prefix of another) */
		EXPECT_EQ(0, strncmp(s, names[i].name, n));
		EXPECT_EQ(':', s[n]);
	}
	EXPECT_STREQ("unknown AEE code", hapmem_aee_str(0x7777));
	EXPECT_STREQ("unknown AEE code", hapmem_aee_str(-42));
}

/* Every code the table produces has its own string. */
TEST(every_mapped_code_has_a_name)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		EXPECT_NE(0, strcmp("unknown AEE code", hapmem_aee_str(table[i].aee)));
}

TEST_HARNESS_MAIN
