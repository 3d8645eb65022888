/* SPDX-License-Identifier: MIT */
/*
 * Switch timestamps on bpf_ktime_get_ns()'s scale from the run queue's clock, compiled into
 * the BPF program and into host C (unit tests).
 *
 * Reading ktime costs ~70 ns inside a context switch (its ordered TSC read stalls the
 * pipeline), more than the rest of a switch's accounting; the run queue's clock, which the
 * scheduler updated for this switch, is a load. The offset from the one to the other is
 * sampled every CLOCK_RESYNC_NS per CPU (at 400 000 switches/s, one switch in 40 pays for a
 * ktime read). A sample comes out high when the run-queue clock was stale (it usually lags
 * the switch by ~1 us, now and then by tens, as after an idle period): the offset takes a
 * lower sample at once, and a higher one only as fast as an NTP slew of ktime could move it
 * (500 ppm of the time since the last sample, counting CLOCK_SLEW_MAX_NS at most), unless the
 * clocks jumped against each other. Timestamps then stay within a microsecond or so of
 * ktime, and do not run ahead of the ktime stamps of forks and exits.
 */
#ifndef CONCUR_CLOCK_SYNC_H
#define CONCUR_CLOCK_SYNC_H

#include "concur.h"

#ifndef CLOCK_INLINE
#define CLOCK_INLINE static inline __attribute__((always_inline))
#endif

#define CLOCK_RESYNC_NS	  100000ull
#define CLOCK_SLEW_DIV	  2000ull /* 500 ppm */
#define CLOCK_SLEW_MAX_NS 10000000ull
#define CLOCK_JUMP_NS	  1000000ll

/* Whether the offset is due for a new sample at run-queue clock `clock`. */
CLOCK_INLINE int clock_sync_due(const struct clock_sync *s, __u64 clock)
{
	return !s->at || clock - s->at > CLOCK_RESYNC_NS;
}

/* A new sample: ktime and the run-queue clock read together. */
CLOCK_INLINE void clock_sync_sample(struct clock_sync *s, __u64 clock, __u64 ktime)
{
	__s64 sample = (__s64)(ktime - clock);
	__u64 since = clock - s->at;
	__s64 cap = s->off + (__s64)((since < CLOCK_SLEW_MAX_NS ? since : CLOCK_SLEW_MAX_NS) /
				     CLOCK_SLEW_DIV);

	if (!s->at || sample < cap || sample - cap > CLOCK_JUMP_NS)
		s->off = sample;
	else
		s->off = cap;
	s->at = clock;
}

/* Run-queue clock `clock` on ktime's scale. */
CLOCK_INLINE __u64 clock_sync_ktime(const struct clock_sync *s, __u64 clock)
{
	return clock + s->off;
}

#endif /* CONCUR_CLOCK_SYNC_H */
