/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the trust-boundary suites (rel_revoke.c, rel_limits.c):
 * module parameters saved and restored, a remote's PCI device removed,
 * rescanned, unbound and bound through sysfs and found again by its
 * address, /proc/self/status figures, and children that run as another
 * uid and report through shared memory.
 */
#ifndef REVOKE_TEST_H
#define REVOKE_TEST_H

#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rel_test.h"

#define RV_PARAMS "/sys/module/hapmem/parameters/"
#define RV_PCI "/sys/bus/pci"
#define RV_MAX_INDEX 64

/* Write @s to the file @path in one write(); 0 or -errno. */
static inline int rv_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

/* The first line of @path without its newline; 0 or -errno. */
static inline int rv_read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = read(fd, buf, n - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static inline int rv_param_get(const char *name, char *buf, size_t n)
{
	char path[128];

	snprintf(path, sizeof(path), RV_PARAMS "%s", name);
	return rv_read_file(path, buf, n);
}

static inline int rv_param_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), RV_PARAMS "%s", name);
	return rv_write_file(path, val);
}

static inline int rv_param_u64(const char *name, uint64_t *v)
{
	char buf[64];
	int ret = rv_param_get(name, buf, sizeof(buf));

	if (!ret)
		*v = strtoull(buf, NULL, 0);
	return ret;
}

static inline int rv_param_set_u64(const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return rv_param_set(name, buf);
}

/*
 * Module parameters as they were when saved, written back by
 * rv_params_restore() (in a fixture's teardown).  Parameters the module
 * does not have are skipped.
 */
#define RV_MAX_PARAMS 16
struct rv_params {
	int n;
	char name[RV_MAX_PARAMS][48];
	char val[RV_MAX_PARAMS][48];
};

static inline void rv_params_save(struct rv_params *p, const char *const *names)
{
	p->n = 0;
	for (; *names && p->n < RV_MAX_PARAMS; names++) {
		if (rv_param_get(*names, p->val[p->n], sizeof(p->val[0])))
			continue;
		snprintf(p->name[p->n], sizeof(p->name[0]), "%s", *names);
		p->n++;
	}
}

/* Returns the number of parameters that could not be restored. */
static inline int rv_params_restore(const struct rv_params *p)
{
	int bad = 0;

	for (int i = 0; i < p->n; i++) {
		char now[48];

		if (!rv_param_get(p->name[i], now, sizeof(now)) &&
		    !strcmp(now, p->val[i]))
			continue;
		if (rv_param_set(p->name[i], p->val[i])) {
			fprintf(stderr, "# cannot restore %s=%s\n", p->name[i], p->val[i]);
			bad++;
		}
	}
	return bad;
}

/* "0000:BB:DD.F" of a pci_bdf as HAPMEM_IOC_INFO reports it. */
static inline void rv_bdf_str(uint32_t bdf, char *buf, size_t n)
{
	snprintf(buf, n, "0000:%02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
}

static inline int rv_pci_write(uint32_t bdf, const char *fmt_path, const char *what)
{
	char dev[32], path[160];

	rv_bdf_str(bdf, dev, sizeof(dev));
	snprintf(path, sizeof(path), fmt_path, dev);
	return rv_write_file(path, what ? what : dev);
}

/* echo 1 > /sys/bus/pci/devices/<BDF>/remove */
static inline int rv_pci_remove(uint32_t bdf)
{
	return rv_pci_write(bdf, RV_PCI "/devices/%s/remove", "1");
}

static inline int rv_pci_rescan(void)
{
	return rv_write_file(RV_PCI "/rescan", "1");
}

static inline int rv_unbind(uint32_t bdf)
{
	return rv_pci_write(bdf, RV_PCI "/drivers/hapmem/unbind", NULL);
}

static inline int rv_bind(uint32_t bdf)
{
	return rv_pci_write(bdf, RV_PCI "/drivers/hapmem/bind", NULL);
}

/* Whether the device exists, and whether hapmem drives it. */
static inline bool rv_pci_present(uint32_t bdf)
{
	char dev[32], path[160];

	rv_bdf_str(bdf, dev, sizeof(dev));
	snprintf(path, sizeof(path), RV_PCI "/devices/%s", dev);
	return !access(path, F_OK);
}

static inline bool rv_pci_bound(uint32_t bdf)
{
	char dev[32], path[160];

	rv_bdf_str(bdf, dev, sizeof(dev));
	snprintf(path, sizeof(path), RV_PCI "/drivers/hapmem/%s", dev);
	return !access(path, F_OK);
}

/*
 * The remote whose device is @bdf, asked through the session @fd (of any
 * remote).  Indices need not be dense after a removal, so every index up
 * to RV_MAX_INDEX is tried.  0 or -ENOENT.
 */
static inline int rv_remote_by_bdf(int fd, uint32_t bdf, struct hapmem_info *out)
{
	for (uint32_t i = 0; i < RV_MAX_INDEX; i++) {
		struct hapmem_info info;

		memset(&info, 0, sizeof(info));
		info.remote = i;
		if (hm_test_ioctl(fd, HAPMEM_IOC_INFO, &info))
			continue;
		if (info.pci_bdf == bdf) {
			if (out)
				*out = info;
			return 0;
		}
	}
	return -ENOENT;
}

static inline void rv_node_path(const struct hapmem_info *info, char *buf,
				size_t n)
{
	snprintf(buf, n, "/dev/hapmem-%s", info->name);
}

/*
 * A new session of the remote at @bdf, once it is there (up to @secs after
 * a rescan or bind): the node found by the name INFO gives, and checked by
 * the session's own INFO.  The fd, or -errno.
 */
static inline int rv_open_bdf(int obs, uint32_t bdf, double secs)
{
	double end = rel_now() + secs;
	int err = -ENOENT;

	do {
		struct hapmem_info info, self;
		char node[64];
		int fd;

		if (!rv_remote_by_bdf(obs, bdf, &info)) {
			rv_node_path(&info, node, sizeof(node));
			fd = hm_open_dev(node);
			if (fd >= 0) {
				if (!hm_info(fd, &self) && self.pci_bdf == bdf)
					return fd;
				close(fd);
				err = -ESTALE;
			} else {
				err = -errno;
			}
		}
		usleep(50 * 1000);
	} while (rel_now() < end);
	return err;
}

/* A figure of /proc/self/status in kB ("VmPin", "VmLck"), or -1. */
static inline long long rv_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long v = -1;
	size_t klen = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Drop to @uid/@gid for good, no supplementary groups; 0 or -errno. */
static inline int rv_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

/*
 * Fork a child that runs @fn(@arg) and exits with its return value (0 for
 * success, a small step number otherwise).  Returns the child's pid.
 */
static inline pid_t rv_spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (!pid)
		_exit(fn(arg) & 0xff);
	return pid;
}

/*
 * Wait for @pid, at most @secs; its exit code, or -(128 + signal) when it
 * was killed, or -ETIMEDOUT (the child is then killed).
 */
static inline int rv_wait(pid_t pid, double secs)
{
	double end = rel_now() + secs;
	int status;

	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			break;
		if (got < 0)
			return -errno;
		if (rel_now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(20 * 1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -(128 + WTERMSIG(status));
}

/* Memory shared with forked children, for their results. */
static inline void *rv_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The device nodes' mode, to let unprivileged children open them (nodes
 * are root-only by default).  rv_nodes_chmod() sets @mode on /dev/hapmem
 * and every /dev/hapmem-*, remembering the old modes in @saved for
 * rv_nodes_restore().
 */
#define RV_MAX_NODES 16
struct rv_nodes {
	int n;
	char path[RV_MAX_NODES][64];
	mode_t mode[RV_MAX_NODES];
};

static inline int rv_nodes_chmod(struct rv_nodes *saved, mode_t mode)
{
	static const char *const fixed[] = { "/dev/hapmem", NULL };
	char path[64];
	int ret = 0;

	saved->n = 0;
	for (int i = -1; i < RV_MAX_INDEX && saved->n < RV_MAX_NODES; i++) {
		static const char *const names[] = { "adsp", "cdsp", "sdsp", "mdsp" };
		struct stat st;

		if (i < 0)
			snprintf(path, sizeof(path), "%s", fixed[0]);
		else if (i < 4)
			snprintf(path, sizeof(path), "/dev/hapmem-%s", names[i]);
		else
			snprintf(path, sizeof(path), "/dev/hapmem-dsp%d", i);
		if (stat(path, &st))
			continue;
		snprintf(saved->path[saved->n], sizeof(saved->path[0]), "%s", path);
		saved->mode[saved->n] = st.st_mode & 07777;
		saved->n++;
		if (chmod(path, mode))
			ret = -errno;
	}
	return ret;
}

static inline void rv_nodes_restore(const struct rv_nodes *saved)
{
	for (int i = 0; i < saved->n; i++)
		chmod(saved->path[i], saved->mode[i]);
}

/* A counter of /sys/kernel/debug/hapmem/counters ("va_cached"), or -1. */
static inline long long rv_debugfs_counter(const char *key)
{
	FILE *f = fopen("/sys/kernel/debug/hapmem/counters", "r");
	long long v = -1, n;
	char k[32];

	if (!f)
		return -1;
	while (fscanf(f, "%31s %lld", k, &n) == 2)
		if (!strcmp(k, key))
			v = n;
	fclose(f);
	return v;
}

/* Whether the machine has an IOMMU: one registered in /sys/class/iommu. */
static inline bool have_iommu(void)
{
	DIR *dir = opendir("/sys/class/iommu");
	struct dirent *d;
	bool any = false;

	if (!dir)
		return false;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			any = true;
	closedir(dir);
	return any;
}

#endif /* REVOKE_TEST_H */
