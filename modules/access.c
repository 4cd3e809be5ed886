/*
 * access.c: allow and deny, as nginx's access module: ADDR, ADDR/BITS
 * (IPv4, IPv6), unix: and all; the first rule that matches the client
 * decides, 403 for deny.
 *
 * Rules are kept in one list per address family, in config order ("all"
 * goes in each), so a request walks only the rules of its own family: a
 * mask and a compare per IPv4 rule. An IPv4-mapped IPv6 client
 * (::ffff:a.b.c.d) is checked against the IPv4 rules when there are any,
 * as nginx does.
 */

#include "kl_http.h"
#include "cidr.h"


typedef struct {
    uint32_t  mask; /* network byte order */
    uint32_t  addr;
    kl_uint_t deny;
} kl_http_access_rule_t;

typedef struct {
    kl_cidr_t cidr;
    kl_uint_t deny;
} kl_http_access_rule6_t;

typedef struct {
    kl_uint_t deny;
} kl_http_access_rule_un_t;

typedef struct {
    kl_array_t *rules;    /* kl_http_access_rule_t */
    kl_array_t *rules6;   /* kl_http_access_rule6_t */
    kl_array_t *rules_un; /* kl_http_access_rule_un_t */
} kl_http_access_loc_conf_t;


static void    *kl_http_access_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_access_merge_loc_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static kl_int_t kl_http_access_init(kl_conf_t *cf);
static char *kl_http_access_rule(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* clang-format off */
static kl_command_t  kl_http_access_commands[] = {

    { kl_string("allow"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      kl_http_access_rule,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("deny"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      kl_http_access_rule,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_access_module_ctx = {
    .postconfiguration = kl_http_access_init,
    .create_loc_conf = kl_http_access_create_loc_conf,
    .merge_loc_conf = kl_http_access_merge_loc_conf,
};


kl_module_t kl_http_access_module = {
    .name = "kl_http_access_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_access_module_ctx,
    .commands = kl_http_access_commands,
};


static kl_int_t
kl_http_access_found(kl_http_request_t *r, kl_uint_t deny)
{
    kl_http_core_loc_conf_t *clcf;

    if (!deny) {
        return KL_OK;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* With satisfy any, post_access logs it if nothing else allows. */
    if (clcf->satisfy == KL_HTTP_SATISFY_ALL) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "access forbidden by rule");
    }

    return KL_HTTP_FORBIDDEN;
}


static kl_int_t
kl_http_access_inet(kl_http_request_t *r, kl_array_t *rules, uint32_t addr)
{
    kl_uint_t              i, n;
    kl_http_access_rule_t *rule;

    rule = rules->elts;
    n = rules->nelts;

    for (i = 0; i < n; i++) {
        if ((addr & rule[i].mask) == rule[i].addr) {
            return kl_http_access_found(r, rule[i].deny);
        }
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_access_inet6(kl_http_request_t *r, kl_array_t *rules,
                     const u_char *addr)
{
    kl_uint_t               i;
    kl_http_access_rule6_t *rule;

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if (kl_cidr_match6(&rule[i].cidr, addr)) {
            return kl_http_access_found(r, rule[i].deny);
        }
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_access_handler(kl_http_request_t *r)
{
    uint32_t                   addr;
    const u_char              *p;
    struct sockaddr           *sa;
    kl_http_access_rule_un_t  *rule_un;
    kl_http_access_loc_conf_t *alcf;

    alcf = kl_http_get_module_loc_conf(r, kl_http_access_module);

    /* No rule at this level: the address is not even looked at. */
    if (alcf->rules == NULL && alcf->rules6 == NULL && alcf->rules_un == NULL) {
        return KL_DECLINED;
    }

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

    case AF_INET:
        if (alcf->rules) {
            addr = ((struct sockaddr_in *) sa)->sin_addr.s_addr;
            return kl_http_access_inet(r, alcf->rules, addr);
        }
        break;

    case AF_INET6:
        p = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;

        if (alcf->rules
            && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *) sa)->sin6_addr))
        {
            memcpy(&addr, p + 12, sizeof(uint32_t));
            return kl_http_access_inet(r, alcf->rules, addr);
        }

        if (alcf->rules6) {
            return kl_http_access_inet6(r, alcf->rules6, p);
        }
        break;

    case AF_UNIX:
        if (alcf->rules_un) {
            /* Every unix: rule matches: the first one decides. */
            rule_un = alcf->rules_un->elts;
            return kl_http_access_found(r, rule_un[0].deny);
        }
        break;
    }

    return KL_DECLINED;
}


static void *
kl_http_access_create_loc_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_access_loc_conf_t));
}


/* A level without rules of its own inherits all of them, as in nginx. */
static char *
kl_http_access_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_access_loc_conf_t *prev = parent;
    kl_http_access_loc_conf_t *conf = child;

    (void) cf;

    if (conf->rules == NULL && conf->rules6 == NULL && conf->rules_un == NULL) {
        conf->rules = prev->rules;
        conf->rules6 = prev->rules6;
        conf->rules_un = prev->rules_un;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_access_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_ACCESS_PHASE,
                                     kl_http_access_handler);
}


static void *
kl_http_access_push(kl_conf_t *cf, kl_array_t **rules, size_t size)
{
    if (*rules == NULL) {
        *rules = kl_array_create(cf->pool, 4, size);
        if (*rules == NULL) {
            return NULL;
        }
    }

    return kl_array_push(*rules);
}


static char *
kl_http_access_rule(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                   rc;
    kl_str_t                  *value;
    kl_uint_t                  all, deny;
    kl_cidr_t                  cidr;
    kl_http_access_rule_t     *rule;
    kl_http_access_rule6_t    *rule6;
    kl_http_access_rule_un_t  *rule_un;
    kl_http_access_loc_conf_t *alcf = conf;

    value = cf->args->elts;
    deny = cmd->name.data[0] == 'd';
    all = value[1].len == 3 && kl_strcmp(value[1].data, "all") == 0;

    kl_memzero(&cidr, sizeof(kl_cidr_t));

    if (!all) {
        if (value[1].len == 5 && kl_strcmp(value[1].data, "unix:") == 0) {
            cidr.family = AF_UNIX;

        } else {
            rc = kl_cidr_parse(value[1].data, value[1].len, &cidr);

            if (rc == KL_ERROR) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid parameter \"%V\"", &value[1]);
                return KL_CONF_ERROR;
            }

            if (rc == KL_DONE) {
                kl_conf_log_error(KL_LOG_WARN, cf, 0,
                                  "low address bits of %V are meaningless",
                                  &value[1]);
            }
        }
    }

    if (all || cidr.family == AF_INET) {
        rule = kl_http_access_push(cf, &alcf->rules,
                                   sizeof(kl_http_access_rule_t));
        if (rule == NULL) {
            return KL_CONF_ERROR;
        }

        rule->mask = cidr.u.in.mask;
        rule->addr = cidr.u.in.addr;
        rule->deny = deny;
    }

    if (all || cidr.family == AF_INET6) {
        rule6 = kl_http_access_push(cf, &alcf->rules6,
                                    sizeof(kl_http_access_rule6_t));
        if (rule6 == NULL) {
            return KL_CONF_ERROR;
        }

        rule6->cidr = cidr;
        rule6->cidr.family = AF_INET6;
        rule6->deny = deny;
    }

    if (all || cidr.family == AF_UNIX) {
        rule_un = kl_http_access_push(cf, &alcf->rules_un,
                                      sizeof(kl_http_access_rule_un_t));
        if (rule_un == NULL) {
            return KL_CONF_ERROR;
        }

        rule_un->deny = deny;
    }

    return KL_CONF_OK;
}
