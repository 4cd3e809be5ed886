/*
 * variables.h: HTTP variables ($uri, $http_host, ...) and complex values,
 * the strings with variables in them that directives compile once.
 *
 * As in nginx, a module registers the variables it provides by name at
 * preconfiguration (kl_http_add_variable), and a directive that refers to
 * one asks for its index while the configuration is read
 * (kl_http_get_variable_index). Names are resolved when the http block
 * ends: a name that nothing registered, and that no prefix ($http_,
 * $arg_, ...) covers, fails the configuration with
 * 'unknown "name" variable'. A request evaluates a variable on first use
 * into r->variables[index]; the value is kept for the rest of the request
 * unless the variable says it changes ($uri, $args, ...).
 *
 * A complex value ("$host:$server_port", "/srv/$1") is split once into
 * parts: literal bytes, variables and regex captures ($1..$9). The split
 * is a pure function over bytes (kl_http_script_parse), unit-tested and
 * fuzzed on its own.
 *
 * variables.c holds the registry, variables_core.c the core variables,
 * variables_headers.c those read from fields, cookies and arguments,
 * variables_request.c the newer per-request ones ($request_id, $tcpinfo_*,
 * ...), variables_upstream.c the upstream module's, script.c the complex
 * values.
 */

/*
 * Outside the guard: kl_http.h includes this file part-way through, and
 * declarations below that point in kl_http.h use the types here. Alone,
 * this file lets kl_http.h include it at that point.
 */
#include "kl_http.h"

#ifndef KL_HTTP_VARIABLES_H
#define KL_HTTP_VARIABLES_H

typedef struct kl_http_variable_s kl_http_variable_t;

/* A variable's value for one request; len and data are the bytes. */
struct kl_http_variable_value_s {
    unsigned len:28;
    unsigned valid:1;        /* computed for this request */
    unsigned no_cacheable:1; /* compute again at each use */
    unsigned not_found:1;    /* no value: logged as "-" */
    unsigned escape:1;       /* scratch for the access log's escaping */
    u_char  *data;
};

/* A found, cacheable value of len bytes at data (the getters' common end). */
static inline void
kl_http_variable_set(kl_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->data = data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}

/*
 * Fills v (len, data, valid, not_found...) for r. data is the
 * registration's own word (an offset, a pointer). KL_OK, or KL_ERROR
 * when the value could not be computed (treated as not found).
 */
typedef kl_int_t (*kl_http_get_variable_pt)(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);

/* Sets the variable from v ("set $args ..."); for changeable ones. */
typedef void (*kl_http_set_variable_pt)(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        uintptr_t                 data);

#define KL_HTTP_VAR_CHANGEABLE  1  /* "set" may assign it */
#define KL_HTTP_VAR_NOCACHEABLE 2  /* computed again at each use */
#define KL_HTTP_VAR_INDEXED     4  /* some conf asked for its index */
#define KL_HTTP_VAR_NOHASH      8  /* not looked up by name at run time */
#define KL_HTTP_VAR_WEAK        16 /* a later registration replaces it */
#define KL_HTTP_VAR_PREFIX      32 /* names every variable starting so */

struct kl_http_variable_s {
    kl_str_t                name; /* lowercase */
    kl_http_set_variable_pt set_handler;
    kl_http_get_variable_pt get_handler;
    uintptr_t               data;
    kl_uint_t               flags;
    kl_uint_t               index;
};

/*
 * What the handler of a variable named through a prefix ("http_x_id"
 * through "http_") gets as its data: the full name, and where the part
 * after the prefix starts. The prefix's own data is not used.
 */
typedef struct {
    kl_str_t name;
    size_t   prefix;
} kl_http_variable_prefix_t;

#define kl_http_null_variable                                                  \
    {                                                                          \
        kl_null_string, NULL, NULL, 0, 0, 0                                    \
    }

/*
 * Register a variable (at preconfiguration, or while reading the
 * configuration); the caller sets get_handler and data on the result.
 * Registering a name again returns the first registration when both are
 * KL_HTTP_VAR_CHANGEABLE, and fails otherwise ('the duplicate "x"
 * variable'). NULL on failure, which has been logged.
 */
kl_http_variable_t *kl_http_add_variable(kl_conf_t *cf, kl_str_t *name,
                                         kl_uint_t flags);

/*
 * The index of the variable name (without '$'), for a conf to evaluate it
 * per request. Unknown names are reported when the http block ends.
 * KL_ERROR on allocation failure.
 */
kl_int_t kl_http_get_variable_index(kl_conf_t *cf, kl_str_t *name);

/*
 * Whether a module registered a variable of exactly this name (not one
 * a prefix covers): a module reads another's variable by index only when
 * that module is built, without naming it. Valid from postconfiguration.
 */
kl_uint_t kl_http_variable_registered(kl_conf_t *cf, kl_str_t *name);

/* $bytes_sent as a number, without formatting it: for the log phase. */
off_t kl_http_bytes_sent(kl_http_request_t *r);

/*
 * The value of variable index for r, computed on first use and then kept;
 * NULL when it could not be computed (its not_found is set).
 */
kl_http_variable_value_t *kl_http_get_indexed_variable(kl_http_request_t *r,
                                                       kl_uint_t index);

/* The same, but a no_cacheable value is computed again. */
/* Give variable index this value for the rest of the request (captures). */
kl_int_t kl_http_set_indexed_variable(kl_http_request_t *r, kl_uint_t index,
                                      kl_str_t *value);

kl_http_variable_value_t *kl_http_get_flushed_variable(kl_http_request_t *r,
                                                       kl_uint_t index);

/*
 * The value of the argument name (its first occurrence, the name matched
 * without case) in r->args: KL_OK and *value, or KL_DECLINED if absent.
 */
kl_int_t kl_http_arg(kl_http_request_t *r, u_char *name, size_t len,
                     kl_str_t *value);

/*
 * The value of the fields of headers named name (a variable's name after
 * its prefix: lowercase, '_' standing for '-'), as nginx >= 1.23 gives
 * it: every such field, joined with "; " for Cookie and ", " otherwise;
 * not found when none. KL_OK, or KL_ERROR (no memory).
 */
kl_int_t kl_http_variable_unknown_header(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         kl_str_t *name, kl_list_t *headers);

/*
 * variables_upstream.c: the value of the cookie name (nlen bytes,
 * matched without case) that the Set-Cookie field value p sets: its
 * first "name=value" pair (RFC 6265 5.2; what follows the first ';' are
 * attributes), blanks around name and value trimmed. KL_OK and *value
 * (inside p), or KL_DECLINED. Pure.
 */
kl_int_t kl_http_parse_set_cookie(u_char *p, size_t len, u_char *name,
                                  size_t nlen, kl_str_t *value);

/* variables_headers.c, for variables_core.c: register $http_host, ... */
kl_int_t kl_http_variables_headers_add(kl_conf_t *cf);

/*
 * variables_request.c: the port of an authority ("host", "host:port",
 * "[v6]:port", as a request line or a Host field gives it): 1..65535, or
 * 0 when there is none or it is not a port. Pure.
 */
kl_uint_t kl_http_parse_authority_port(u_char *p, size_t len);

/* variables_request.c, for variables_core.c: register $request_id, ... */
kl_int_t kl_http_variables_request_add(kl_conf_t *cf);

/*
 * The registry, in kl_http_variables_module's main conf (variables.c);
 * variables_core.c keeps its header filter's next in it.
 */
typedef struct {
    kl_array_t variables; /* kl_http_variable_t, by index */
    kl_array_t keys;      /* kl_http_variable_t, every registered name */
    kl_array_t prefixes;  /* kl_http_variable_t, "http_", "arg_"... */
    kl_uint_t  resolved;  /* the http block is read: resolve at once */

    kl_http_output_header_filter_pt next_header_filter;
} kl_http_variables_main_conf_t;

/* variables_core.c, for variables.c: register the core variables (at
 * preconfiguration), and hook what they need in (at postconfiguration). */
kl_int_t kl_http_variables_core_add(kl_conf_t *cf);
kl_int_t kl_http_variables_core_init(kl_conf_t *cf);

/* script.c: complex values and their compiler. */

#define KL_HTTP_SCRIPT_TEXT    0 /* literal bytes */
#define KL_HTTP_SCRIPT_VAR     1 /* a variable, by name then by index */
#define KL_HTTP_SCRIPT_CAPTURE 2 /* $1..$9: the nth regex capture */

/* One part of a compiled value. */
typedef struct {
    kl_uint_t type; /* KL_HTTP_SCRIPT_* */
    kl_uint_t n;    /* the variable's index, or the capture's number */
    kl_str_t  text; /* the literal, or the variable's name */
} kl_http_script_part_t;

#define KL_HTTP_SCRIPT_ERR_NAME    1 /* "$" with no name after it */
#define KL_HTTP_SCRIPT_ERR_BRACKET 2 /* "${name" without its "}" */

/* Where and why kl_http_script_parse failed. */
typedef struct {
    kl_uint_t code; /* KL_HTTP_SCRIPT_ERR_* */
    size_t    pos;  /* offset of the offending '$' */
    kl_str_t  name; /* for ERR_BRACKET: the name read so far */
} kl_http_script_error_t;

/*
 * Split src into parts, as nginx reads a value: "$name" (letters, digits,
 * '_'), "${name}" (so a name may be followed by letters), and, when
 * captures is set, "$1".."$9" as captures (otherwise a variable named
 * "1"). Every other byte is literal, '\' included: nginx has no escape
 * for '$'. Adjacent literal bytes make one part. Pure: no allocation; it
 * writes the first max parts into parts (which may be NULL to count) and
 * returns how many parts src has, or KL_ERROR with *err filled in.
 */
kl_int_t kl_http_script_parse(u_char *src, size_t len, kl_uint_t captures,
                              kl_http_script_part_t *parts, kl_uint_t max,
                              kl_http_script_error_t *err);

/* How many '$' value has: 0 means it is a plain string. */
kl_uint_t kl_http_script_variables_count(kl_str_t *value);

/* A value compiled from configuration text. */
typedef struct {
    kl_str_t               value; /* the text; the result if no parts */
    kl_http_script_part_t *parts; /* NULL for a plain string */
    kl_uint_t              nparts;
    size_t                 literal; /* bytes of literal parts */
    kl_str_t               prefix;  /* put before a result not starting '/' */
    unsigned               zero:1;  /* a NUL follows the result */
} kl_http_complex_value_t;

/* What kl_http_compile_complex_value reads and fills. */
typedef struct {
    kl_conf_t               *cf;
    kl_str_t                *value;
    kl_http_complex_value_t *complex_value;

    unsigned zero:1;        /* the result ends with a NUL (not counted) */
    unsigned conf_prefix:1; /* a relative result is under the conf dir */
    unsigned root_prefix:1; /* a relative result is under the prefix */
} kl_http_compile_complex_value_t;

/*
 * Compile ccv->value into ccv->complex_value, asking for the index of
 * each variable. Errors are logged in nginx's words ("invalid variable
 * name", 'the closing bracket in "x" variable is missing'): KL_ERROR.
 */
kl_int_t kl_http_compile_complex_value(kl_http_compile_complex_value_t *ccv);

/*
 * Evaluate cv for r into value (pool memory, or cv's own text when it
 * has no variables). A variable with no value adds nothing; a capture
 * that did not match adds nothing. KL_OK or KL_ERROR.
 */
kl_int_t kl_http_complex_value(kl_http_request_t       *r,
                               kl_http_complex_value_t *cv, kl_str_t *value);

/*
 * The same, without a copy when cv is one variable alone (a zone's key,
 * the usual $binary_remote_addr): value then points into the variable's
 * storage, for reading only.
 */
kl_int_t kl_http_complex_value_ref(kl_http_request_t       *r,
                                   kl_http_complex_value_t *cv,
                                   kl_str_t                *value);

/*
 * Setter for a kl_http_complex_value_t * field (initially NULL or
 * KL_CONF_UNSET_PTR): compiles the directive's one argument.
 */
/* Allocate and compile text as a complex value; NULL on error (logged). */
kl_http_complex_value_t *kl_http_compile_value(kl_conf_t *cf, kl_str_t *text);

char *kl_http_set_complex_value_slot(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);

#endif /* KL_HTTP_VARIABLES_H */
