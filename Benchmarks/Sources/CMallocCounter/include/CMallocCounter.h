// CMallocCounter: counts every heap allocation the process makes, so a benchmark can show
// that a code path allocates nothing. Linking this target into an executable replaces
// malloc and friends for the whole process (the executable's definitions take precedence
// over libc's); each call is counted and forwarded to glibc's allocator.
#ifndef CMALLOC_COUNTER_H
#define CMALLOC_COUNTER_H

#include <stdint.h>

/// Allocations (malloc, calloc, realloc, memalign family) since the process started.
uint64_t cmalloc_allocations(void);

#endif
