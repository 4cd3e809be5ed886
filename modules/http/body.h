/*
 * body.h: reading a request body (Content-Length or chunked, RFC 9112
 * section 6) into memory or a temp file, and the body module's confs.
 *
 * A content handler that wants the body calls
 * kl_http_read_client_request_body(r, post_handler); if that returns a
 * status of 300 or more, the handler returns it; otherwise it returns
 * KL_DONE, and post_handler runs once the whole body is in (possibly
 * before the call returns). As nginx's, the call takes a reference on the
 * request (r->count), which the handler's KL_DONE gives back.
 *
 * With r->request_body_no_buffering set first, post_handler runs at once
 * with what was there in rb->buf, and r->has_body stays set until the
 * whole body is read: the consumer takes [rb->buf->pos, rb->buf->last),
 * and once those bytes are no longer needed calls
 * kl_http_read_unbuffered_request_body for more.
 */

#ifndef KL_HTTP_BODY_H
#define KL_HTTP_BODY_H

#include "kl_http.h"

typedef void (*kl_http_client_body_handler_pt)(kl_http_request_t *r);

/* The temp directories and files of bodies (client_body_temp_path). */
#include "temp_file.h"

/* A request's body: r->request_body, made by the first read call. */
struct kl_http_request_body_s {
    /*
     * The body once read: one memory buffer, or one file buffer over the
     * whole temp file; NULL when the body is empty.
     */
    kl_chain_t *bufs;
    kl_buf_t   *buf;       /* the memory being filled */
    kl_file_t  *temp_file; /* set once the body went to a file */

    off_t rest;     /* framing bytes still to come, at least (r->proto's) */
    off_t received; /* body bytes so far (decoded, when chunked) */

    kl_http_chunked_t              chunked; /* v1/body.c's decoder */
    kl_http_client_body_handler_pt post_handler;
};

/* client_body_in_file_only */
#define KL_HTTP_BODY_FILE_OFF   KL_HTTP_TEMP_FILE_UNLINK
#define KL_HTTP_BODY_FILE_ON    KL_HTTP_TEMP_FILE_KEEP
#define KL_HTTP_BODY_FILE_CLEAN KL_HTTP_TEMP_FILE_CLEAN

/* Every temp directory of the http confs (temp_file.c), made at load. */
typedef struct {
    kl_array_t paths; /* kl_http_temp_path_t *, distinct */
} kl_http_body_main_conf_t;

typedef struct {
    size_t               client_body_buffer_size;
    kl_http_temp_path_t *client_body_temp_path;
    kl_uint_t            client_body_in_file_only;
    kl_int_t             client_body_in_single_buffer;
} kl_http_body_loc_conf_t;

extern kl_module_t kl_http_body_module;

/*
 * Read r's body, then call post_handler(r) with r->request_body set.
 * Returns KL_OK (post_handler has run), KL_AGAIN (it will run from the
 * read handler), or an HTTP status to answer (413 too large, 400 bad
 * chunked framing or the client gone, 500). Bodies larger than
 * client_body_buffer_size (a quarter more with Content-Length) go to a
 * temp file under client_body_temp_path. Sends "100 Continue" first
 * when the client expects it (r->proto->send_continue). Reading stops at
 * the body's end, so a pipelined request after it stays for the
 * connection.
 */
kl_int_t
kl_http_read_client_request_body(kl_http_request_t             *r,
                                 kl_http_client_body_handler_pt post_handler);

/*
 * The unbuffered read: rb->buf is emptied when the consumer took it all
 * (pos == last), then filled with what the client sent so far (decoded
 * when chunked; never past the body's end). KL_OK: the whole body is
 * read (r->has_body is cleared; rb->buf may still hold its last bytes);
 * KL_AGAIN: more to come (the read handler runs when it does, with
 * client_body_timeout while the buffer has room); or an HTTP status:
 * 400 bad framing or the client gone (c->error set), 413, 408 (timed
 * out, logged). Reading stops while the buffer is full.
 */
kl_int_t kl_http_read_unbuffered_request_body(kl_http_request_t *r);

#endif /* KL_HTTP_BODY_H */
