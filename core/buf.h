/* buf.h: buffers as views of memory or of a file range, and chains of them. */

#ifndef KL_BUF_H
#define KL_BUF_H

#include "kl_config.h"
#include "kl_types.h"

struct kl_buf_s {
    u_char *pos; /* memory: unsent/unparsed bytes [pos, last) */
    u_char *last;
    off_t   file_pos; /* file: range [file_pos, file_last) */
    off_t   file_last;

    u_char    *start; /* the whole memory block [start, end) */
    u_char    *end;
    kl_file_t *file;

    unsigned temporary:1; /* memory that may be changed */
    unsigned memory:1;    /* read-only memory */
    unsigned in_file:1;
    unsigned flush:1;
    unsigned sync:1;
    unsigned last_buf:1; /* the response's last buffer */
    unsigned last_in_chain:1;
};

struct kl_chain_s {
    kl_buf_t   *buf;
    kl_chain_t *next;
};

#define kl_buf_in_memory(b)      ((b)->temporary || (b)->memory)
#define kl_buf_in_memory_only(b) (kl_buf_in_memory(b) && !(b)->in_file)
#define kl_buf_special(b)                                                      \
    (((b)->flush || (b)->last_buf || (b)->sync) && !kl_buf_in_memory(b)        \
     && !(b)->in_file)
#define kl_buf_size(b)                                                         \
    (kl_buf_in_memory(b) ? (off_t) ((b)->last - (b)->pos)                      \
                         : ((b)->file_last - (b)->file_pos))

#define kl_buf_calloc(pool) kl_pcalloc(pool, sizeof(kl_buf_t))

/* A writable buffer of size bytes from pool; NULL on failure. */
kl_buf_t *kl_buf_create_temp(kl_pool_t *pool, size_t size);

/* A chain link from pool; NULL on failure. */
kl_chain_t *kl_chain_alloc(kl_pool_t *pool);

/* Append copies of the links of in to *chain; KL_OK or KL_ERROR. */
kl_int_t kl_chain_add_copy(kl_pool_t *pool, kl_chain_t **chain, kl_chain_t *in);

/* Advance the chain by sent bytes; returns the first link not fully sent. */
kl_chain_t *kl_chain_update_sent(kl_chain_t *in, off_t sent);

#endif /* KL_BUF_H */
