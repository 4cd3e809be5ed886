/*
 * autoindex.c: directory listings for URIs ending in '/' that have no
 * index file, in nginx's html, xml, json and jsonp forms, byte for byte.
 */

#include <dirent.h>

#include "kl_http.h"


#define KL_HTTP_AUTOINDEX_HTML  0
#define KL_HTTP_AUTOINDEX_JSON  1
#define KL_HTTP_AUTOINDEX_JSONP 2
#define KL_HTTP_AUTOINDEX_XML   3

/* nginx's width of the name column in html listings. */
#define KL_HTTP_AUTOINDEX_NAME_LEN 50


typedef struct {
    kl_int_t  enable;
    kl_uint_t format;
    kl_int_t  localtime;
    kl_int_t  exact_size;
} kl_http_autoindex_loc_conf_t;


typedef struct {
    kl_str_t name;
    size_t   utf_len;
    time_t   mtime;
    off_t    size;
    unsigned dir:1;
    unsigned file:1;
} kl_http_autoindex_entry_t;


static kl_int_t kl_http_autoindex_handler(kl_http_request_t *r);
static kl_int_t kl_http_autoindex_init(kl_conf_t *cf);
static void    *kl_http_autoindex_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_autoindex_merge_loc_conf(kl_conf_t *cf, void *parent,
                                                 void *child);


static kl_conf_enum_t kl_http_autoindex_format[] = {
    { kl_string("html"), KL_HTTP_AUTOINDEX_HTML },
    { kl_string("json"), KL_HTTP_AUTOINDEX_JSON },
    { kl_string("jsonp"), KL_HTTP_AUTOINDEX_JSONP },
    { kl_string("xml"), KL_HTTP_AUTOINDEX_XML },
    { kl_null_string, 0 }
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_autoindex_commands[] = {

    { kl_string("autoindex"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_autoindex_loc_conf_t, enable),
      NULL },

    { kl_string("autoindex_format"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_autoindex_loc_conf_t, format),
      &kl_http_autoindex_format },

    { kl_string("autoindex_localtime"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_autoindex_loc_conf_t, localtime),
      NULL },

    { kl_string("autoindex_exact_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_autoindex_loc_conf_t, exact_size),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_autoindex_module_ctx = {
    .postconfiguration = kl_http_autoindex_init,
    .create_loc_conf = kl_http_autoindex_create_loc_conf,
    .merge_loc_conf = kl_http_autoindex_merge_loc_conf,
};


kl_module_t kl_http_autoindex_module = {
    .name = "kl_http_autoindex_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_autoindex_module_ctx,
    .commands = kl_http_autoindex_commands,
};


static const char *kl_http_autoindex_months[] = { "Jan", "Feb", "Mar", "Apr",
                                                  "May", "Jun", "Jul", "Aug",
                                                  "Sep", "Oct", "Nov", "Dec" };


/* nginx's NGX_ESCAPE_URI_COMPONENT: all but unreserved bytes. */
static uint32_t kl_http_autoindex_uri_component[] = {
    0xffffffff, /* controls */
    0xfc009fff, /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"! */
    0x78000001, /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0xb8000001, /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0xffffffff, /* 0x80 and above */
    0xffffffff, 0xffffffff, 0xffffffff,
};


static u_char *
kl_http_autoindex_escape_uri(u_char *dst, u_char *src, size_t size)
{
    static u_char hex[] = "0123456789ABCDEF";
    uint32_t     *map = kl_http_autoindex_uri_component;

    while (size--) {
        if (map[*src >> 5] & (1U << (*src & 0x1f))) {
            *dst++ = '%';
            *dst++ = hex[*src >> 4];
            *dst++ = hex[*src & 0xf];
            src++;

        } else {
            *dst++ = *src++;
        }
    }

    return dst;
}


/* Characters in a UTF-8 name; invalid sequences count their bytes. */
static size_t
kl_http_autoindex_utf8_length(u_char *p, size_t n)
{
    size_t  len, i, need;
    u_char *end = p + n;

    for (len = 0; p < end; len++) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        need = (*p >= 0xf0) ? 3 : (*p >= 0xe0) ? 2 : (*p >= 0xc0) ? 1 : 0;

        if (need == 0 || (size_t) (end - p) <= need) {
            return n;
        }

        for (i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return n;
            }
        }

        p += need + 1;
    }

    return len;
}


/* Copy at most n - 1 UTF-8 characters of src (size bytes). */
static u_char *
kl_http_autoindex_utf8_cpy(u_char *dst, u_char *src, size_t n, size_t size)
{
    u_char *end = src + size;

    while (n > 1 && src < end) {
        *dst++ = *src++;

        while (src < end && (*src & 0xc0) == 0x80) {
            *dst++ = *src++;
        }

        n--;
    }

    return dst;
}


static int
kl_http_autoindex_cmp(const void *one, const void *two)
{
    const kl_http_autoindex_entry_t *a = one, *b = two;

    /* Directories first, then by byte order, as nginx. */
    if (a->dir && !b->dir) {
        return -1;
    }

    if (!a->dir && b->dir) {
        return 1;
    }

    return strcmp((char *) a->name.data, (char *) b->name.data);
}


static u_char *
kl_http_autoindex_size(u_char *p, u_char *last, off_t length)
{
    kl_int_t size;
    u_char   scale;

    if (length > 1024 * 1024 * 1024 - 1) {
        size = (kl_int_t) (length / (1024 * 1024 * 1024));
        if ((length % (1024 * 1024 * 1024)) > (1024 * 1024 * 1024 / 2 - 1)) {
            size++;
        }
        scale = 'G';

    } else if (length > 1024 * 1024 - 1) {
        size = (kl_int_t) (length / (1024 * 1024));
        if ((length % (1024 * 1024)) > (1024 * 1024 / 2 - 1)) {
            size++;
        }
        scale = 'M';

    } else if (length > 9999) {
        size = (kl_int_t) (length / 1024);
        if (length % 1024 > 511) {
            size++;
        }
        scale = 'K';

    } else {
        size = (kl_int_t) length;
        scale = '\0';
    }

    if (scale) {
        return kl_slprintf(p, last, "%6i%c", size, scale);
    }

    return kl_slprintf(p, last, " %6i", size);
}


static kl_buf_t *
kl_http_autoindex_html(kl_http_request_t *r, kl_array_t *entries, size_t size)
{
    u_char                       *last, *end;
    size_t                        len, copy;
    time_t                        gmtoff;
    kl_buf_t                     *b;
    kl_uint_t                     i;
    struct tm                     tm;
    kl_http_autoindex_entry_t    *entry;
    kl_http_autoindex_loc_conf_t *alcf;

    alcf = kl_http_get_module_loc_conf(r, kl_http_autoindex_module);

    size += 6 * r->uri.len * 2 + 256;

    b = kl_buf_create_temp(r->pool, size);
    if (b == NULL) {
        return NULL;
    }

    end = b->end;

    b->last = kl_slprintf(b->last, end, "<html>\r\n<head><title>Index of ");
    b->last += kl_escape_html(b->last, r->uri.data, r->uri.len);
    b->last =
        kl_slprintf(b->last, end, "</title></head>\r\n<body>\r\n<h1>Index of ");
    b->last += kl_escape_html(b->last, r->uri.data, r->uri.len);
    b->last =
        kl_slprintf(b->last, end, "</h1><hr><pre><a href=\"../\">../</a>\r\n");

    gmtoff = 0;

    if (alcf->localtime) {
        kl_localtime(time(NULL), &tm);
        gmtoff = tm.tm_gmtoff;
    }

    entry = entries->elts;

    for (i = 0; i < entries->nelts; i++) {
        b->last = kl_slprintf(b->last, end, "<a href=\"");
        b->last = kl_http_autoindex_escape_uri(b->last, entry[i].name.data,
                                               entry[i].name.len);

        if (entry[i].dir) {
            *b->last++ = '/';
        }

        *b->last++ = '"';
        *b->last++ = '>';

        len = entry[i].utf_len;

        /* The column holds 50 characters; longer names end in "..>". */
        if (entry[i].name.len != len) {
            copy = (len > KL_HTTP_AUTOINDEX_NAME_LEN)
                       ? KL_HTTP_AUTOINDEX_NAME_LEN - 3 + 1
                       : KL_HTTP_AUTOINDEX_NAME_LEN + 1;

            last = b->last;
            b->last = kl_http_autoindex_utf8_cpy(b->last, entry[i].name.data,
                                                 copy, entry[i].name.len);

            /* Escaped in place from the name: the copy is a prefix of it. */
            copy = b->last - last;
            b->last = last + kl_escape_html(last, entry[i].name.data, copy);

            last = b->last;

        } else {
            copy = (len > KL_HTTP_AUTOINDEX_NAME_LEN)
                       ? KL_HTTP_AUTOINDEX_NAME_LEN - 3
                       : len;

            b->last += kl_escape_html(b->last, entry[i].name.data, copy);
            last = b->last;
        }

        if (len > KL_HTTP_AUTOINDEX_NAME_LEN) {
            b->last = kl_cpymem(last, "..&gt;</a>", sizeof("..&gt;</a>") - 1);

        } else {
            if (entry[i].dir && KL_HTTP_AUTOINDEX_NAME_LEN - len > 0) {
                *b->last++ = '/';
                len++;
            }

            b->last = kl_cpymem(b->last, "</a>", sizeof("</a>") - 1);

            if (KL_HTTP_AUTOINDEX_NAME_LEN > len) {
                memset(b->last, ' ', KL_HTTP_AUTOINDEX_NAME_LEN - len);
                b->last += KL_HTTP_AUTOINDEX_NAME_LEN - len;
            }
        }

        *b->last++ = ' ';

        kl_gmtime(entry[i].mtime + gmtoff, &tm);

        b->last = kl_slprintf(b->last, end, "%02d-%s-%d %02d:%02d ", tm.tm_mday,
                              kl_http_autoindex_months[tm.tm_mon],
                              tm.tm_year + 1900, tm.tm_hour, tm.tm_min);

        if (alcf->exact_size) {
            if (entry[i].dir) {
                b->last = kl_slprintf(b->last, end, "                  -");
            } else {
                b->last = kl_slprintf(b->last, end, "%19O", entry[i].size);
            }

        } else if (entry[i].dir) {
            b->last = kl_slprintf(b->last, end, "      -");

        } else {
            b->last = kl_http_autoindex_size(b->last, end, entry[i].size);
        }

        *b->last++ = '\r';
        *b->last++ = '\n';
    }

    b->last = kl_slprintf(b->last, end, "</pre><hr></body>\r\n</html>\r\n");

    return b;
}


static kl_buf_t *
kl_http_autoindex_json(kl_http_request_t *r, kl_array_t *entries, size_t size,
                       kl_str_t *callback)
{
    u_char                    *end;
    kl_buf_t                  *b;
    kl_uint_t                  i;
    kl_http_autoindex_entry_t *entry;

    b = kl_buf_create_temp(r->pool, size + callback->len + 64);
    if (b == NULL) {
        return NULL;
    }

    end = b->end;

    if (callback->len) {
        b->last = kl_slprintf(b->last, end, "/* callback */\r\n%V(", callback);
    }

    *b->last++ = '[';

    entry = entries->elts;

    for (i = 0; i < entries->nelts; i++) {
        if (i > 0) {
            *b->last++ = ',';
        }

        b->last = kl_slprintf(b->last, end, "\r\n{ \"name\":\"");
        b->last =
            kl_escape_json(b->last, entry[i].name.data, entry[i].name.len);
        b->last = kl_slprintf(b->last, end, "\", \"type\":\"%s\", \"mtime\":\"",
                              entry[i].dir    ? "directory"
                              : entry[i].file ? "file"
                                              : "other");
        b->last = kl_http_time(b->last, entry[i].mtime);

        if (entry[i].file) {
            b->last =
                kl_slprintf(b->last, end, "\", \"size\":%O", entry[i].size);
        } else {
            *b->last++ = '"';
        }

        b->last = kl_slprintf(b->last, end, " }");
    }

    if (i > 0) {
        *b->last++ = '\r';
        *b->last++ = '\n';
    }

    *b->last++ = ']';

    if (callback->len) {
        *b->last++ = ')';
        *b->last++ = ';';
    }

    return b;
}


static kl_buf_t *
kl_http_autoindex_xml(kl_http_request_t *r, kl_array_t *entries, size_t size)
{
    u_char                    *end;
    const char                *type;
    kl_buf_t                  *b;
    kl_uint_t                  i;
    struct tm                  tm;
    kl_http_autoindex_entry_t *entry;

    b = kl_buf_create_temp(r->pool, size + 64);
    if (b == NULL) {
        return NULL;
    }

    end = b->end;

    b->last =
        kl_slprintf(b->last, end, "<?xml version=\"1.0\"?>\r\n<list>\r\n");

    entry = entries->elts;

    for (i = 0; i < entries->nelts; i++) {
        type = entry[i].dir ? "directory" : entry[i].file ? "file" : "other";

        kl_gmtime(entry[i].mtime, &tm);

        b->last = kl_slprintf(b->last, end,
                              "<%s mtime=\"%4d-%02d-%02dT%02d:%02d:%02dZ\"",
                              type, tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);

        if (entry[i].file) {
            b->last = kl_slprintf(b->last, end, " size=\"%O\"", entry[i].size);
        }

        *b->last++ = '>';
        b->last +=
            kl_escape_html(b->last, entry[i].name.data, entry[i].name.len);
        b->last = kl_slprintf(b->last, end, "</%s>\r\n", type);
    }

    b->last = kl_slprintf(b->last, end, "</list>\r\n");

    return b;
}


/* $arg_callback for jsonp: KL_OK, or KL_DECLINED when it is invalid. */
static kl_int_t
kl_http_autoindex_callback(kl_http_request_t *r, kl_str_t *callback)
{
    size_t i;
    u_char c;

    if (kl_http_arg(r, (u_char *) "callback", 8, callback) != KL_OK) {
        callback->len = 0;
        return KL_OK;
    }

    if (callback->len > 128) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent too long callback name: \"%V\"", callback);
        return KL_DECLINED;
    }

    for (i = 0; i < callback->len; i++) {
        c = callback->data[i];

        if (c != '_' && c != '.' && !(c >= '0' && c <= '9')
            && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z'))
        {
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent invalid callback name: \"%V\"", callback);
            return KL_DECLINED;
        }
    }

    return KL_OK;
}


static kl_int_t
kl_http_autoindex_read(kl_http_request_t *r, DIR *dir, kl_str_t *path,
                       kl_array_t *entries, size_t *size)
{
    u_char                    *name;
    size_t                     len;
    struct stat                st;
    struct dirent             *de;
    kl_http_autoindex_entry_t *entry;

    for (;;) {
        errno = 0;
        de = readdir(dir);

        if (de == NULL) {
            if (errno) {
                kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                             "readdir() \"%V\" failed", path);
                return KL_ERROR;
            }

            return KL_OK;
        }

        /* Hidden files, "." and ".." are not listed, as nginx. */
        if (de->d_name[0] == '.') {
            continue;
        }

        len = strlen(de->d_name);

        name = kl_pnalloc(r->pool, path->len + 1 + len + 1);
        if (name == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(name, path->data, path->len);
        name[path->len] = '/';
        kl_memcpy(name + path->len + 1, de->d_name, len + 1);

        if (stat((char *) name, &st) == -1) {
            if (errno != ENOENT && errno != ELOOP) {
                kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                             "stat() \"%s\" failed", name);

                if (errno == EACCES) {
                    continue;
                }

                return KL_ERROR;
            }

            /* A dangling link: listed with the link's own data. */
            if (lstat((char *) name, &st) == -1) {
                kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                             "lstat() \"%s\" failed", name);
                return KL_ERROR;
            }
        }

        entry = kl_array_push(entries);
        if (entry == NULL) {
            return KL_ERROR;
        }

        entry->name.data = name + path->len + 1;
        entry->name.len = len;
        entry->utf_len = len;

        /* What stat() says: a link to a directory is listed as one. */
        entry->dir = S_ISDIR(st.st_mode) != 0;
        entry->file = S_ISREG(st.st_mode) != 0;

        entry->mtime = st.st_mtime;
        entry->size = st.st_size;

        /* Escaped forms are at most 6 times longer; 160 for the rest. */
        *size += 9 * len + 160;
    }
}


/* The directory the URI maps to, opened: KL_OK, or the status its error
 * gets (as nginx's: 404 for a missing one, 403 for one not readable). */
static kl_int_t
kl_http_autoindex_open(kl_http_request_t *r, kl_str_t *path, DIR **dirp)
{
    DIR      *dir;
    u_char   *last;
    size_t    root;
    kl_int_t  rc;
    kl_uint_t level;

    last = kl_http_map_uri_to_path(r, path, &root, 0);
    if (last == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (path->len > 1) {
        path->len--;
    }

    path->data[path->len] = '\0';

    dir = opendir((char *) path->data);

    if (dir == NULL) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
            level = KL_LOG_ERR;
            rc = KL_HTTP_NOT_FOUND;

        } else if (errno == EACCES) {
            level = KL_LOG_ERR;
            rc = KL_HTTP_FORBIDDEN;

        } else {
            level = KL_LOG_CRIT;
            rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        kl_log_error(level, r->connection->log, errno,
                     "opendir() \"%V\" failed", path);

        return rc;
    }

    *dirp = dir;

    return KL_OK;
}


static void
kl_http_autoindex_content_type(kl_http_request_t *r, kl_uint_t format)
{
    switch (format) {

    case KL_HTTP_AUTOINDEX_JSON:
        kl_str_set(&r->headers_out.content_type, "application/json");
        break;

    case KL_HTTP_AUTOINDEX_JSONP:
        kl_str_set(&r->headers_out.content_type, "application/javascript");
        break;

    case KL_HTTP_AUTOINDEX_XML:
        kl_str_set(&r->headers_out.content_type, "text/xml");
        kl_str_set(&r->headers_out.charset, "utf-8");
        break;

    default:
        kl_str_set(&r->headers_out.content_type, "text/html");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
}


/* The listing, sorted, in the format asked for, after the header went. */
static kl_int_t
kl_http_autoindex_send(kl_http_request_t *r, kl_array_t *entries, size_t size,
                       kl_uint_t format, kl_str_t *callback)
{
    kl_uint_t                  i;
    kl_buf_t                  *b;
    kl_chain_t                 out;
    kl_http_autoindex_entry_t *entry;

    entry = entries->elts;

    /* The charset filter may have named utf-8: then names are counted so. */
    if (r->headers_out.charset.len == 5
        && kl_strncasecmp(r->headers_out.charset.data, (u_char *) "utf-8", 5)
               == 0)
    {
        for (i = 0; i < entries->nelts; i++) {
            entry[i].utf_len = kl_http_autoindex_utf8_length(entry[i].name.data,
                                                             entry[i].name.len);
        }
    }

    if (entries->nelts > 1) {
        qsort(entry, entries->nelts, sizeof(kl_http_autoindex_entry_t),
              kl_http_autoindex_cmp);
    }

    switch (format) {

    case KL_HTTP_AUTOINDEX_JSON:
    case KL_HTTP_AUTOINDEX_JSONP:
        b = kl_http_autoindex_json(r, entries, size, callback);
        break;

    case KL_HTTP_AUTOINDEX_XML:
        b = kl_http_autoindex_xml(r, entries, size);
        break;

    default:
        b = kl_http_autoindex_html(r, entries, size);
    }

    if (b == NULL) {
        return KL_ERROR;
    }

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static kl_int_t
kl_http_autoindex_handler(kl_http_request_t *r)
{
    DIR                          *dir;
    size_t                        size;
    kl_int_t                      rc;
    kl_str_t                      path, callback;
    kl_uint_t                     format;
    kl_array_t                    entries;
    kl_http_autoindex_loc_conf_t *alcf;

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return KL_DECLINED;
    }

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD))) {
        return KL_DECLINED;
    }

    alcf = kl_http_get_module_loc_conf(r, kl_http_autoindex_module);

    if (!alcf->enable) {
        return KL_DECLINED;
    }

    rc = kl_http_discard_request_body(r);
    if (rc != KL_OK) {
        return rc;
    }

    rc = kl_http_autoindex_open(r, &path, &dir);
    if (rc != KL_OK) {
        return rc;
    }

    format = alcf->format;
    callback.len = 0;

    if (format == KL_HTTP_AUTOINDEX_JSONP) {
        if (kl_http_autoindex_callback(r, &callback) != KL_OK) {
            closedir(dir);
            return KL_HTTP_BAD_REQUEST;
        }

        if (callback.len == 0) {
            format = KL_HTTP_AUTOINDEX_JSON;
        }
    }

    if (kl_array_init(&entries, r->pool, 40, sizeof(kl_http_autoindex_entry_t))
        != KL_OK)
    {
        closedir(dir);
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = 0;
    rc = kl_http_autoindex_read(r, dir, &path, &entries, &size);

    closedir(dir);

    if (rc != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = KL_HTTP_OK;
    kl_http_autoindex_content_type(r, format);

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    return kl_http_autoindex_send(r, &entries, size, format, &callback);
}


static kl_int_t
kl_http_autoindex_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_autoindex_handler);
}


static void *
kl_http_autoindex_create_loc_conf(kl_conf_t *cf)
{
    kl_http_autoindex_loc_conf_t *conf;

    conf = kl_palloc(cf->pool, sizeof(kl_http_autoindex_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = KL_CONF_UNSET;
    conf->format = KL_CONF_UNSET_UINT;
    conf->localtime = KL_CONF_UNSET;
    conf->exact_size = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_autoindex_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_autoindex_loc_conf_t *prev = parent;
    kl_http_autoindex_loc_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_value(conf->enable, prev->enable, 0);
    kl_conf_merge_uint_value(conf->format, prev->format,
                             KL_HTTP_AUTOINDEX_HTML);
    kl_conf_merge_value(conf->localtime, prev->localtime, 0);
    kl_conf_merge_value(conf->exact_size, prev->exact_size, 1);

    return KL_CONF_OK;
}
