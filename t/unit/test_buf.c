/* test_buf.c: temporary buffers, chain copies and send accounting. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "buf.h"

static kl_pool_t *pool;


static void
setup(void)
{
    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, NULL);
    cr_assert_not_null(pool);
}


static void
teardown(void)
{
    kl_pool_free(pool);
}


static kl_chain_t *
link_buf(kl_buf_t *b, kl_chain_t *next)
{
    kl_chain_t *cl;

    cl = kl_chain_alloc(pool);
    cr_assert_not_null(cl);
    cl->buf = b;
    cl->next = next;

    return cl;
}


static kl_buf_t *
mem_buf(const char *text)
{
    kl_buf_t *b;
    size_t    n;

    n = strlen(text);
    b = kl_buf_create_temp(pool, n);
    cr_assert_not_null(b);
    memcpy(b->last, text, n);
    b->last += n;

    return b;
}


TestSuite(buf, .init = setup, .fini = teardown);


Test(buf, create_temp)
{
    kl_buf_t   *b;
    kl_chain_t *cl;

    b = kl_buf_create_temp(pool, 100);
    cr_assert_not_null(b);
    cr_assert_eq(b->pos, b->start);
    cr_assert_eq(b->last, b->start);
    cr_assert_eq(b->end - b->start, 100);
    cr_assert(b->temporary);
    cr_assert_not(b->in_file);
    cr_assert(kl_buf_in_memory(b));
    cr_assert_eq(kl_buf_size(b), 0);

    cl = kl_chain_alloc(pool);
    cr_assert_not_null(cl);
    cr_assert_null(cl->buf);
    cr_assert_null(cl->next);
}


Test(buf, chain_add_copy_appends_links_sharing_buffers)
{
    kl_chain_t *in, *out, *cl;
    kl_buf_t   *a, *b, *c;

    a = mem_buf("a");
    b = mem_buf("bb");
    c = mem_buf("ccc");

    out = NULL;
    in = link_buf(a, link_buf(b, NULL));

    cr_assert_eq(kl_chain_add_copy(pool, &out, in), KL_OK);
    cr_assert_not_null(out);
    cr_assert_neq(out, in, "links are copies");
    cr_assert_eq(out->buf, a);
    cr_assert_eq(out->next->buf, b);
    cr_assert_null(out->next->next);

    cr_assert_eq(kl_chain_add_copy(pool, &out, link_buf(c, NULL)), KL_OK);
    cr_assert_eq(out->next->next->buf, c);
    cr_assert_null(out->next->next->next);

    /* the source chain is untouched */
    cr_assert_eq(in->next->buf, b);
    cr_assert_null(in->next->next);

    cl = NULL;
    cr_assert_eq(kl_chain_add_copy(pool, &cl, NULL), KL_OK);
    cr_assert_null(cl);
}


Test(buf, chain_update_sent_memory_and_file)
{
    kl_chain_t *in, *rest;
    kl_buf_t   *a, *f, *flush, *z;

    a = mem_buf("hello");

    f = kl_buf_calloc(pool);
    f->in_file = 1;
    f->file_pos = 100;
    f->file_last = 1100;

    flush = kl_buf_calloc(pool);
    flush->flush = 1;

    z = mem_buf("tail");

    in = link_buf(a, link_buf(flush, link_buf(f, link_buf(z, NULL))));

    cr_assert_eq(kl_buf_size(f), 1000);
    cr_assert(kl_buf_special(flush));

    rest = kl_chain_update_sent(in, 0);
    cr_assert_eq(rest, in, "nothing sent, nothing consumed");

    rest = kl_chain_update_sent(in, 3);
    cr_assert_eq(rest, in);
    cr_assert_eq(a->last - a->pos, 2);

    /* the flush buffer carries no bytes and is stepped over */
    rest = kl_chain_update_sent(in, 2 + 400);
    cr_assert_eq(rest->buf, f);
    cr_assert_eq(a->pos, a->last);
    cr_assert_eq(f->file_pos, 500);

    rest = kl_chain_update_sent(rest, 600 + 4);
    cr_assert_null(rest);
    cr_assert_eq(f->file_pos, f->file_last);
    cr_assert_eq(z->pos, z->last);
}
