// SPDX-License-Identifier: GPL-2.0-only
/*
 * hapmem info: every remote (HAPMEM_IOC_INFO for each index), its IOMMU
 * state, address windows and page sizes, the limits and the LLC carve-out.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/hapmem.h>

#include "cli.h"

static int get_info(int fd, uint32_t remote, struct hapmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->remote = remote;
	return ioctl(fd, HAPMEM_IOC_INFO, info) ? -errno : 0;
}

static void bdf_str(char *buf, size_t len, uint32_t bdf)
{
	if (bdf == UINT32_MAX)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%02x:%02x.%x", (bdf >> 8) & 0xff,
			 (bdf >> 3) & 0x1f, bdf & 7);
}

/* "4K 64K 2M 1G" */
static void pgsizes_str(char *buf, size_t len, uint64_t bitmap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int b = 0; b < 64 && n < len; b++) {
		static const char suffix[] = "KMGTPE";
		uint64_t v;
		int u = -1;

		if (!(bitmap & (1ULL << b)))
			continue;
		v = 1ULL << b;
		while (v >= 1024 && v % 1024 == 0 && u < 5) {
			v /= 1024;
			u++;
		}
		n += snprintf(buf + n, len - n, "%s%" PRIu64 "%s", n ? " " : "",
			      v, u < 0 ? "" : (char[2]){suffix[u], 0});
	}
	if (!bitmap)
		snprintf(buf, len, "none");
}

static void print_json(const struct hapmem_info *self,
		       const struct hapmem_info *r, uint32_t n)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj(&w, NULL);
	jw_u64(&w, "num_remotes", self->num_remotes);
	jw_arr(&w, "remotes");
	for (uint32_t i = 0; i < n; i++) {
		char bdf[16];

		bdf_str(bdf, sizeof(bdf), r[i].pci_bdf);
		jw_obj(&w, NULL);
		jw_u64(&w, "index", r[i].remote_index);
		jw_str(&w, "name", r[i].name);
		jw_str(&w, "pci", bdf);
		jw_bool(&w, "iommu", r[i].remote_flags & HAPMEM_REMOTE_IOMMU);
		jw_bool(&w, "dma_engine",
			r[i].remote_flags & HAPMEM_REMOTE_DMA_ENGINE);
		jw_bool(&w, "fixed_va",
			r[i].remote_flags & HAPMEM_REMOTE_FIXED_VA);
		jw_u64(&w, "va32_start", r[i].va32_start);
		jw_u64(&w, "va32_end", r[i].va32_end);
		jw_u64(&w, "va64_start", r[i].va64_start);
		jw_u64(&w, "va64_end", r[i].va64_end);
		jw_u64(&w, "pgsize_bitmap", r[i].pgsize_bitmap);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_obj(&w, "limits");
	jw_u64(&w, "max_session_bytes", self->max_session_bytes);
	jw_u64(&w, "max_session_maps", self->max_session_maps);
	jw_u64(&w, "max_global_bytes", self->max_global_bytes);
	jw_end_obj(&w);
	jw_obj(&w, "llc");
	jw_u64(&w, "total", self->llc_total);
	jw_u64(&w, "used", self->llc_used);
	jw_end_obj(&w);
	jw_end_obj(&w);
	jw_done(&w);
}

static void print_text(const struct hapmem_info *self,
		       const struct hapmem_info *r, uint32_t n)
{
	char a[32], b[32], c[32];

	printf("remotes: %u\n", self->num_remotes);
	for (uint32_t i = 0; i < n; i++) {
		char bdf[16], pg[128];
		uint32_t f = r[i].remote_flags;

		bdf_str(bdf, sizeof(bdf), r[i].pci_bdf);
		pgsizes_str(pg, sizeof(pg), r[i].pgsize_bitmap);
		printf("remote %u: %s\n", r[i].remote_index, r[i].name);
		printf("  pci device    %s\n", bdf);
		printf("  iommu         %s\n",
		       f & HAPMEM_REMOTE_IOMMU ?
			       "on (the remote sees IOMMU addresses)" :
			       "off (DMA API addresses)");
		printf("  dma engine    %s\n",
		       f & HAPMEM_REMOTE_DMA_ENGINE ? "yes" : "no");
		printf("  fixed va      %s\n",
		       f & HAPMEM_REMOTE_FIXED_VA ? "yes" : "no");
		printf("  va32 window   [%#" PRIx64 ", %#" PRIx64 ")  %s\n",
		       (uint64_t)r[i].va32_start, (uint64_t)r[i].va32_end,
		       cli_size(a, sizeof(a), r[i].va32_end - r[i].va32_start));
		if (r[i].va64_end > r[i].va64_start)
			printf("  va64 window   [%#" PRIx64 ", %#" PRIx64
			       ")  %s\n",
			       (uint64_t)r[i].va64_start,
			       (uint64_t)r[i].va64_end,
			       cli_size(a, sizeof(a),
					r[i].va64_end - r[i].va64_start));
		else
			printf("  va64 window   none\n");
		printf("  page sizes    %s\n", pg);
	}
	printf("limits: %s and %" PRIu64 " maps per session, %s in all\n",
	       cli_size(a, sizeof(a), self->max_session_bytes),
	       (uint64_t)self->max_session_maps,
	       cli_size(b, sizeof(b), self->max_global_bytes));
	if (self->llc_total)
		printf("llc carve-out: %s, %s used\n",
		       cli_size(a, sizeof(a), self->llc_total),
		       cli_size(c, sizeof(c), self->llc_used));
	else
		printf("llc carve-out: none\n");
}

int cmd_info(const struct cli_opts *o)
{
	struct hapmem_info self, r[64];
	uint32_t n;
	int fd, ret, rc;

	fd = cli_open_device(o, &rc);
	if (fd < 0)
		return rc;
	ret = get_info(fd, HAPMEM_INFO_SELF, &self);
	if (ret) {
		close(fd);
		return cli_error(CLI_FAIL, "HAPMEM_IOC_INFO: %s",
				 strerror(-ret));
	}
	n = self.num_remotes < 64 ? self.num_remotes : 64;
	for (uint32_t i = 0; i < n; i++) {
		ret = get_info(fd, i, &r[i]);
		if (ret) {
			close(fd);
			return cli_error(CLI_FAIL,
					 "HAPMEM_IOC_INFO remote %u: %s", i,
					 strerror(-ret));
		}
		r[i].name[sizeof(r[i].name) - 1] = '\0';
	}
	close(fd);
	if (o->json)
		print_json(&self, r, n);
	else
		print_text(&self, r, n);
	return CLI_OK;
}
