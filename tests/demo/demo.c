// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem demo: what "make demo" runs in the VM.  It uses libhapmem only
 * (no raw ioctls) and prints what happens, with addresses and figures:
 *
 *  1. the remote(s) the driver found, and that an IOMMU translates for them;
 *  2. apps_mem_request_map64: a large map, its IOMMU chunk sizes, a CPU
 *     write read back by the device's DMA through the IOMMU, the unmap, and
 *     the device's access to the old address now faulting; the 32-bit
 *     apps_mem_request_map/unmap;
 *  3. HAP_mmap of a buffer, seen by the device;
 *  4. the HAP heap: growth by the platform's formula, blocks reaching the
 *     device, shrink on the high threshold, HAP_mem_get_stats before and
 *     after (the leak check).
 *
 * Exits 0 when every step did what it should, 1 otherwise.  Device
 * transfers are kept small (~0.1 s per 4 KiB on QEMU's edu device).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "HAP_mem.h"
#include "apps_mem.h"
#include "hapmem_buf.h"
#include "hapmem_dev.h"

#define MiB (1ULL << 20)
#define PROBE 64

static int failures;

#define STEP(cond, ...) do {						\
	if (cond) {							\
		printf("  ok    " __VA_ARGS__);				\
	} else {							\
		printf("  FAIL  " __VA_ARGS__);				\
		failures++;						\
	}								\
	printf("\n");							\
} while (0)

static void fill(void *p, size_t n, unsigned int seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(i * 31 + seed);
}

/* Does the device read at @dev what the CPU has at @cpu (PROBE bytes)? */
static int device_sees(uint64_t dev, const void *cpu)
{
	unsigned char rb[PROBE];
	int ret = hapmem_remote_read(dev, rb, sizeof(rb));

	if (ret)
		return ret;
	return memcmp(rb, cpu, sizeof(rb)) ? -EIO : 0;
}

static void print_remotes(void)
{
	struct hapmem_info in;
	unsigned int with_iommu = 0, n;
	int ret;

	printf("\n[1] remotes\n");
	ret = hapmem_info(HAPMEM_INFO_SELF, &in);
	if (ret) {
		STEP(0, "hapmem_info: %s (is hapmem.ko loaded?)", strerror(-ret));
		return;
	}
	n = in.num_remotes;
	printf("  %u remote(s); this session uses remote %u\n", n, in.remote_index);
	for (uint32_t r = 0; r < n; r++) {
		if (hapmem_info(r, &in))
			continue;
		printf("  remote %u \"%.*s\" PCI %02x:%02x.%x  IOMMU %s  DMA engine %s  "
		       "32-bit window [%#llx, %#llx)\n",
		       r, (int)sizeof(in.name), in.name, in.pci_bdf >> 8,
		       (in.pci_bdf >> 3) & 0x1f, in.pci_bdf & 7,
		       (in.remote_flags & HAPMEM_REMOTE_IOMMU) ? "on" : "off",
		       (in.remote_flags & HAPMEM_REMOTE_DMA_ENGINE) ? "yes" : "no",
		       (unsigned long long)in.va32_start, (unsigned long long)in.va32_end);
		if (in.remote_flags & HAPMEM_REMOTE_IOMMU)
			with_iommu++;
	}
	STEP(n > 0 && with_iommu == n, "%u of %u remote(s) behind an IOMMU", with_iommu, n);
}

static void demo_apps_mem(void)
{
	const int64_t len = 8 * MiB;
	struct hapmem_chunks ch;
	uint64_t vapps = 0, vadsp = 0;
	uint32_t vapps32 = 0, vadsp32 = 0, faults = 0;
	int ret;

	printf("\n[2] apps_mem: request_map64 of %lld MiB\n", (long long)(len >> 20));
	ret = apps_mem_request_map64(-1, 0, ADSP_MMAP_HEAP_ADDR, 0, len, &vapps, &vadsp);
	STEP(!ret, "apps_mem_request_map64 -> %d: CPU %#llx, device %#llx", ret,
	     (unsigned long long)vapps, (unsigned long long)vadsp);
	if (ret)
		return;
	ret = hapmem_map_chunks(vadsp, &ch);
	STEP(!ret && ch.n_2m * 2 * MiB + ch.n_64k * 65536ULL + ch.n_4k * 4096ULL == (uint64_t)len,
	     "IOMMU layout: %u x 2 MiB + %u x 64 KiB + %u x 4 KiB = %lld bytes",
	     ch.n_2m, ch.n_64k, ch.n_4k,
	     (long long)(ch.n_2m * 2 * MiB + ch.n_64k * 65536ULL + ch.n_4k * 4096ULL));
	fill((void *)(uintptr_t)vapps, PROBE, 1);
	fill((char *)(uintptr_t)vapps + len - PROBE, PROBE, 2);
	STEP(!device_sees(vadsp, (void *)(uintptr_t)vapps) &&
	     !device_sees(vadsp + len - PROBE, (char *)(uintptr_t)vapps + len - PROBE),
	     "CPU wrote %d bytes at both ends; the device read them back at %#llx and %#llx",
	     PROBE, (unsigned long long)vadsp, (unsigned long long)(vadsp + len - PROBE));
	ret = hapmem_remote_probe(vadsp, PROBE, &faults);
	STEP(!ret && !faults, "device access to %#llx while mapped: %u IOMMU fault(s)",
	     (unsigned long long)vadsp, faults);
	ret = apps_mem_request_unmap64(vadsp, len);
	STEP(!ret, "apps_mem_request_unmap64(%#llx) -> %d", (unsigned long long)vadsp, ret);
	ret = hapmem_remote_probe(vadsp, PROBE, &faults);
	STEP(!ret && faults > 0, "device access to the old address %#llx: %u IOMMU fault(s) (%s)",
	     (unsigned long long)vadsp, faults, ret ? strerror(-ret) : "refused, as it must be");

	ret = apps_mem_request_map(-1, 0, ADSP_MMAP_HEAP_ADDR, 0, (int32_t)MiB, &vapps32, &vadsp32);
	STEP(!ret && vadsp32, "apps_mem_request_map (32-bit) of 1 MiB -> %d: CPU %#x, device %#x",
	     ret, vapps32, vadsp32);
	if (!ret) {
		ret = apps_mem_request_unmap(vadsp32, (int32_t)MiB);
		STEP(!ret, "apps_mem_request_unmap(%#x) -> %d", vadsp32, ret);
	}
}

static void demo_hap_mmap(void)
{
	const size_t len = 64 * 1024;
	void *buf, *cpu, *vaddr = NULL;
	uint64 paddr = 0;
	int fd, ret;

	printf("\n[3] HAP_mmap of a %zu KiB buffer\n", len >> 10);
	buf = hapmem_buf_alloc(HAPMEM_BUF_HEAP_ANY, HAPMEM_BUF_CACHED, len);
	STEP(buf != NULL, "hapmem_buf_alloc -> %p", buf);
	if (!buf)
		return;
	fd = hapmem_buf_to_fd(buf);
	cpu = HAP_mmap(NULL, (int)len, HAP_PROT_READ | HAP_PROT_WRITE, 0, fd, 0);
	STEP(cpu != (void *)-1, "HAP_mmap(fd %d) -> CPU %p", fd, cpu);
	if (cpu == (void *)-1)
		goto out;
	ret = HAP_mmap_get(fd, &vaddr, &paddr);
	STEP(!ret && vaddr == cpu, "HAP_mmap_get -> CPU %p, device %#llx", vaddr,
	     (unsigned long long)paddr);
	fill((char *)buf + 4096, PROBE, 3);
	STEP(!ret && !device_sees(paddr + 4096, (char *)buf + 4096),
	     "the device reads at %#llx what the CPU wrote into the buffer",
	     (unsigned long long)(paddr + 4096));
	if (!ret)
		HAP_mmap_put(fd);
	ret = HAP_munmap(cpu, (int)len);
	STEP(!ret, "HAP_munmap -> %d", ret);
	STEP(HAP_munmap(cpu, (int)len) == AEE_ENOSUCHMAP, "HAP_munmap again -> AEE_ENOSUCHMAP");
out:
	hapmem_buf_free(buf);
}

static void print_stats(const char *when, const struct HAP_mem_stats *s)
{
	printf("  HAP_mem_get_stats %s: bytes_free %llu, bytes_used %llu, seg_free %llu, "
	       "seg_used %llu, min_grow_bytes %llu\n", when,
	       (unsigned long long)s->bytes_free, (unsigned long long)s->bytes_used,
	       (unsigned long long)s->seg_free, (unsigned long long)s->seg_used,
	       (unsigned long long)s->min_grow_bytes);
}

static uint64_t align_mib(uint64_t v)
{
	return (v + MiB - 1) & ~(MiB - 1);
}

/* HAP_malloc @request bytes and show the growth it causes. */
static void *grow_step(uint64_t min, uint64_t max, uint32_t request)
{
	struct hapmem_info a, b;
	struct HAP_mem_stats s;
	uint64_t mgb, expect, dev = 0;
	void *p = NULL;
	int ret;

	hapmem_info(HAPMEM_INFO_SELF, &a);
	ret = HAP_malloc(request, &p);
	hapmem_info(HAPMEM_INFO_SELF, &b);
	HAP_mem_get_stats(&s);
	mgb = s.min_grow_bytes;
	expect = align_mib(mgb + request);
	STEP(!ret && mgb == (min > max ? max : min > MiB ? min : MiB) &&
	     b.global_bytes - a.global_bytes == expect && b.global_maps == a.global_maps + 1,
	     "HAP_malloc(%u) -> %p: min_grow_bytes %llu, request %u, grow %llu "
	     "(ALIGN(%llu + %u, 1 MiB) = %llu); driver: maps %llu -> %llu, bytes %llu -> %llu",
	     request, p, (unsigned long long)mgb, request,
	     (unsigned long long)(b.global_bytes - a.global_bytes), (unsigned long long)mgb,
	     request, (unsigned long long)expect,
	     (unsigned long long)a.global_maps, (unsigned long long)b.global_maps,
	     (unsigned long long)a.global_bytes, (unsigned long long)b.global_bytes);
	if (ret)
		return NULL;
	fill(p, PROBE, request & 0xff);
	ret = HAP_mem_get_dev_addr(p, &dev);
	STEP(!ret && !device_sees(dev, p), "block %p is at device address %#llx: the device reads it",
	     p, (unsigned long long)dev);
	return p;
}

static void demo_heap(void)
{
	struct HAP_mem_stats before, after;
	struct hapmem_info a, b;
	void *small, *big;
	int ret;

	printf("\n[4] the HAP heap\n");
	ret = HAP_mem_get_stats(&before);
	STEP(!ret, "HAP_mem_get_stats -> %d", ret);
	print_stats("before", &before);
	ret = HAP_mem_set_grow_size(2 * MiB, 8 * MiB);
	STEP(!ret, "HAP_mem_set_grow_size(min 2 MiB, max 8 MiB): "
	     "min_grow_bytes = MIN(max, MAX(min, min_grow_bytes)); grow = ALIGN(min_grow_bytes + request, 1 MiB)");
	small = grow_step(2 * MiB, 8 * MiB, 100);
	big = grow_step(2 * MiB, 8 * MiB, 5 * MiB);

	ret = HAP_mem_set_heap_thresholds(0, 4 * MiB);
	STEP(!ret, "HAP_mem_set_heap_thresholds(low 0, high 4 MiB) -> %d", ret);
	hapmem_info(HAPMEM_INFO_SELF, &a);
	ret = big ? HAP_free(big) : -1;
	hapmem_info(HAPMEM_INFO_SELF, &b);
	STEP(!ret && b.global_maps + 1 == a.global_maps && a.global_bytes - b.global_bytes == 7 * MiB,
	     "HAP_free(%p): its 7 MiB segment became free, above the high threshold, and went "
	     "back: driver maps %llu -> %llu, bytes %llu -> %llu", big,
	     (unsigned long long)a.global_maps, (unsigned long long)b.global_maps,
	     (unsigned long long)a.global_bytes, (unsigned long long)b.global_bytes);
	ret = small ? HAP_free(small) : -1;
	STEP(!ret, "HAP_free(%p) -> %d", small, ret);
	STEP(HAP_free(small) == AEE_EBADPARM, "HAP_free(%p) again -> AEE_EBADPARM (double free caught)",
	     small);

	ret = HAP_mem_get_stats(&after);
	print_stats("after ", &after);
	STEP(!ret && after.bytes_used == before.bytes_used,
	     "leak check: bytes_used %llu before, %llu after",
	     (unsigned long long)before.bytes_used, (unsigned long long)after.bytes_used);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("hapmem demo (libhapmem only)\n");
	print_remotes();
	if (!failures) {
		demo_apps_mem();
		demo_hap_mmap();
		demo_heap();
	}
	printf("\ndemo: %s (%d failure(s))\n", failures ? "FAILED" : "all steps as expected",
	       failures);
	return failures ? 1 : 0;
}
