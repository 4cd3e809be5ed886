/*
 * postpone_filter.c: subrequests' output in the order it was issued, as
 * nginx's postpone filter.
 *
 * Only the active request (c->data) writes to the client. Output of any
 * other request waits in its postponed list, after the children issued
 * before it; as the active request's children finish, what waited goes
 * out and the next child becomes active. A subrequest's output goes on
 * down the chain as the main request's. An in-memory subrequest's body
 * is gathered into one buffer of subrequest_output_buffer_size (too big
 * fails the subrequest); a header_only or background one's is dropped,
 * as nothing waits for it. A request with
 * no children takes the first test and nothing else.
 */

#include "kl_http.h"


typedef struct {
    kl_http_output_body_filter_pt next_body_filter;
} kl_http_postpone_main_conf_t;


static void    *kl_http_postpone_create_main_conf(kl_conf_t *cf);
static kl_int_t kl_http_postpone_filter_init(kl_conf_t *cf);


static kl_http_module_t kl_http_postpone_filter_module_ctx = {
    .postconfiguration = kl_http_postpone_filter_init,
    .create_main_conf = kl_http_postpone_create_main_conf,
};


kl_module_t kl_http_postpone_filter_module = {
    .name = "kl_http_postpone_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_postpone_filter_module_ctx,
};


static kl_int_t
kl_http_postpone_add(kl_http_request_t *r, kl_chain_t *in)
{
    kl_http_postponed_request_t *pr, **ppr;

    if (r->postponed) {
        for (pr = r->postponed; pr->next; pr = pr->next) { /* void */
        }

        if (pr->request == NULL) {
            return kl_chain_add_copy(r->pool, &pr->out, in);
        }

        ppr = &pr->next;

    } else {
        ppr = &r->postponed;
    }

    pr = kl_palloc(r->pool, sizeof(kl_http_postponed_request_t));
    if (pr == NULL) {
        return KL_ERROR;
    }

    *ppr = pr;

    pr->request = NULL;
    pr->out = NULL;
    pr->next = NULL;

    return kl_chain_add_copy(r->pool, &pr->out, in);
}


static kl_int_t
kl_http_postpone_in_memory(kl_http_request_t *r, kl_chain_t *in)
{
    size_t                   len;
    kl_buf_t                *b;
    kl_chain_t              *cl;
    kl_http_core_loc_conf_t *clcf;

    if (r->out == NULL) {
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

        r->out = kl_chain_alloc(r->pool);
        if (r->out == NULL) {
            return KL_ERROR;
        }

        r->out->buf =
            kl_buf_create_temp(r->pool, clcf->subrequest_output_buffer_size);
        r->out->next = NULL;

        if (r->out->buf == NULL) {
            return KL_ERROR;
        }
    }

    b = r->out->buf;

    for (cl = in; cl; cl = cl->next) {
        if (kl_buf_special(cl->buf)) {
            continue;
        }

        len = kl_buf_in_memory(cl->buf)
                  ? (size_t) (cl->buf->last - cl->buf->pos)
                  : (size_t) (cl->buf->file_last - cl->buf->file_pos);

        if (len > (size_t) (b->end - b->last)) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "too big subrequest response while sending to "
                         "client");
            return KL_ERROR;
        }

        if (kl_buf_in_memory(cl->buf)) {
            b->last = kl_cpymem(b->last, cl->buf->pos, len);
            cl->buf->pos = cl->buf->last;
            continue;
        }

        /* A peer's response spilled to a temp file (proxy buffering). */
        if (kl_read_file(cl->buf->file, b->last, len, cl->buf->file_pos)
            != (ssize_t) len)
        {
            kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                         "pread() of an in-memory subrequest's body failed");
            return KL_ERROR;
        }

        b->last += len;
        cl->buf->file_pos = cl->buf->file_last;
    }

    return KL_OK;
}


/*
 * A request with subrequests or output waiting: kept out of the filter
 * itself, so that a request with neither pays for three tests and a
 * tail call, not for this function's frame.
 */
__attribute__((noinline)) static kl_int_t
kl_http_postpone_order(kl_http_request_t *r, kl_chain_t *in,
                       kl_http_postpone_main_conf_t *pmcf)
{
    kl_connection_t             *c;
    kl_http_postponed_request_t *pr;

    c = r->connection;

    if (r->subrequest_in_memory) {
        return kl_http_postpone_in_memory(r, in);
    }

    /* Its body has nowhere to go (auth_request; a background child). */
    if (r != r->main && (r->header_only || r->background)) {
        return KL_OK;
    }

    if (r != c->data) {
        if (in && kl_http_postpone_add(r, in) != KL_OK) {
            return KL_ERROR;
        }

        return KL_OK;
    }

    if (r->postponed == NULL) {
        if (in || r->main->out) {
            return pmcf->next_body_filter(r->main, in);
        }

        return KL_OK;
    }

    if (in && kl_http_postpone_add(r, in) != KL_OK) {
        return KL_ERROR;
    }

    do {
        pr = r->postponed;

        if (pr->request) {
            /* The next child writes now; this request waits for it. */
            r->postponed = pr->next;
            c->data = pr->request;
            return kl_http_post_request(pr->request);
        }

        if (pr->out && pmcf->next_body_filter(r->main, pr->out) == KL_ERROR) {
            return KL_ERROR;
        }

        r->postponed = pr->next;

    } while (r->postponed);

    return KL_OK;
}


static kl_int_t
kl_http_postpone_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_http_postpone_main_conf_t *pmcf;

    pmcf = kl_http_get_module_main_conf(r, kl_http_postpone_filter_module);

    if (r == r->main && r->postponed == NULL && r->connection->data == r) {
        return pmcf->next_body_filter(r, in);
    }

    return kl_http_postpone_order(r, in, pmcf);
}


static void *
kl_http_postpone_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_postpone_main_conf_t));
}


static kl_int_t
kl_http_postpone_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t     *cmcf;
    kl_http_postpone_main_conf_t *pmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    pmcf =
        kl_http_conf_get_module_main_conf(cf, kl_http_postpone_filter_module);

    pmcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_postpone_filter;

    return KL_OK;
}
