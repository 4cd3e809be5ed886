/*
 * subrequest.c: child requests, as nginx's subrequests.
 *
 * A subrequest shares its parent's connection and pool and runs the
 * phases from server rewrite on its own URI, with its own module
 * contexts and variables; it skips the access phase and may enter
 * internal locations. Its output is spliced into the parent's where it
 * was issued (the postpone filter), kept in memory (sr->out), or, for a
 * header_only child, dropped. c->data is the request whose output may
 * go to the client now; the others wait in their parent's postponed
 * list. Requests to run next are posted on the main request and run
 * from a posted event of the loop, after the handler that posted them.
 */

#include "kl_http.h"


static void kl_http_run_posted_requests(kl_event_t *ev);
static void kl_http_subrequest_writer(kl_http_request_t *r);
static void kl_http_subrequest_finalizer(kl_http_request_t *r);


static kl_str_t kl_http_get_name = kl_string("GET");


static kl_int_t
kl_http_subrequest_check(kl_http_request_t *r, kl_str_t *uri)
{
    kl_log_t *log;

    log = r->connection->log;

    if (r->subrequest_depth > KL_HTTP_MAX_SUBREQUESTS) {
        kl_log_error(KL_LOG_ERR, log, 0,
                     "subrequests cycle while processing \"%V\"", uri);
        return KL_ERROR;
    }

    /* Room is kept for the other holders of the request (body, upstream). */
    if (r->main->count >= 65535 - 1000) {
        kl_log_error(KL_LOG_CRIT, log, 0,
                     "request reference counter overflow "
                     "while processing \"%V\"",
                     uri);
        return KL_ERROR;
    }

    if (r->subrequest_in_memory) {
        kl_log_error(KL_LOG_ERR, log, 0, "nested in-memory subrequest \"%V\"",
                     uri);
        return KL_ERROR;
    }

    return KL_OK;
}


/* The child's fields that come from its parent, as nginx sets them. */
static kl_int_t
kl_http_subrequest_init(kl_http_request_t *sr, kl_http_request_t *r)
{
    kl_http_core_srv_conf_t *cscf;

    sr->ctx =
        kl_pcalloc(r->pool, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));
    if (sr->ctx == NULL
        || kl_list_init(&sr->headers_out.headers, r->pool, 20,
                        sizeof(kl_table_elt_t))
               != KL_OK
        || kl_list_init(&sr->headers_out.trailers, r->pool, 2,
                        sizeof(kl_table_elt_t))
               != KL_OK)
    {
        return KL_ERROR;
    }

    sr->pool = r->pool;
    sr->connection = r->connection;
    sr->proto = r->proto;
    sr->pipeline = r->pipeline;
    sr->http_connection = r->http_connection;
    sr->header_in = r->header_in;
    sr->headers_in = r->headers_in;
    sr->request_body = r->request_body;

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
    sr->main_conf = cscf->ctx->main_conf;
    sr->srv_conf = cscf->ctx->srv_conf;
    sr->loc_conf = cscf->ctx->loc_conf;

    sr->method = KL_HTTP_GET;
    sr->method_name = kl_http_get_name;
    sr->http_version = r->http_version;
    sr->http_protocol = r->http_protocol;
    sr->request_line = r->request_line;
    sr->unparsed_uri = r->unparsed_uri;
    sr->schema = r->schema;

    sr->main = r->main;
    sr->parent = r;
    sr->subrequest_depth = r->subrequest_depth + 1;

    sr->read_event_handler = kl_http_block_reading;
    sr->write_event_handler = kl_http_handler;

    sr->start_sec = kl_loop.clock.sec;
    sr->start_msec = kl_now();
    sr->uri_changes = KL_HTTP_MAX_URI_CHANGES + 1;
    sr->internal = 1;
    sr->expect_tested = 1;

    sr->headers_out.content_length_n = -1;
    sr->headers_out.last_modified_time = -1;

    return KL_OK;
}


kl_int_t
kl_http_subrequest(kl_http_request_t *r, kl_str_t *uri, kl_str_t *args,
                   kl_http_request_t **psr, kl_http_post_subrequest_t *ps,
                   kl_uint_t flags)
{
    kl_connection_t             *c;
    kl_http_request_t           *sr;
    kl_http_postponed_request_t *pr, *p;

    if (kl_http_subrequest_check(r, uri) != KL_OK) {
        return KL_ERROR;
    }

    c = r->connection;

    sr = kl_pcalloc(r->pool, sizeof(kl_http_request_t));
    if (sr == NULL || kl_http_subrequest_init(sr, r) != KL_OK) {
        return KL_ERROR;
    }

    sr->uri = *uri;

    if (args) {
        sr->args = *args;
    }

    kl_http_set_exten(sr);

    sr->post_subrequest = ps;
    sr->subrequest_in_memory = (flags & KL_HTTP_SUBREQUEST_IN_MEMORY) != 0;
    sr->filter_need_in_memory = sr->subrequest_in_memory;
    sr->waited = (flags & KL_HTTP_SUBREQUEST_WAITED) != 0;
    sr->background = (flags & KL_HTTP_SUBREQUEST_BACKGROUND) != 0;

    if (!sr->background) {
        /* The first child of the active request becomes the active one. */
        if (c->data == r && r->postponed == NULL) {
            c->data = sr;
        }

        pr = kl_palloc(r->pool, sizeof(kl_http_postponed_request_t));
        if (pr == NULL) {
            return KL_ERROR;
        }

        pr->request = sr;
        pr->out = NULL;
        pr->next = NULL;

        if (r->postponed) {
            for (p = r->postponed; p->next; p = p->next) { /* void */
            }
            p->next = pr;

        } else {
            r->postponed = pr;
        }
    }

    r->main->count++;

    *psr = sr;

    return kl_http_post_request(sr);
}


kl_int_t
kl_http_post_request(kl_http_request_t *r)
{
    kl_event_t               *ev;
    kl_http_request_t        *m;
    kl_http_posted_request_t *pr, **p;

    m = r->main;

    pr = kl_palloc(m->pool, sizeof(kl_http_posted_request_t));
    if (pr == NULL) {
        return KL_ERROR;
    }

    pr->request = r;
    pr->next = NULL;

    for (p = &m->posted_requests; *p; p = &(*p)->next) { /* void */
    }

    *p = pr;

    if (m->posted_event == NULL) {
        ev = kl_pcalloc(m->pool, sizeof(kl_event_t));
        if (ev == NULL) {
            return KL_ERROR;
        }

        ev->data = m;
        ev->handler = kl_http_run_posted_requests;
        ev->log = m->connection->log;
        m->posted_event = ev;
    }

    kl_post_event(m->posted_event, &kl_loop.posted);

    return KL_OK;
}


static void
kl_http_run_posted_requests(kl_event_t *ev)
{
    kl_uint_t                 gone;
    kl_http_request_t        *m, *r;
    kl_http_posted_request_t *pr;

    m = ev->data;

    /* A handler may free the main request: kl_http_free_request says so. */
    gone = 0;
    m->posted_gone = &gone;

    for (;;) {
        pr = m->posted_requests;

        if (pr == NULL) {
            break;
        }

        m->posted_requests = pr->next;

        r = pr->request;
        r->write_event_handler(r);

        if (gone) {
            return;
        }
    }

    m->posted_gone = NULL;
}


static void
kl_http_log_subrequest(kl_http_request_t *r)
{
    kl_uint_t                 i;
    kl_http_handler_pt       *log_handler;
    kl_http_core_loc_conf_t  *clcf;
    kl_http_core_main_conf_t *cmcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!clcf->log_subrequest) {
        return;
    }

    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
    log_handler = cmcf->phases[KL_HTTP_LOG_PHASE].elts;

    for (i = 0; i < cmcf->phases[KL_HTTP_LOG_PHASE].nelts; i++) {
        (void) log_handler[i](r);
    }
}


void
kl_http_finalize_subrequest(kl_http_request_t *r)
{
    kl_connection_t   *c;
    kl_http_request_t *pr;

    c = r->connection;

    if (r->buffered || r->postponed) {
        /* Its own children's output is still to go out first. */
        r->write_event_handler = kl_http_subrequest_writer;
        return;
    }

    pr = r->parent;

    if (r == c->data || r->background) {
        if (r->logged) {
            kl_log_error(KL_LOG_ALERT, c->log, 0,
                         "subrequest: \"%V?%V\" already finalized", &r->uri,
                         &r->args);
            return;
        }

        r->logged = 1;
        kl_http_log_subrequest(r);
        r->done = 1;

        /* A write event for it may still come (it was c->data): a no-op. */
        r->write_event_handler = kl_http_request_empty_handler;

        if (r->background) {
            kl_http_finalize_connection(r);
            return;
        }

        r->main->count--;

        /*
         * A child's upstream, checking for a closed client
         * (kl_http_upstream_check_broken), clears the read readiness when
         * its peek found nothing; bytes may have come since, and with
         * edge-triggered events the report went to the child's handler,
         * so the next reader tries a read (EAGAIN clears it again).
         */
        c->read->ready = 1;

        if (pr->postponed && pr->postponed->request == r) {
            pr->postponed = pr->postponed->next;
        }

        c->data = pr;

    } else {
        /* Its turn comes when the requests before it are done. */
        r->write_event_handler = kl_http_subrequest_finalizer;

        if (r->waited) {
            r->done = 1;
        }
    }

    if (kl_http_post_request(pr) != KL_OK) {
        r->main->count++;
        kl_http_terminate_request(r, 0);
    }
}


static void
kl_http_subrequest_writer(kl_http_request_t *r)
{
    kl_int_t rc;

    rc = kl_http_output_filter(r, NULL);

    if (rc == KL_ERROR) {
        kl_http_finalize_request(r, rc);
        return;
    }

    if (r->buffered || r->postponed) {
        return;
    }

    r->write_event_handler = kl_http_request_empty_handler;

    kl_http_finalize_request(r, KL_OK);
}


static void
kl_http_subrequest_finalizer(kl_http_request_t *r)
{
    kl_http_finalize_request(r, KL_OK);
}
