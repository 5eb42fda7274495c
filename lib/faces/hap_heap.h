/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal: between the HAP_* faces.  The HAP_malloc face (hap_heap.c)
 * serves HAP_mem_request()'s heap requests (hap_mem_request.c).
 */
#ifndef HAPMEM_FACES_HAP_HEAP_H
#define HAPMEM_FACES_HAP_HEAP_H

/*
 * HAP_mem_request() for the heap's requests, called by the library's
 * dispatcher: HAP_MEM_LOG_BLOCKS (payload ignored; writes
 * hprt_block_info_<pid>.csv in the working directory) and
 * HAP_MEM_SET_MARKER (payload: HAP_mem_marker_payload_t).  Returns 0 or
 * -errno (-EOPNOTSUPP for any other request), as everything here: the
 * dispatcher turns it into an AEE code.
 */
int hm_heap_mem_request(int request, void *payload);

#endif /* HAPMEM_FACES_HAP_HEAP_H */
