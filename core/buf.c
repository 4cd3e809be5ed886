/* buf.c: temporary buffers, chain links, chain copies and send accounting. */

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "buf.h"


kl_buf_t *
kl_buf_create_temp(kl_pool_t *pool, size_t size)
{
    kl_buf_t *b;

    b = kl_buf_calloc(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = kl_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->last + size;
    b->temporary = 1;

    return b;
}


kl_chain_t *
kl_chain_alloc(kl_pool_t *pool)
{
    kl_chain_t *cl;

    cl = kl_palloc(pool, sizeof(kl_chain_t));
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = NULL;
    cl->next = NULL;

    return cl;
}


/* The new links share in's buffers: only the links are copied. */
kl_int_t
kl_chain_add_copy(kl_pool_t *pool, kl_chain_t **chain, kl_chain_t *in)
{
    kl_chain_t *cl, **ll;

    ll = chain;

    for (cl = *chain; cl; cl = cl->next) {
        ll = &cl->next;
    }

    while (in) {
        cl = kl_chain_alloc(pool);
        if (cl == NULL) {
            *ll = NULL;
            return KL_ERROR;
        }

        cl->buf = in->buf;
        *ll = cl;
        ll = &cl->next;
        in = in->next;
    }

    *ll = NULL;

    return KL_OK;
}


/*
 * Special buffers (flush, last_buf, sync without data) carry no bytes, so
 * they are passed over rather than stopping the walk.
 */
kl_chain_t *
kl_chain_update_sent(kl_chain_t *in, off_t sent)
{
    off_t size;

    for (/* void */; in; in = in->next) {

        if (kl_buf_special(in->buf)) {
            continue;
        }

        if (sent == 0) {
            break;
        }

        size = kl_buf_size(in->buf);

        if (sent >= size) {
            sent -= size;

            if (kl_buf_in_memory(in->buf)) {
                in->buf->pos = in->buf->last;
            }

            if (in->buf->in_file) {
                in->buf->file_pos = in->buf->file_last;
            }

            continue;
        }

        if (kl_buf_in_memory(in->buf)) {
            in->buf->pos += (size_t) sent;
        }

        if (in->buf->in_file) {
            in->buf->file_pos += sent;
        }

        break;
    }

    return in;
}
