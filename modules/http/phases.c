/*
 * phases.c: the phase engine: handlers flattened into one array at
 * config time, run by checkers that decide where each result leads;
 * location lookup and internal redirects.
 */

#include "kl_http.h"
#include "core_limits.h"
#include "core_access.h"


static kl_int_t kl_http_core_generic_phase(kl_http_request_t       *r,
                                           kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_rewrite_phase(kl_http_request_t       *r,
                                           kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_find_config_phase(kl_http_request_t       *r,
                                               kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_post_rewrite_phase(kl_http_request_t       *r,
                                                kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_access_phase(kl_http_request_t       *r,
                                          kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_post_access_phase(kl_http_request_t       *r,
                                               kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_content_phase(kl_http_request_t       *r,
                                           kl_http_phase_handler_t *ph);
static kl_int_t kl_http_core_find_location(kl_http_request_t *r);
static kl_http_core_loc_conf_t *
kl_http_find_static_location(kl_http_request_t *r, kl_array_t *locations,
                             kl_uint_t *stop);


kl_int_t
kl_http_init_phase_handlers(kl_conf_t *cf, kl_http_core_main_conf_t *cmcf)
{
    kl_int_t                 j;
    kl_uint_t                i, n, find_config_index;
    kl_http_handler_pt      *h;
    kl_http_phase_handler_t *ph;
    kl_http_phase_handler_pt checker;

    /* find_config, post_rewrite, post_access, the final content slot, end */
    n = 5;

    for (i = 0; i < KL_HTTP_LOG_PHASE; i++) {
        n += cmcf->phases[i].nelts;
    }

    ph = kl_pcalloc(cf->pool, n * sizeof(kl_http_phase_handler_t));
    if (ph == NULL) {
        return KL_ERROR;
    }

    cmcf->phase_engine.handlers = ph;
    find_config_index = 0;
    n = 0;

    /* The log phase runs at request end, outside the engine. */
    for (i = 0; i < KL_HTTP_LOG_PHASE; i++) {
        h = cmcf->phases[i].elts;

        switch (i) {

        case KL_HTTP_SERVER_REWRITE_PHASE:
            cmcf->phase_engine.server_rewrite_index = n;
            checker = kl_http_core_rewrite_phase;
            break;

        case KL_HTTP_FIND_CONFIG_PHASE:
            find_config_index = n;
            ph[n].checker = kl_http_core_find_config_phase;
            n++;
            continue;

        case KL_HTTP_REWRITE_PHASE:
            cmcf->phase_engine.location_rewrite_index = n;
            checker = kl_http_core_rewrite_phase;
            break;

        case KL_HTTP_POST_REWRITE_PHASE:
            ph[n].checker = kl_http_core_post_rewrite_phase;
            ph[n].next = (kl_int_t) find_config_index;
            n++;
            continue;

        case KL_HTTP_ACCESS_PHASE:
            checker = kl_http_core_access_phase;
            break;

        case KL_HTTP_POST_ACCESS_PHASE:
            ph[n].checker = kl_http_core_post_access_phase;
            ph[n].next = (kl_int_t) n + 1;
            n++;
            continue;

        case KL_HTTP_CONTENT_PHASE:
            checker = kl_http_core_content_phase;
            break;

        default:
            checker = kl_http_core_generic_phase;
        }

        /* As in nginx, the module listed later in auto/modules runs first. */
        for (j = (kl_int_t) cmcf->phases[i].nelts - 1; j >= 0; j--) {
            ph[n].checker = checker;
            ph[n].handler = h[j];
            ph[n].next = (kl_int_t) (n + j + 1);
            n++;
        }

        if (i == KL_HTTP_CONTENT_PHASE) {
            /* Reached when every content handler declined. */
            ph[n].checker = kl_http_core_content_phase;
            ph[n].handler = NULL;
            ph[n].next = (kl_int_t) n + 1;
            n++;
        }
    }

    return KL_OK;
}


void
kl_http_handler(kl_http_request_t *r)
{
    kl_http_core_main_conf_t *cmcf;

    /* A new request: its protocol already decided r->keepalive. */
    if (!r->internal) {
        r->phase_handler = 0;

    } else {
        cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
        r->phase_handler = cmcf->phase_engine.server_rewrite_index;
    }

    r->valid_location = 1;
    r->write_event_handler = kl_http_core_run_phases;

    kl_http_core_run_phases(r);
}


void
kl_http_core_run_phases(kl_http_request_t *r)
{
    kl_int_t                  rc;
    kl_http_phase_handler_t  *ph;
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
    ph = cmcf->phase_engine.handlers;

    while (ph[r->phase_handler].checker) {

        rc = ph[r->phase_handler].checker(r, &ph[r->phase_handler]);

        if (rc == KL_OK) {
            return;
        }
    }
}


static kl_int_t
kl_http_core_generic_phase(kl_http_request_t *r, kl_http_phase_handler_t *ph)
{
    kl_int_t rc;

    rc = ph->handler(r);

    if (rc == KL_OK) {
        r->phase_handler = ph->next;
        return KL_AGAIN;
    }

    if (rc == KL_DECLINED) {
        r->phase_handler++;
        return KL_AGAIN;
    }

    if (rc == KL_AGAIN || rc == KL_DONE) {
        return KL_OK;
    }

    kl_http_finalize_request(r, rc);

    return KL_OK;
}


static kl_int_t
kl_http_core_rewrite_phase(kl_http_request_t *r, kl_http_phase_handler_t *ph)
{
    kl_int_t rc;

    rc = ph->handler(r);

    if (rc == KL_DECLINED) {
        r->phase_handler++;
        return KL_AGAIN;
    }

    if (rc == KL_DONE) {
        return KL_OK;
    }

    kl_http_finalize_request(r, rc);

    return KL_OK;
}


static kl_int_t
kl_http_core_find_config_phase(kl_http_request_t       *r,
                               kl_http_phase_handler_t *ph)
{
    kl_http_core_loc_conf_t *clcf;

    (void) ph;

    r->content_handler = NULL;
    r->uri_changed = 0;

    if (kl_http_find_location(r) != KL_OK) {
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return KL_OK;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!r->internal && clcf->internal) {
        kl_http_finalize_request(r, KL_HTTP_NOT_FOUND);
        return KL_OK;
    }

    kl_http_update_location_config(r);

    if (r->headers_in.content_length_n > 0 && clcf->client_max_body_size
        && r->headers_in.content_length_n > clcf->client_max_body_size)
    {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "client intended to send too large body: %O bytes",
                     r->headers_in.content_length_n);

        r->keepalive = 0;
        kl_http_finalize_request(r, KL_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return KL_OK;
    }

    r->phase_handler++;

    return KL_AGAIN;
}


static kl_int_t
kl_http_core_post_rewrite_phase(kl_http_request_t       *r,
                                kl_http_phase_handler_t *ph)
{
    if (!r->uri_changed) {
        r->phase_handler++;
        return KL_AGAIN;
    }

    /* uri_changes counts down; it is 4 bits wide and starts at 11. */
    r->uri_changes--;

    if (r->uri_changes == 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle "
                     "while processing \"%V\"",
                     &r->uri);

        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return KL_OK;
    }

    r->phase_handler = ph->next;

    return KL_AGAIN;
}


/*
 * satisfy all: every access handler must say OK or decline, the first
 * refusal answers. satisfy any: the first OK skips the rest of the phase;
 * a 401 or 403 is kept in r->access_code (a 401 wins over a 403) for
 * post_access to answer when none said OK.
 */
static kl_int_t
kl_http_core_access_phase(kl_http_request_t *r, kl_http_phase_handler_t *ph)
{
    kl_int_t                 rc;
    kl_http_core_loc_conf_t *clcf;

    if (r != r->main) {
        r->phase_handler = ph->next;
        return KL_AGAIN;
    }

    rc = ph->handler(r);

    if (rc == KL_DECLINED) {
        r->phase_handler++;
        return KL_AGAIN;
    }

    if (rc == KL_AGAIN || rc == KL_DONE) {
        return KL_OK;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->satisfy == KL_HTTP_SATISFY_ALL) {
        if (rc == KL_OK) {
            r->phase_handler++;
            return KL_AGAIN;
        }

    } else {
        if (rc == KL_OK) {
            r->access_code = 0;
            r->phase_handler = ph->next;
            return KL_AGAIN;
        }

        if (rc == KL_HTTP_FORBIDDEN || rc == KL_HTTP_UNAUTHORIZED) {
            if (r->access_code != KL_HTTP_UNAUTHORIZED) {
                r->access_code = (kl_uint_t) rc;
            }

            r->phase_handler++;
            return KL_AGAIN;
        }
    }

    if (rc == KL_HTTP_UNAUTHORIZED) {
        return kl_http_core_auth_delay(r);
    }

    kl_http_finalize_request(r, rc);

    return KL_OK;
}


static kl_int_t
kl_http_core_post_access_phase(kl_http_request_t       *r,
                               kl_http_phase_handler_t *ph)
{
    kl_int_t access_code;

    (void) ph;

    access_code = (kl_int_t) r->access_code;

    if (access_code) {
        r->access_code = 0;

        /* satisfy any: the access module leaves this line to the end. */
        if (access_code == KL_HTTP_FORBIDDEN) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "access forbidden by rule");
        }

        if (access_code == KL_HTTP_UNAUTHORIZED) {
            return kl_http_core_auth_delay(r);
        }

        kl_http_finalize_request(r, access_code);
        return KL_OK;
    }

    r->phase_handler++;

    return KL_AGAIN;
}


static kl_int_t
kl_http_core_content_phase(kl_http_request_t *r, kl_http_phase_handler_t *ph)
{
    size_t   root;
    kl_int_t rc;
    kl_str_t path;

    if (r->content_handler) {
        r->write_event_handler = kl_http_request_empty_handler;
        kl_http_finalize_request(r, r->content_handler(r));
        return KL_OK;
    }

    if (ph->handler) {
        rc = ph->handler(r);

        if (rc != KL_DECLINED) {
            kl_http_finalize_request(r, rc);
            return KL_OK;
        }

        r->phase_handler++;
        return KL_AGAIN;
    }

    /* No handler took it: nginx's answers, directory or not. */
    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        if (kl_http_map_uri_to_path(r, &path, &root, 0) != NULL) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "directory index of \"%s\" is forbidden", path.data);
        }

        kl_http_finalize_request(r, KL_HTTP_FORBIDDEN);
        return KL_OK;
    }

    kl_log_error(KL_LOG_ERR, r->connection->log, 0, "no handler found");

    kl_http_finalize_request(r, KL_HTTP_NOT_FOUND);

    return KL_OK;
}


/*
 * nginx's order: the longest prefix (descending into its nested
 * locations); "=" ends the search, "^~" skips regexes; then the regex
 * locations, nested ones before outer ones, each level in config order;
 * the first regex that matches wins over the prefix.
 */
static kl_int_t
kl_http_core_find_location(kl_http_request_t *r)
{
    kl_int_t                 rc, n;
    kl_uint_t                i, stop, noregex;
    kl_http_core_loc_conf_t *pclcf, *found, **regex;

    pclcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    rc = KL_DECLINED;
    noregex = 0;

    if (pclcf->locations) {
        stop = 0;
        found = kl_http_find_static_location(r, pclcf->locations, &stop);

        if (found) {
            r->loc_conf = found->loc_conf;

            if (stop) {
                return KL_OK;
            }

            noregex = found->noregex;

            rc = kl_http_core_find_location(r);

            if (rc == KL_OK || rc == KL_ERROR) {
                return rc;
            }

            rc = KL_AGAIN;
        }
    }

    if (noregex || pclcf->regex_locations == NULL) {
        return rc;
    }

    regex = pclcf->regex_locations->elts;

    for (i = 0; i < pclcf->regex_locations->nelts; i++) {
        n = kl_http_regex_exec(r, regex[i]->regex, &r->uri);

        if (n == KL_DECLINED) {
            continue;
        }

        if (n == KL_ERROR) {
            return KL_ERROR;
        }

        r->loc_conf = regex[i]->loc_conf;

        /* Locations nested in the regex one. */
        rc = kl_http_core_find_location(r);

        return rc == KL_ERROR ? KL_ERROR : KL_OK;
    }

    return rc;
}


kl_int_t
kl_http_find_location(kl_http_request_t *r)
{
    kl_http_core_srv_conf_t *cscf;

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

    /* The server level applies when no location matches. */
    r->loc_conf = cscf->ctx->loc_conf;

    return kl_http_core_find_location(r) == KL_ERROR ? KL_ERROR : KL_OK;
}


kl_int_t
kl_http_regex_exec(kl_http_request_t *r, kl_http_regex_t *re, kl_str_t *s)
{
    kl_int_t  rc, group;
    kl_uint_t len, i;
    kl_str_t  value;

    /* Room for $0..$N pairs; kept for the request's later matches. */
    len = (re->regex->captures + 1) * 2;

    if (r->captures_size < len) {
        r->captures = kl_palloc(r->pool, kl_max(len, 20) * sizeof(int));
        if (r->captures == NULL) {
            return KL_ERROR;
        }

        r->captures_size = kl_max(len, 20);
    }

    rc = kl_regex_exec(re->regex, s, r->captures, r->captures_size);

    if (rc == KL_REGEX_NO_MATCHED) {
        return KL_DECLINED;
    }

    if (rc < 0) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "pcre2_match() failed: %i on \"%V\"", rc, s);
        return KL_ERROR;
    }

    r->ncaptures = (kl_uint_t) rc * 2;
    r->captures_data = s->data;

    /* (?<name>...) sets $name; a group that did not take part is empty. */
    for (i = 0; i < re->nvariables; i++) {
        group = re->variables[2 * i];

        if (group < rc && r->captures[2 * group] >= 0) {
            value.data = s->data + r->captures[2 * group];
            value.len = r->captures[2 * group + 1] - r->captures[2 * group];
        } else {
            kl_str_set(&value, "");
        }

        if (kl_http_set_indexed_variable(r, re->variables[2 * i + 1], &value)
            != KL_OK) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


kl_http_regex_t *
kl_http_regex_compile(kl_conf_t *cf, kl_regex_compile_t *rc)
{
    u_char          *p;
    kl_str_t         name;
    kl_uint_t        i;
    kl_http_regex_t *re;
    u_char           errstr[KL_MAX_CONF_ERRSTR];

    rc->err.data = errstr;
    rc->err.len = KL_MAX_CONF_ERRSTR;

    if (kl_regex_compile(rc) != KL_OK) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%V", &rc->err);
        return NULL;
    }

    re = kl_pcalloc(cf->pool, sizeof(kl_http_regex_t));
    if (re == NULL) {
        return NULL;
    }

    re->regex = rc->regex;
    re->nvariables = rc->regex->named_captures;

    if (re->nvariables == 0) {
        return re;
    }

    re->variables = kl_palloc(cf->pool, 2 * re->nvariables * sizeof(kl_int_t));
    if (re->variables == NULL) {
        return NULL;
    }

    /* PCRE2's name table: a 2-byte group number, then the name, NUL. */
    for (i = 0; i < re->nvariables; i++) {
        p = rc->regex->names + i * rc->regex->name_size;

        name.data = p + 2;
        name.len = kl_strlen(name.data);

        if (kl_http_add_variable(cf, &name, KL_HTTP_VAR_CHANGEABLE) == NULL) {
            return NULL;
        }

        re->variables[2 * i] = (p[0] << 8) | p[1];
        re->variables[2 * i + 1] = kl_http_get_variable_index(cf, &name);

        if (re->variables[2 * i + 1] == KL_ERROR) {
            return NULL;
        }
    }

    return re;
}


/*
 * The longest prefix among siblings wins; "=" wins outright. Regex
 * locations, which a "^~" prefix would skip, come with the regex issue.
 */
static kl_http_core_loc_conf_t *
kl_http_find_static_location(kl_http_request_t *r, kl_array_t *locations,
                             kl_uint_t *stop)
{
    kl_uint_t                 i;
    kl_http_core_loc_conf_t **clcfp, *best;

    clcfp = locations->elts;
    best = NULL;

    for (i = 0; i < locations->nelts; i++) {

        if (clcfp[i]->named) {
            continue;
        }

        if (clcfp[i]->name.len > r->uri.len
            || kl_strncmp(clcfp[i]->name.data, r->uri.data, clcfp[i]->name.len)
                   != 0)
        {
            continue;
        }

        if (clcfp[i]->exact_match) {
            if (clcfp[i]->name.len == r->uri.len) {
                *stop = 1;
                return clcfp[i];
            }

            continue;
        }

        if (best == NULL || clcfp[i]->name.len > best->name.len) {
            best = clcfp[i];
        }
    }

    return best;
}


void
kl_http_update_location_config(kl_http_request_t *r)
{
    kl_connection_t         *c;
    kl_http_connection_t    *hc;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;
    hc = r->http_connection;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* limit_except: the methods it does not list get its confs. */
    if (r->method & clcf->limit_except) {
        r->loc_conf = clcf->limit_except_loc_conf;
        clcf = r->loc_conf[kl_http_core_module.ctx_index];
    }

    if (r->keepalive) {
        if (clcf->keepalive_timeout == 0) {
            r->keepalive = 0;

        } else if (c->requests >= clcf->keepalive_requests) {
            r->keepalive = 0;

        } else if (kl_now() - hc->start_msec > clcf->keepalive_time) {
            r->keepalive = 0;

        } else if (kl_http_keepalive_disabled(r, clcf)) {
            r->keepalive = 0;
        }
    }

    c->sendfile = clcf->sendfile ? 1 : 0;

    /* The location's error_log: the connection's log is its own copy. */
    c->log->file = clcf->error_log->file;
    c->log->syslog = clcf->error_log->syslog;
    c->log->log_level = clcf->error_log->log_level;
    c->log->next = clcf->error_log->next;

    if (clcf->handler) {
        r->content_handler = clcf->handler;
    }
}


void
kl_http_set_exten(kl_http_request_t *r)
{
    kl_int_t i;

    kl_str_null(&r->exten);

    for (i = (kl_int_t) r->uri.len - 1; i > 1; i--) {
        if (r->uri.data[i] == '.' && r->uri.data[i - 1] != '/') {
            r->exten.len = r->uri.len - i - 1;
            r->exten.data = &r->uri.data[i + 1];
            return;
        }

        if (r->uri.data[i] == '/') {
            return;
        }
    }
}


kl_int_t
kl_http_internal_redirect(kl_http_request_t *r, kl_str_t *uri, kl_str_t *args)
{
    kl_http_core_srv_conf_t *cscf;

    r->uri_changes--;

    if (r->uri_changes == 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle "
                     "while internally redirecting to \"%V\"",
                     uri);

        r->main->count++;
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return KL_DONE;
    }

    r->uri = *uri;

    if (args) {
        r->args = *args;
    } else {
        kl_str_null(&r->args);
    }

    kl_http_set_exten(r);

    /* Module state belongs to the old URI. */
    kl_memzero(r->ctx, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
    r->loc_conf = cscf->ctx->loc_conf;

    kl_http_update_location_config(r);

    r->internal = 1;
    r->valid_unparsed_uri = 0;
    r->main->count++;

    kl_http_handler(r);

    return KL_DONE;
}


kl_int_t
kl_http_named_location(kl_http_request_t *r, kl_str_t *name)
{
    kl_uint_t                 i;
    kl_http_core_srv_conf_t  *cscf;
    kl_http_core_loc_conf_t  *clcf, **named;
    kl_http_core_main_conf_t *cmcf;

    r->main->count++;
    r->uri_changes--;

    if (r->uri_changes == 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle "
                     "while redirect to named location \"%V\"",
                     name);

        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return KL_DONE;
    }

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
    clcf = cscf->ctx->loc_conf[kl_http_core_module.ctx_index];

    named = clcf->locations ? clcf->locations->elts : NULL;

    for (i = 0; named && i < clcf->locations->nelts; i++) {
        if (!named[i]->named || named[i]->name.len != name->len
            || kl_strncmp(named[i]->name.data, name->data, name->len) != 0)
        {
            continue;
        }

        r->loc_conf = named[i]->loc_conf;
        r->content_handler = NULL;
        r->uri_changed = 0;
        r->internal = 1;

        kl_memzero(r->ctx, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));

        kl_http_update_location_config(r);

        cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
        r->phase_handler = (kl_int_t) cmcf->phase_engine.location_rewrite_index;
        r->write_event_handler = kl_http_core_run_phases;

        kl_http_core_run_phases(r);

        return KL_DONE;
    }

    kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                 "could not find named location \"%V\"", name);

    kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);

    return KL_DONE;
}
