// SPDX-License-Identifier: GPL-2.0-only
/*
 * Model-based randomized test of the allocator core: over a million
 * operations (alloc, aligned alloc, free, resize, segment removal and
 * re-adding), each result checked against core_model.h's reference.
 */
#include "kselftest_harness.h"
#include "core_model.h"

#define OPS		1200000u
#define CHECK_EVERY	20000u

static uint64_t rng_state;

/* xorshift64*: fixed seed, so a failure replays. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Log-distributed size: 1 B to 16 KiB, now and then up to 128 KiB. */
static size_t rnd_size(void)
{
	unsigned int bits = (unsigned int)(rnd() % (rnd() % 16 ? 15 : 18));

	return (size_t)(rnd() & ((2ull << bits) - 1));
}

static void run_model(struct __test_metadata *_metadata, size_t cache_limit, uint64_t seed)
{
	struct model *m = malloc(sizeof(*m));
	unsigned int op;

	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, model_init(m, cache_limit)) TH_LOG("%s", m->err);
	rng_state = seed;
	for (op = 0; op < OPS; op++) {
		unsigned int kind = (unsigned int)(rnd() % 100);
		/* The fill target drifts so that the heap runs both near empty and near full. */
		unsigned int target = 200 + (op / 50000) % 8 * 500;
		int err;

		if (kind < 2)
			err = model_toggle_segment(m, (int)(rnd() % MODEL_SEGS));
		else if (kind < 12 && m->nlive)
			err = model_resize(m, (unsigned int)rnd(), rnd_size());
		else if (m->nlive && (m->nlive >= target || kind < 50))
			err = model_free(m, (unsigned int)rnd());
		else
			err = model_alloc(m, rnd_size(), rnd() % 8 ? 0 : (size_t)1 << (rnd() % 13),
					  (uint8_t)rnd());
		ASSERT_EQ(0, err) TH_LOG("op %u (seed %llu): %s", op, (unsigned long long)seed, m->err);
		if (op % CHECK_EVERY == 0)
			ASSERT_EQ(0, model_check(m)) TH_LOG("op %u: %s", op, m->err);
	}
	while (m->nlive)
		ASSERT_EQ(0, model_free(m, 0)) TH_LOG("%s", m->err);
	ASSERT_EQ(0, model_check(m)) TH_LOG("%s", m->err);
	/*
	 * Empty now: each segment in turn must go, and what is allocated
	 * after that must come from the segments left (model_alloc checks).
	 */
	for (int i = 0; i < MODEL_SEGS; i++) {
		if (m->seg_id[i] < 0)
			continue;
		ASSERT_EQ(0, model_toggle_segment(m, i)) TH_LOG("%s", m->err);
		ASSERT_GT(0, m->seg_id[i]) TH_LOG("empty segment %d not removed", i);
		for (op = 0; op < 300; op++)
			ASSERT_EQ(0, model_alloc(m, rnd_size() % 4096, 0, (uint8_t)rnd()))
				TH_LOG("%s", m->err);
		ASSERT_EQ(0, model_check(m)) TH_LOG("%s", m->err);
		while (m->nlive)
			ASSERT_EQ(0, model_free(m, 0)) TH_LOG("%s", m->err);
	}
	ASSERT_EQ(0, model_check(m)) TH_LOG("%s", m->err);
	model_fini(m);
	free(m);
}

TEST(model_no_cache)
{
	run_model(_metadata, 0, 0x9e3779b97f4a7c15ull);
}

TEST(model_with_cache)
{
	run_model(_metadata, SIZE_MAX, 0xdeadbeefcafef00dull);
}

TEST_HARNESS_MAIN
