/* v1.h: HTTP/1.x: the protocol table and what its files share. */

#ifndef KL_HTTP_V1_H
#define KL_HTTP_V1_H

#include "kl_http.h"


/* The table every HTTP/1 request carries in r->proto (connection.c). */
extern const kl_http_proto_t kl_http_v1_proto;

/* connection.c: a listener's accept handler; closing the connection;
 * and the handlers keepalive.c hands the connection back to. */
void               kl_http_init_connection(kl_connection_t *c);
void               kl_http_close_connection(kl_connection_t *c);
void               kl_http_wait_request_handler(kl_event_t *rev);
void               kl_http_process_request_line(kl_event_t *rev);
void               kl_http_empty_handler(kl_event_t *wev);
kl_http_request_t *kl_http_create_request(kl_connection_t *c);
void kl_http_release_pool(kl_connection_t *c, kl_http_connection_t *hc);

/* ssl.c: a listen ... ssl connection's handshake, then the request;
 * plain HTTP there (KL_DONE: finalized 497); the close_notify on close
 * (KL_AGAIN: the close resumes later). */
void     kl_http_ssl_init_connection(kl_connection_t *c);
kl_int_t kl_http_ssl_plain_request(kl_http_request_t *r);
kl_int_t kl_http_ssl_close(kl_connection_t *c);

/* keepalive.c: the proto's finalize: keep-alive or lingering close. */
void kl_http_v1_finalize(kl_http_request_t *r);

/* head.c: the response head as bytes, and the interim heads. */
kl_int_t kl_http_v1_send_header(kl_http_request_t *r);
kl_int_t kl_http_v1_send_continue(kl_http_request_t *r);
kl_int_t kl_http_v1_switch_protocols(kl_http_request_t *r,
                                     kl_str_t *status_line, kl_list_t *fields,
                                     kl_buf_t *preread);

/* body.c: the request body's framing, Content-Length or chunked. */
kl_int_t kl_http_v1_read_body(kl_http_request_t *r, kl_buf_t *b);
kl_int_t kl_http_v1_discard_body(kl_http_request_t *r);
void     kl_http_v1_discard_body_wait(kl_http_request_t *r);

/* "Name: value CRLF" for each live field (hash != 0): length, then bytes. */
size_t  kl_http_fields_length(kl_list_t *fields);
u_char *kl_http_fields_write(u_char *p, kl_list_t *fields);

/* chunked.c: whether the body goes chunked (sets r->chunked), before the
 * head is written; KL_OK or KL_ERROR */
kl_int_t kl_http_v1_chunked_start(kl_http_request_t *r);

#endif /* KL_HTTP_V1_H */
