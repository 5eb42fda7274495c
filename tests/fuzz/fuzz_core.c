// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the allocator core against the reference model of
 * tests/unit/core_model.h.  Each 4-byte record of the input is one
 * operation: alloc (with alignment), free, resize, segment toggle, cache
 * setting, or a full consistency check.  Any mismatch aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
 *         -Ilib -Ilib/include -Itests/unit tests/fuzz/fuzz_core.c \
 *         lib/core/core.c lib/core/core_walk.c lib/core/seg_index.c \
 *         -o build/fuzz/fuzz_core
 *   build/fuzz/fuzz_core -max_total_time=60 -max_len=4096
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core_model.h"

static struct model *m;

static void fail(void)
{
	fprintf(stderr, "fuzz_core: %s\n", m->err);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (!m && !(m = malloc(sizeof(*m))))
		abort();
	if (model_init(m, data && size ? (size_t)data[0] << 10 : 0))
		fail();
	for (i = 1; i + 4 <= size; i += 4) {
		uint8_t op = data[i] % 8;
		uint32_t arg = (uint32_t)data[i + 1] | (uint32_t)data[i + 2] << 8 |
			       (uint32_t)data[i + 3] << 16;
		int err = 0;

		switch (op) {
		case 0: case 1: case 2:		/* alloc: size up to 256 KiB */
			err = model_alloc(m, arg & 0x3ffff, 0, (uint8_t)i);
			break;
		case 3:				/* aligned alloc */
			err = model_alloc(m, arg & 0xffff, (size_t)1 << (arg >> 16) % 20, (uint8_t)i);
			break;
		case 4: case 5:
			if (m->nlive)
				err = model_free(m, arg);
			break;
		case 6:
			if (m->nlive)
				err = model_resize(m, arg & 0xffff, arg >> 4 & 0x1ffff);
			break;
		case 7:
			err = arg & 1 ? model_toggle_segment(m, (int)(arg >> 1) % MODEL_SEGS)
				      : model_check(m);
			break;
		}
		if (err)
			fail();
	}
	if (model_check(m))
		fail();
	while (m->nlive)
		if (model_free(m, 0))
			fail();
	if (model_check(m))
		fail();
	model_fini(m);
	return 0;
}
