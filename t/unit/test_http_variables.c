/*
 * test_http_variables.c: modules/http/variables.c, variables_core.c,
 * variables_headers.c and variables_request.c:
 * $arg_ lookup, and the registry end to end: a real http block is read,
 * then variables and complex values (script.c) are evaluated on a request
 * made by hand.
 */

#include <criterion/criterion.h>

#include "kl_http.h"


#define T_NVARS 256


Test(http_variables, arg_lookup_as_nginx)
{
    kl_http_request_t r;
    kl_str_t          v;

    kl_memzero(&r, sizeof(r));
    kl_str_set(&r.args, "x=1&X=2&b&bb=&cb=3&b=4");

    cr_assert_eq(kl_http_arg(&r, (u_char *) "x", 1, &v), KL_OK);
    cr_assert(v.len == 1 && v.data[0] == '1');

    /* "b" alone has no '=': the next "b=" counts */
    cr_assert_eq(kl_http_arg(&r, (u_char *) "b", 1, &v), KL_OK);
    cr_assert(v.len == 1 && v.data[0] == '4');

    cr_assert_eq(kl_http_arg(&r, (u_char *) "bb", 2, &v), KL_OK);
    cr_assert_eq(v.len, 0);

    /* only at an argument's start: "cb=" is not "b=" */
    cr_assert_eq(kl_http_arg(&r, (u_char *) "c", 1, &v), KL_DECLINED);
    cr_assert_eq(kl_http_arg(&r, (u_char *) "zz", 2, &v), KL_DECLINED);

    kl_str_null(&r.args);
    cr_assert_eq(kl_http_arg(&r, (u_char *) "x", 1, &v), KL_DECLINED);
}


/*
 * A cycle read from text in test mode, as test_http_modules.c does; the
 * cycle it starts from is static, so nothing is left to free.
 */
static kl_cycle_t *
t_cycle(const char *conf_text)
{
    FILE                 *f;
    char                  dir[256];
    static char           path[512], prefix[512];
    static kl_cycle_t     init;
    static kl_log_t       log;
    static kl_open_file_t file;

    snprintf(dir, sizeof(dir), "/tmp/kl_test_variables_%d", (int) getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/logs", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/kiln.conf", dir);

    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(conf_text, f);
    fclose(f);

    (void) kl_modules_init();
    kl_time_update(&kl_loop.clock);

    kl_memzero(&init, sizeof(kl_cycle_t));
    kl_memzero(&log, sizeof(kl_log_t));
    kl_memzero(&file, sizeof(kl_open_file_t));

    file.fd = STDERR_FILENO;
    log.file = &file;
    log.log_level = KL_LOG_ERR;
    init.log = &log;

    snprintf(prefix, sizeof(prefix), "%s/", dir);
    init.prefix.data = (u_char *) prefix;
    init.prefix.len = strlen(prefix);
    init.conf_prefix = init.prefix;
    init.conf_file.data = (u_char *) path;
    init.conf_file.len = strlen(path);
    kl_str_set(&init.error_log, "stderr");

    kl_cycle = &init;

    return kl_cycle_init(&init, 1);
}


static const char *t_conf_text = "error_log stderr;\n"
                                 "events { }\n"
                                 "http {\n"
                                 "    access_log off;\n"
                                 "    server {\n"
                                 "        listen 127.0.0.1:1;\n"
                                 "        server_name example.com;\n"
                                 "        root /srv/www/;\n"
                                 "    }\n"
                                 "}\n";

static kl_cycle_t        *t_cy;
static kl_conf_t          t_cf;
static kl_http_request_t *t_r;


static kl_table_elt_t *
t_header(const char *name, const char *value)
{
    kl_table_elt_t *h;

    h = kl_list_push(&t_r->headers_in.headers);
    cr_assert_not_null(h);

    h->hash = 1;
    h->next = NULL;
    h->key.data = (u_char *) name;
    h->key.len = strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);
    h->lowcase_key = h->key.data;

    return h;
}


/* A request on a fake connection, under the cycle's one server. */
static void
t_setup(void)
{
    kl_http_conf_ctx_t       *ctx;
    kl_connection_t          *c;
    kl_http_core_srv_conf_t  *cscf;
    kl_http_core_main_conf_t *cmcf;
    kl_http_core_srv_conf_t **servers;
    static struct sockaddr_in sin;

    t_cy = t_cycle(t_conf_text);
    cr_assert_not_null(t_cy, "the test configuration must parse");

    ctx = t_cy->conf_ctx[kl_http_module.index];
    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];
    servers = cmcf->servers.elts;
    cscf = servers[0];

    kl_memzero(&t_cf, sizeof(t_cf));
    t_cf.cycle = t_cy;
    t_cf.pool = t_cy->pool;
    t_cf.temp_pool = t_cy->pool;
    t_cf.log = t_cy->log;
    t_cf.ctx = cscf->ctx;

    t_r = kl_pcalloc(t_cy->pool, sizeof(kl_http_request_t));
    c = kl_pcalloc(t_cy->pool, sizeof(kl_connection_t));
    cr_assert(t_r && c);

    sin.sin_family = AF_INET;
    sin.sin_port = htons(40000);
    sin.sin_addr.s_addr = htonl(0x7f000001);

    c->pool = t_cy->pool;
    c->log = t_cy->log;
    c->sockaddr = (struct sockaddr *) &sin;
    c->socklen = sizeof(sin);
    kl_str_set(&c->addr_text, "127.0.0.1");
    c->number = 7;
    c->requests = 3;

    t_r->connection = c;
    t_r->pool = t_cy->pool;
    t_r->main_conf = cscf->ctx->main_conf;
    t_r->srv_conf = cscf->ctx->srv_conf;
    t_r->loc_conf = cscf->ctx->loc_conf;
    t_r->ctx = kl_pcalloc(t_cy->pool,
                          sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));
    cr_assert_not_null(t_r->ctx);

    cr_assert_eq(kl_list_init(&t_r->headers_in.headers, t_cy->pool, 8,
                              sizeof(kl_table_elt_t)),
                 KL_OK);
    cr_assert_eq(kl_list_init(&t_r->headers_out.headers, t_cy->pool, 8,
                              sizeof(kl_table_elt_t)),
                 KL_OK);

    /* Room for the indexes the tests add after the configuration: a
     * real request only ever sees the ones the configuration made. */
    t_r->variables =
        kl_pcalloc(t_cy->pool, T_NVARS * sizeof(kl_http_variable_value_t));
    cr_assert_not_null(t_r->variables);

    t_r->headers_in.content_length_n = -1;
    t_r->headers_out.content_length_n = -1;
    t_r->headers_out.last_modified_time = -1;
}


static void
t_teardown(void)
{
    if (t_cy) {
        kl_cycle_free(t_cy, 0);
        t_cy = NULL;
    }
}


/* The value of $name for t_r, "-" when not found. */
static char *
t_var(const char *name)
{
    kl_int_t                  index;
    kl_str_t                  n;
    kl_http_variable_value_t *v;
    static char               out[256];

    n.data = (u_char *) name;
    n.len = strlen(name);

    index = kl_http_get_variable_index(&t_cf, &n);
    cr_assert_neq(index, KL_ERROR, "$%s: no index", name);
    cr_assert_lt(index, T_NVARS);

    v = kl_http_get_flushed_variable(t_r, index);

    if (v == NULL || v->not_found) {
        return "-";
    }

    snprintf(out, sizeof(out), "%.*s", (int) v->len, v->data);

    return out;
}


static char *
t_complex(const char *text)
{
    kl_str_t                        value, result;
    kl_http_complex_value_t         cv;
    kl_http_compile_complex_value_t ccv;
    static char                     out[256];

    value.data = (u_char *) text;
    value.len = strlen(text);

    kl_memzero(&ccv, sizeof(ccv));
    ccv.cf = &t_cf;
    ccv.value = &value;
    ccv.complex_value = &cv;

    cr_assert_eq(kl_http_compile_complex_value(&ccv), KL_OK, "\"%s\"", text);
    cr_assert(cv.nparts == 0
              || cv.parts[cv.nparts - 1].type != KL_HTTP_SCRIPT_VAR
              || cv.parts[cv.nparts - 1].n < T_NVARS);
    cr_assert_eq(kl_http_complex_value(t_r, &cv, &result), KL_OK);

    snprintf(out, sizeof(out), "%.*s", (int) result.len, result.data);

    return out;
}


Test(http_variables, request_values, .init = t_setup, .fini = t_teardown)
{
    kl_table_elt_t *h;

    kl_str_set(&t_r->uri, "/a/b.html");
    kl_str_set(&t_r->args, "x=1&y=two");
    kl_str_set(&t_r->unparsed_uri, "/a/%62.html?x=1&y=two");
    kl_str_set(&t_r->method_name, "GET");
    kl_str_set(&t_r->headers_in.server, "example.org");

    t_r->headers_in.user_agent = t_header("User-Agent", "curl/8");
    t_header("X-Real-IP", "10.1.2.3");
    t_header("X-Dup", "first");
    t_header("X-Dup", "second");
    h = t_header("Cookie", "a=1; bb = 2 ;c=3");
    h->next = t_header("Cookie", "d=4");
    t_r->headers_in.cookie = h;

    cr_assert_str_eq(t_var("uri"), "/a/b.html");
    cr_assert_str_eq(t_var("document_uri"), "/a/b.html");
    cr_assert_str_eq(t_var("request_uri"), "/a/%62.html?x=1&y=two");
    cr_assert_str_eq(t_var("args"), "x=1&y=two");
    cr_assert_str_eq(t_var("is_args"), "?");
    cr_assert_str_eq(t_var("arg_y"), "two");
    cr_assert_str_eq(t_var("ARG_Y"), "two");
    cr_assert_str_eq(t_var("arg_z"), "-");
    cr_assert_str_eq(t_var("request_method"), "GET");
    cr_assert_str_eq(t_var("host"), "example.org");
    cr_assert_str_eq(t_var("server_name"), "example.com");
    cr_assert_str_eq(t_var("http_user_agent"), "curl/8");
    cr_assert_str_eq(t_var("http_x_real_ip"), "10.1.2.3");
    /* repeats joined, as nginx >= 1.23 */
    cr_assert_str_eq(t_var("http_x_dup"), "first, second");
    cr_assert_str_eq(t_var("http_x_none"), "-");
    cr_assert_str_eq(t_var("http_cookie"), "a=1; bb = 2 ;c=3; d=4");
    cr_assert_str_eq(t_var("cookie_a"), "1");
    cr_assert_str_eq(t_var("cookie_bb"), "2 ");
    cr_assert_str_eq(t_var("cookie_c"), "3");
    cr_assert_str_eq(t_var("cookie_d"), "4");
    cr_assert_str_eq(t_var("cookie_b"), "-");
    cr_assert_str_eq(t_var("remote_addr"), "127.0.0.1");
    cr_assert_str_eq(t_var("remote_port"), "40000");
    cr_assert_str_eq(t_var("connection"), "7");
    cr_assert_str_eq(t_var("connection_requests"), "3");
    cr_assert_str_eq(t_var("document_root"), "/srv/www");
    cr_assert_str_eq(t_var("request_filename"), "/srv/www/a/b.html");
    cr_assert_str_eq(t_var("scheme"), "http");
    cr_assert_str_eq(t_var("https"), "");
    cr_assert_str_eq(t_var("remote_user"), "-");
    cr_assert_str_eq(t_var("content_length"), "-");
    cr_assert_str_eq(t_var("kiln_version"), KL_VERSION);
    cr_assert_str_eq(t_var("status"), "000");
    cr_assert_str_eq(t_var("bytes_sent"), "0");
    cr_assert_eq(strlen(t_var("request_id")), 32);
    cr_assert_eq(strspn(t_var("request_id"), "0123456789abcdef"), 32);
    cr_assert_str_eq(t_var("request_completion"), "");
    cr_assert_str_eq(t_var("request_body"), "-");
    cr_assert_str_eq(t_var("upstream_addr"), "-");
}


Test(http_variables, changing_values_are_computed_again, .init = t_setup,
     .fini = t_teardown)
{
    kl_str_set(&t_r->uri, "/one");
    kl_str_set(&t_r->args, "a=1");
    cr_assert_str_eq(t_var("uri"), "/one");
    cr_assert_str_eq(t_var("args"), "a=1");

    kl_str_set(&t_r->uri, "/two");
    kl_str_null(&t_r->args);
    cr_assert_str_eq(t_var("uri"), "/two");
    cr_assert_str_eq(t_var("args"), "-");
    cr_assert_str_eq(t_var("is_args"), "");
}


Test(http_variables, remote_user_from_basic_auth, .init = t_setup,
     .fini = t_teardown)
{
    /* "alice:secret" */
    t_r->headers_in.authorization =
        t_header("Authorization", "Basic YWxpY2U6c2VjcmV0");
    cr_assert_str_eq(t_var("remote_user"), "alice");
}


Test(http_variables, status_and_sent_headers, .init = t_setup,
     .fini = t_teardown)
{
    t_r->headers_out.status = 404;
    kl_str_set(&t_r->headers_out.content_type, "text/html");
    t_r->headers_out.content_length_n = 153;

    cr_assert_str_eq(t_var("status"), "404");
    cr_assert_str_eq(t_var("sent_http_content_type"), "text/html");
    cr_assert_str_eq(t_var("sent_http_content_length"), "153");
    cr_assert_str_eq(t_var("sent_http_last_modified"), "-");
    cr_assert_str_eq(t_var("sent_http_x_foo"), "-");
}


/* Each field of the list given, pushed as a response field would be. */
static void
t_out(kl_list_t *list, const char *name, const char *value, kl_uint_t hash)
{
    kl_table_elt_t *h;

    h = kl_list_push(list);
    cr_assert_not_null(h);

    kl_memzero(h, sizeof(kl_table_elt_t));
    h->hash = hash;
    h->key.data = (u_char *) name;
    h->key.len = strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);
}


Test(http_variables, repeated_fields_joined_as_nginx_1_23, .init = t_setup,
     .fini = t_teardown)
{
    kl_uint_t  i;
    kl_list_t *out, *trailers;

    out = &t_r->headers_out.headers;
    trailers = &t_r->headers_out.trailers;
    cr_assert_eq(kl_list_init(trailers, t_cy->pool, 2, sizeof(kl_table_elt_t)),
                 KL_OK);

    t_out(out, "Cache-Control", "no-cache", 1);
    t_out(out, "X-Gone", "deleted", 0);
    t_out(out, "cache-control", "private", 1);
    t_out(out, "X-Gone", "kept", 1);
    t_out(out, "Cookie", "a=1", 1);
    t_out(out, "Cookie", "b=2", 1);

    /* more fields than a list part holds: the join crosses parts */
    for (i = 0; i < 10; i++) {
        t_out(out, "X-Many", "v", 1);
    }

    t_out(trailers, "X-Sum", "1", 1);
    t_out(trailers, "X-Sum", "2", 1);

    cr_assert_str_eq(t_var("sent_http_cache_control"), "no-cache, private");
    cr_assert_str_eq(t_var("sent_http_x_gone"), "kept");
    cr_assert_str_eq(t_var("sent_http_cookie"), "a=1; b=2");
    cr_assert_str_eq(t_var("sent_http_x_many"), "v, v, v, v, v, v, v, v, v, v");
    cr_assert_str_eq(t_var("sent_trailer_x_sum"), "1, 2");
    cr_assert_str_eq(t_var("sent_trailer_x_none"), "-");
}


Test(http_variables, complex_values, .init = t_setup, .fini = t_teardown)
{
    static int caps[] = { 0, 9, 1, 4, 5, 9 };

    kl_str_set(&t_r->uri, "/abc/defg");
    kl_str_set(&t_r->headers_in.server, "h.example");

    cr_assert_str_eq(t_complex("plain"), "plain");
    cr_assert_str_eq(t_complex("$host:${uri}x"), "h.example:/abc/defgx");
    cr_assert_str_eq(t_complex("[$http_none]"), "[]");

    /* no regex ran: captures are empty */
    cr_assert_str_eq(t_complex("<$1>"), "<>");

    t_r->captures = caps;
    t_r->ncaptures = 6;
    t_r->captures_data = t_r->uri.data;
    cr_assert_str_eq(t_complex("$1-$2-$3"), "abc-defg-");
}


Test(http_variables, unknown_names_fail_the_configuration)
{
    kl_cycle_t *cy;

    cy = t_cycle("error_log stderr;\n"
                 "events { }\n"
                 "http {\n"
                 "    log_format f '$no_such_variable';\n"
                 "    access_log logs/a.log f;\n"
                 "    server { listen 127.0.0.1:1; }\n"
                 "}\n");
    cr_assert_null(cy);

    /* prefixed names are known whatever follows the prefix */
    cy = t_cycle("error_log stderr;\n"
                 "events { }\n"
                 "http {\n"
                 "    log_format f '$http_x_y $arg_q $cookie_c "
                 "$sent_http_etag';\n"
                 "    access_log logs/a.log f;\n"
                 "    server { listen 127.0.0.1:1; }\n"
                 "}\n");
    cr_assert_not_null(cy);
    kl_cycle_free(cy, 0);
}
