/*
 * libtnt — systems API: replace the allocator.
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_SYS_ALLOC_H
#define TNT_SYS_ALLOC_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Allocation hooks. All four functions are required and must be thread-safe. */
typedef struct tnt_allocator {
    void *(*malloc_fn)(size_t size, void *user_data);
    void *(*realloc_fn)(void *ptr, size_t size, void *user_data);
    void *(*calloc_fn)(size_t count, size_t size, void *user_data);
    void (*free_fn)(void *ptr, void *user_data);
    void *user_data; /**< passed to every hook */
} tnt_allocator;

/**
 * Replace the allocator used for every allocation the library makes.
 * The struct is copied. NULL restores the C library's allocator.
 * @return TNT_OK; TNT_E_MISUSE if the library is initialised or any handle
 *         is alive; TNT_E_INVALID if a hook is missing.
 * Thread-safety: init-time only, not thread-safe. @since 1.0
 */
TNT_EXTERN tnt_status tnt_set_allocator(const tnt_allocator *allocator);

#ifdef __cplusplus
}
#endif
#endif /* TNT_SYS_ALLOC_H */
