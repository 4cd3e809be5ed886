/* test_http_parse.c: unit tests of the HTTP/1.x parsers in parse.h. */

/*
 * Table-driven. Every request-line, header and chunked case, valid or
 * not, is also fed split at every byte boundary and one byte at a time
 * (STYLE rule 13): the pieces are views of the same memory, so the
 * transcript of results and recorded offsets must not change.
 */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "parse.h"


#define OFF(p) ((p) != NULL ? (long) ((p) -base) : -1L)

#define M_COMPLEX  0x01
#define M_QUOTED   0x02
#define M_PLUS     0x04
#define M_ASTERISK 0x08

#define MODE_LINE    1
#define MODE_HEADERS 2
#define MODE_HEAD    3

#define TRANSCRIPT_MAX 16384


typedef struct {
    const char *in;
    kl_int_t    rc;
    kl_uint_t   method;
    kl_uint_t   version;
    const char *uri;
    const char *path;
    const char *args;
    const char *exten;
    const char *schema;
    const char *host;
    const char *port;
    unsigned    flags;
} line_case_t;


typedef struct {
    const char *in;
    size_t      len; /* 0: strlen(in) */
    kl_int_t    rc;
    const char *name;
    const char *value;
} header_case_t;


typedef struct {
    const char *in;
    size_t      len;      /* 0: strlen(in) */
    kl_int_t    rc;       /* the final result */
    const char *body;     /* the data decoded before it, or NULL */
    size_t      body_len; /* 0: strlen(body) */
} chunked_case_t;


typedef struct {
    const char *in;
    kl_uint_t   merge;
    const char *out; /* NULL: KL_ERROR */
} uri_case_t;


typedef struct {
    char  *buf;
    size_t len;
} transcript_t;


/*
 * Input, result, method, version, then the recorded spans uri, path, args
 * (to uri_end), exten (to path_end), schema, host and port (NULL: none),
 * then the flags.
 */
static const line_case_t line_cases[] = {
    /* origin-form */
    { "GET / HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/", "/", NULL, NULL,
      NULL, NULL, NULL, 0 },
    { "GET /index.html HTTP/1.0\r\n", KL_OK, KL_HTTP_GET, 1000, "/index.html",
      "/index.html", NULL, "html", NULL, NULL, NULL, 0 },
    { "HEAD /a/b.tar.gz?x=1&y=2 HTTP/1.1\r\n", KL_OK, KL_HTTP_HEAD, 1001,
      "/a/b.tar.gz?x=1&y=2", "/a/b.tar.gz", "x=1&y=2", "gz", NULL, NULL, NULL,
      0 },
    { "GET /a.b/c HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a.b/c", "/a.b/c",
      NULL, NULL, NULL, NULL, NULL, 0 },
    { "GET /a/b. HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a/b.", "/a/b.",
      NULL, "", NULL, NULL, NULL, 0 },
    { "GET /.htaccess HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/.htaccess",
      "/.htaccess", NULL, NULL, NULL, NULL, NULL, M_COMPLEX },
    { "GET /a/./b HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a/./b", "/a/./b",
      NULL, NULL, NULL, NULL, NULL, M_COMPLEX },
    { "GET /a/../b.txt HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a/../b.txt",
      "/a/../b.txt", NULL, "txt", NULL, NULL, NULL, M_COMPLEX },
    { "GET /a//b HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a//b", "/a//b",
      NULL, NULL, NULL, NULL, NULL, M_COMPLEX },
    { "GET /a/. HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a/.", "/a/.", NULL,
      NULL, NULL, NULL, NULL, M_COMPLEX },
    { "GET /a%20b HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a%20b", "/a%20b",
      NULL, NULL, NULL, NULL, NULL, M_QUOTED },
    { "GET /a+b HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a+b", "/a+b", NULL,
      NULL, NULL, NULL, NULL, M_PLUS },
    { "GET /a?b+c%20/./d HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "/a?b+c%20/./d", "/a", "b+c%20/./d", NULL, NULL, NULL, NULL, 0 },
    { "GET /?a?b/c HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/?a?b/c", "/",
      "a?b/c", NULL, NULL, NULL, NULL, 0 },
    { "GET /a? HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/a?", "/a", "", NULL,
      NULL, NULL, NULL, 0 },
    { "GET /a|b{c}\"^`\\<> HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "/a|b{c}\"^`\\<>", "/a|b{c}\"^`\\<>", NULL, NULL, NULL, NULL, NULL, 0 },
    { "GET /a:b@c;d=e!$&'()*,~ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "/a:b@c;d=e!$&'()*,~", "/a:b@c;d=e!$&'()*,~", NULL, NULL, NULL, NULL,
      NULL, 0 },
    /* line ends and leading empty lines */
    { "GET / HTTP/1.1\n", KL_OK, KL_HTTP_GET, 1001, "/", "/", NULL, NULL, NULL,
      NULL, NULL, 0 },
    { "\r\n\r\nGET / HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "/", "/", NULL,
      NULL, NULL, NULL, NULL, 0 },
    { "\n\r\n\nPOST /x HTTP/1.1\n", KL_OK, KL_HTTP_POST, 1001, "/x", "/x", NULL,
      NULL, NULL, NULL, NULL, 0 },
    /* methods */
    { "get / HTTP/1.1\r\n", KL_OK, KL_HTTP_UNKNOWN, 1001, "/", "/", NULL, NULL,
      NULL, NULL, NULL, 0 },
    { "FOO-BAR / HTTP/1.1\r\n", KL_OK, KL_HTTP_UNKNOWN, 1001, "/", "/", NULL,
      NULL, NULL, NULL, NULL, 0 },
    { "M!#$%&'*+-.^_`|~9 / HTTP/1.1\r\n", KL_OK, KL_HTTP_UNKNOWN, 1001, "/",
      "/", NULL, NULL, NULL, NULL, NULL, 0 },
    { "PROPPATCH /d HTTP/1.1\r\n", KL_OK, KL_HTTP_PROPPATCH, 1001, "/d", "/d",
      NULL, NULL, NULL, NULL, NULL, 0 },
    { "OPTIONS / HTTP/1.1\r\n", KL_OK, KL_HTTP_OPTIONS, 1001, "/", "/", NULL,
      NULL, NULL, NULL, NULL, 0 },
    /* asterisk-form */
    { "OPTIONS * HTTP/1.1\r\n", KL_OK, KL_HTTP_OPTIONS, 1001, "*", NULL, NULL,
      NULL, NULL, NULL, NULL, M_ASTERISK },
    /* absolute-form */
    { "GET http://example.com/a?b HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://example.com/a?b", "/a", "b", NULL, "http", "example.com", NULL,
      0 },
    { "GET HTTPS://Example.COM:8443/x.js HTTP/1.1\r\n", KL_OK, KL_HTTP_GET,
      1001, "HTTPS://Example.COM:8443/x.js", "/x.js", NULL, "js", "HTTPS",
      "Example.COM", "8443", 0 },
    { "GET http://example.com HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://example.com", "/", NULL, NULL, "http", "example.com", NULL, 0 },
    { "GET http://example.com?q=1 HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://example.com?q=1", "/", "q=1", NULL, "http", "example.com", NULL,
      0 },
    { "GET http://h:80 HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "http://h:80",
      "/", NULL, NULL, "http", "h", "80", 0 },
    { "GET http://[::1]:8080/ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://[::1]:8080/", "/", NULL, NULL, "http", "[::1]", "8080", 0 },
    { "GET http://[2001:db8::a.b.c.d]/ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://[2001:db8::a.b.c.d]/", "/", NULL, NULL, "http",
      "[2001:db8::a.b.c.d]", NULL, 0 },
    { "GET http://h:/ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001, "http://h:/",
      "/", NULL, NULL, "http", "h", "", 0 },
    { "GET http://a-b_c.d~e%41!$&'()*+,;=/x//y HTTP/1.1\r\n", KL_OK,
      KL_HTTP_GET, 1001, "http://a-b_c.d~e%41!$&'()*+,;=/x//y", "/x//y", NULL,
      NULL, "http", "a-b_c.d~e%41!$&'()*+,;=", NULL, M_COMPLEX },
    { "GET http://h:65535/ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://h:65535/", "/", NULL, NULL, "http", "h", "65535", 0 },
    /* authority-form */
    { "CONNECT example.com:443 HTTP/1.1\r\n", KL_OK, KL_HTTP_CONNECT, 1001,
      "example.com:443", NULL, NULL, NULL, NULL, "example.com", "443", 0 },
    { "GET http://[v1.x]:80/ HTTP/1.1\r\n", KL_OK, KL_HTTP_GET, 1001,
      "http://[v1.x]:80/", "/", NULL, NULL, "http", "[v1.x]", "80", 0 },
    { "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n", KL_OK, KL_HTTP_CONNECT, 1001,
      "[2001:db8::1]:443", NULL, NULL, NULL, NULL, "[2001:db8::1]", "443", 0 },
    /* versions */
    { "GET / HTTP/1.9\r\n", KL_OK, KL_HTTP_GET, 1009, "/", "/", NULL, NULL,
      NULL, NULL, NULL, 0 },
    { "GET / HTTP/1.0\n", KL_OK, KL_HTTP_GET, 1000, "/", "/", NULL, NULL, NULL,
      NULL, NULL, 0 },
    { "GET / HTTP/2.0\r\n", KL_HTTP_PARSE_INVALID_VERSION, KL_HTTP_GET, 2000,
      "/", "/", NULL, NULL, NULL, NULL, NULL, 0 },
    { "GET / HTTP/0.9\r\n", KL_HTTP_PARSE_INVALID_VERSION, KL_HTTP_GET, 9, "/",
      "/", NULL, NULL, NULL, NULL, NULL, 0 },
    { "GET / HTTP/3.0\n", KL_HTTP_PARSE_INVALID_VERSION, KL_HTTP_GET, 3000, "/",
      "/", NULL, NULL, NULL, NULL, NULL, 0 },
    { "GET / HTTP/9.9\r\n", KL_HTTP_PARSE_INVALID_VERSION, KL_HTTP_GET, 9009,
      "/", "/", NULL, NULL, NULL, NULL, NULL, 0 },
};


/* Malformed request lines: all INVALID_REQUEST. */
static const char *line_invalid[] = {
    "GET  / HTTP/1.1\r\n",
    "GET /  HTTP/1.1\r\n",
    "GET / HTTP/1.1 \r\n",
    "GET /a b HTTP/1.1\r\n",
    " GET / HTTP/1.1\r\n",
    "\tGET / HTTP/1.1\r\n",
    "GET\t/ HTTP/1.1\r\n",
    "GET /\tHTTP/1.1\r\n",
    "GET /\r\n",
    "GET /\n",
    "GET\r\n",
    "GET / \r\n",
    "GET / HTTP/1.10\r\n",
    "GET / HTTP/11.1\r\n",
    "GET / HTTP/10.0\r\n",
    "GET / HTTP/1.\r\n",
    "GET / HTTP/.1\r\n",
    "GET / HTTP/1\r\n",
    "GET / HTTP/\r\n",
    "GET / HTTP/1.1x\r\n",
    "GET / HTTP/1,1\r\n",
    "GET / HTTP/a.1\r\n",
    "GET / http/1.1\r\n",
    "GET / HTTPS/1.1\r\n",
    "GET / HTTP 1.1\r\n",
    "GET / HTTP/1.1\rX",
    "GET / HTTP/1.1\r\r\n",
    "\rGET / HTTP/1.1\r\n",
    "\r\rGET / HTTP/1.1\r\n",
    "GET /a\rb HTTP/1.1\r\n",
    "GET /a\nb HTTP/1.1\r\n",
    "GET /a\x01 HTTP/1.1\r\n",
    "GET /a\x7f HTTP/1.1\r\n",
    "GET /a\x80 HTTP/1.1\r\n",
    "GET /\xc3\xa9 HTTP/1.1\r\n",
    "GET /?\xff HTTP/1.1\r\n",
    "GET /?a\x1f HTTP/1.1\r\n",
    "GET /a#frag HTTP/1.1\r\n",
    "GET /?a#b HTTP/1.1\r\n",
    "GET # HTTP/1.1\r\n",
    "GET * HTTP/1.1\r\n",
    "OPTIONS *x HTTP/1.1\r\n",
    "OPTIONS */ HTTP/1.1\r\n",
    "GET example.com:80 HTTP/1.1\r\n",
    "GET ? HTTP/1.1\r\n",
    "GET a HTTP/1.1\r\n",
    "CONNECT / HTTP/1.1\r\n",
    "CONNECT * HTTP/1.1\r\n",
    "CONNECT example.com HTTP/1.1\r\n",
    "CONNECT example.com: HTTP/1.1\r\n",
    "CONNECT example.com:99999 HTTP/1.1\r\n",
    "CONNECT example.com:443/ HTTP/1.1\r\n",
    "CONNECT http://h:1/ HTTP/1.1\r\n",
    "CONNECT :443 HTTP/1.1\r\n",
    "CONNECT [::1] HTTP/1.1\r\n",
    "GET ftp://h/ HTTP/1.1\r\n",
    "GET httpx://h/ HTTP/1.1\r\n",
    "GET httpss://h/ HTTP/1.1\r\n",
    "GET htt://h/ HTTP/1.1\r\n",
    "GET http:/h/ HTTP/1.1\r\n",
    "GET http:h HTTP/1.1\r\n",
    "GET http: HTTP/1.1\r\n",
    "GET http:// HTTP/1.1\r\n",
    "GET http:///a HTTP/1.1\r\n",
    "GET http://u@h/ HTTP/1.1\r\n",
    "GET http://u:p@h/ HTTP/1.1\r\n",
    "GET http://h:123456/ HTTP/1.1\r\n",
    "GET http://h:65536/ HTTP/1.1\r\n",
    "GET http://h:8x/ HTTP/1.1\r\n",
    "GET http://h:1:2/ HTTP/1.1\r\n",
    "GET http://[]/ HTTP/1.1\r\n",
    "GET http://[::1/ HTTP/1.1\r\n",
    "GET http://[::1]x/ HTTP/1.1\r\n",
    "GET http://[::g]/ HTTP/1.1\r\n",
    "GET http://[1v.x]/ HTTP/1.1\r\n",
    "GET http://[v1.x%41]/ HTTP/1.1\r\n",
    "GET http://[v1.x/ HTTP/1.1\r\n",
    "GET http://h#f HTTP/1.1\r\n",
    "GET http://h\x80/ HTTP/1.1\r\n",
    "\x01GET / HTTP/1.1\r\n",
    "(GET) / HTTP/1.1\r\n",
    "G\x80T / HTTP/1.1\r\n",
    "GET/ HTTP/1.1\r\n",
    "GET:/ HTTP/1.1\r\n",
    " \r\n",
};


static const header_case_t header_cases[] = {
    { "Host: example.com\r\n", 0, KL_OK, "Host", "example.com" },
    { "Host:example.com\r\n", 0, KL_OK, "Host", "example.com" },
    { "Host: \t a b \t \r\n", 0, KL_OK, "Host", "a b" },
    { "X-Empty:\r\n", 0, KL_OK, "X-Empty", "" },
    { "X-Empty: \t \r\n", 0, KL_OK, "X-Empty", "" },
    { "X-Empty:\n", 0, KL_OK, "X-Empty", "" },
    { "X: v\n", 0, KL_OK, "X", "v" },
    { "X_Y: 1\r\n", 0, KL_OK, "X_Y", "1" },
    { "X: caf\xc3\xa9 \xff\r\n", 0, KL_OK, "X", "caf\xc3\xa9 \xff" },
    { "X: a\tb\r\n", 0, KL_OK, "X", "a\tb" },
    { "X: \"q\" (c) <>,;:@[]{}\\/?=~\r\n", 0, KL_OK, "X",
      "\"q\" (c) <>,;:@[]{}\\/?=~" },
    { "!#$%&'*+-.^_`|~09azAZ: x\r\n", 0, KL_OK, "!#$%&'*+-.^_`|~09azAZ", "x" },
    { "X: a:b: c\r\n", 0, KL_OK, "X", "a:b: c" },
    { "\r\n", 0, KL_HTTP_PARSE_HEADER_DONE, NULL, NULL },
    { "\n", 0, KL_HTTP_PARSE_HEADER_DONE, NULL, NULL },
    /* invalid */
    { "Host : x\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "Host\t: x\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { ":x\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { ": x\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { " X: y\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "\tX: y\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "Foo\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "Foo\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X Y: z\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X(: y\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X\x80: y\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: a\x00"
      "b\r\n",
      8, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: a\x01"
      "b\r\n",
      0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: a\x7f"
      "b\r\n",
      0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: \x0b\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: a\rb\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X: a\r\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "X:\r\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "\rX: y\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "\r\r\n", 0, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
    { "\x00X: y\r\n", 7, KL_HTTP_PARSE_INVALID_HEADER, NULL, NULL },
};


static const chunked_case_t chunked_cases[] = {
    { "5\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, KL_DONE, "hello world", 0 },
    { "0\r\n\r\n", 0, KL_DONE, "", 0 },
    { "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", 0, KL_DONE,
      "0123456789abcdefghij", 0 },
    { "00005\r\nhello\r\n000\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0, KL_DONE, "\r\n\r\n", 0 },
    { "3\r\na\0b\r\n0\r\n\r\n", 13, KL_DONE, "a\0b", 3 },
    /* extensions */
    { "5;foo=bar\r\nhello\r\n0;x\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5 ; foo = bar ; baz\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5\t;\ta\t=\t\"b\\\"a;r\"\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello",
      0 },
    { "5;a=\"\"\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5;a;b;c=\"\xff\";d=e\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5;a=\"x\" ;b\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    { "5;a ;b\r\nhello\r\n0\r\n\r\n", 0, KL_DONE, "hello", 0 },
    /* trailers */
    { "0\r\nX-Sum: abc\r\nY: \r\n\r\n", 0, KL_DONE, "", 0 },
    { "1\r\nz\r\n0\r\nX:\xc3\xa9 \t\r\n\r\n", 0, KL_DONE, "z", 0 },
    /* bad sizes */
    { "\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "g\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "-1\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "+1\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { " 5\r\nhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5 \r\nhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0x5\r\nhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5g\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "8000000000000000\r\n", 0, KL_HTTP_PARSE_CHUNK_TOO_LARGE, NULL, 0 },
    { "fffffffffffffffff\r\n", 0, KL_HTTP_PARSE_CHUNK_TOO_LARGE, NULL, 0 },
    { "10000000000000000\r\n", 0, KL_HTTP_PARSE_CHUNK_TOO_LARGE, NULL, 0 },
    /* bare LF and broken framing */
    { "5\nhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5\rhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5\r\nhello\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5\r\nhelloX\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, "hello", 0 },
    { "5\r\nhello\r0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, "hello", 0 },
    { "5\r\nhello0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, "hello", 0 },
    { "0\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\n\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\n\r\r", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    /* bad extensions */
    { "5;\r\nhello\r\n0\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;=a\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=\"x\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a b\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=b c\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a \r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=b \r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=(\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=\"\x01\"\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a=\"\\\x01\"\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "5;a\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    /* bad trailers */
    { "0\r\nX : y\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\n y\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\nX: a\r\n b\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\n: y\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\nX\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\nX: a\nY: b\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\nX: a\x01\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    { "0\r\nX: a\rb\r\n\r\n", 0, KL_HTTP_PARSE_INVALID_CHUNK, NULL, 0 },
    /* incomplete */
    { "5\r\nhel", 0, KL_AGAIN, "hel", 0 },
    { "5\r\nhello\r\n0\r\n\r", 0, KL_AGAIN, "hello", 0 },
    { "5;a=\"x", 0, KL_AGAIN, "", 0 },
};


static const uri_case_t uri_cases[] = {
    { "/", 1, "/" },
    { "/a/b", 1, "/a/b" },
    { "/a/b/", 1, "/a/b/" },
    { "/a/./b", 1, "/a/b" },
    { "/a/../b", 1, "/b" },
    { "/a/b/..", 1, "/a/" },
    { "/a/b/.", 1, "/a/b/" },
    { "/a/./b/.", 1, "/a/b/" },
    { "/a/b/../..", 1, "/" },
    { "/./", 1, "/" },
    { "/.", 1, "/" },
    { "/./.", 1, "/" },
    { "/a/.%2e/", 1, "/" },
    { "/a/%2e./b", 1, "/b" },
    { "/a/%2e", 1, "/a/" },
    { "/a/.%2E", 1, "/" },
    { "/a/%2e%2e%2fb", 1, "/b" },
    { "/.../a", 1, "/.../a" },
    { "/..a/b", 1, "/..a/b" },
    { "/a../b", 1, "/a../b" },
    { "/.a/b.", 1, "/.a/b." },
    /* traversal */
    { "/..", 1, NULL },
    { "/../", 1, NULL },
    { "/../a", 1, NULL },
    { "/a/../../b", 1, NULL },
    { "/a/b/../../..", 1, NULL },
    { "/a/b/../../../c", 1, NULL },
    { "/%2e%2e/x", 1, NULL },
    { "/%2E%2E/x", 1, NULL },
    { "/.%2e/x", 1, NULL },
    { "/a/%2e%2e%2f%2e%2e/x", 1, NULL },
    { "/a%2f..%2f..%2fb", 1, NULL },
    { "/a%2F%2e%2E%2F%2E.%2Fetc", 1, NULL },
    { "/./../a", 1, NULL },
    { "//..", 1, NULL },
    { "//..", 0, "/" },
    /* decoding */
    { "/a%2fb", 1, "/a/b" },
    { "/a%2Fb", 0, "/a/b" },
    { "/a/b%20c", 1, "/a/b c" },
    { "/%41%62", 1, "/Ab" },
    { "/%4a%4A", 1, "/JJ" },
    { "/%ff%80", 1, "/\xff\x80" },
    { "/%3F%23", 1, "/?#" },
    { "/%25", 1, "/%" },
    { "/%2541", 1, "/%41" },
    { "/%00", 1, NULL },
    { "/a%00b", 1, NULL },
    { "/%zz", 1, NULL },
    { "/%4", 1, NULL },
    { "/%", 1, NULL },
    { "/a%2", 1, NULL },
    { "/%g0", 1, NULL },
    { "/%0g", 1, NULL },
    { "/% 1", 1, NULL },
    /* slashes */
    { "//a//b", 1, "/a/b" },
    { "//a//b", 0, "//a//b" },
    { "/a///", 1, "/a/" },
    { "/%2f", 1, "/" },
    { "/%2f", 0, "//" },
    { "/a//../b", 1, "/b" },
    { "/a//../b", 0, "/a/b" },
    { "/a/.//b", 1, "/a/b" },
    { "/a/.//b", 0, "/a//b" },
    /* backslash is an ordinary byte */
    { "/a\\..\\b", 1, "/a\\..\\b" },
    { "/..\\", 1, "/..\\" },
    /* not an absolute path */
    { "", 1, NULL },
    { "a/b", 1, NULL },
    { "%2fa", 1, NULL },
    { ".", 1, NULL },
};


static void
esc(const char *s, size_t n, char *out, size_t size)
{
    size_t        i, o;
    unsigned char c;

    for (i = 0, o = 0; i < n && o + 5 < size; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = c;

        } else {
            o += snprintf(out + o, size - o, "\\x%02x", c);
        }
    }

    out[o] = '\0';
}


static void
tr_add(transcript_t *t, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    t->len += vsnprintf(t->buf + t->len, TRANSCRIPT_MAX - t->len, fmt, args);
    va_end(args);

    cr_assert_lt(t->len, TRANSCRIPT_MAX, "transcript overflow");
}


static void
dump_line(transcript_t *t, kl_http_parse_t *r, u_char *base, kl_int_t rc,
          u_char *pos)
{
    tr_add(t,
           "line rc=%ld pos=%ld st=%lu rs=%ld re=%ld me=%ld us=%ld "
           "ue=%ld ss=%ld se=%ld hs=%ld he=%ld pts=%ld pte=%ld ps=%ld "
           "pe=%ld as=%ld es=%ld m=%lu v=%lu.%lu/%lu f=%u%u%u%u\n",
           (long) rc, OFF(pos), (unsigned long) r->state, OFF(r->request_start),
           OFF(r->request_end), OFF(r->method_end), OFF(r->uri_start),
           OFF(r->uri_end), OFF(r->schema_start), OFF(r->schema_end),
           OFF(r->host_start), OFF(r->host_end), OFF(r->port_start),
           OFF(r->port_end), OFF(r->path_start), OFF(r->path_end),
           OFF(r->args_start), OFF(r->exten_start), (unsigned long) r->method,
           (unsigned long) r->http_major, (unsigned long) r->http_minor,
           (unsigned long) r->http_version, r->complex_uri, r->quoted_uri,
           r->plus_in_uri, r->asterisk_form);
}


static void
dump_header(transcript_t *t, kl_http_parse_t *r, u_char *base, kl_int_t rc,
            u_char *pos)
{
    tr_add(t,
           "header rc=%ld pos=%ld st=%lu ns=%ld ne=%ld vs=%ld ve=%ld "
           "h=%lu u=%u\n",
           (long) rc, OFF(pos), (unsigned long) r->state,
           OFF(r->header_name_start), OFF(r->header_name_end),
           OFF(r->header_start), OFF(r->header_end),
           (unsigned long) r->header_hash, r->underscore);
}


/*
 * Feed [base, base + n) in pieces: [0, split) and [split, n) when bytewise
 * is 0, else one byte at a time. Parse a request line, header lines or
 * both (mode) and write every final result into the transcript.
 */
static void
feed_head(u_char *base, size_t n, size_t split, int bytewise, int mode,
          transcript_t *t)
{
    size_t          end;
    kl_int_t        rc;
    kl_buf_t        b;
    kl_http_parse_t r;
    int             in_headers;

    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    t->len = 0;
    t->buf[0] = '\0';

    in_headers = (mode == MODE_HEADERS);
    b.pos = base;
    rc = KL_AGAIN;

    for (;;) {
        end = bytewise ? (size_t) (b.pos - base) + 1
                       : ((size_t) (b.pos - base) < split ? split : n);
        if (end > n) {
            end = n;
        }

        b.last = base + end;

        for (;;) {
            if (!in_headers) {
                rc = kl_http_parse_request_line(&r, &b);

                if (rc != KL_AGAIN) {
                    dump_line(t, &r, base, rc, b.pos);
                }

                if (rc == KL_OK && mode == MODE_HEAD) {
                    in_headers = 1;
                    continue;
                }

                break;
            }

            rc = kl_http_parse_header_line(&r, &b);

            if (rc != KL_AGAIN) {
                dump_header(t, &r, base, rc, b.pos);
            }

            if (rc != KL_OK) {
                break;
            }
        }

        if (rc != KL_AGAIN) {
            return;
        }

        cr_assert_eq(b.pos, b.last, "KL_AGAIN must consume its input");

        if (end == n) {
            tr_add(t, "again st=%lu\n", (unsigned long) r.state);
            return;
        }
    }
}


/* The whole-buffer transcript must equal every split and the bytewise one. */
static void
check_splits(const char *in, size_t n, int mode)
{
    u_char      *mem;
    size_t       k;
    transcript_t whole, part;
    char         shown[1024];

    mem = malloc(n + 1);
    whole.buf = malloc(TRANSCRIPT_MAX);
    part.buf = malloc(TRANSCRIPT_MAX);
    cr_assert(mem != NULL && whole.buf != NULL && part.buf != NULL);
    memcpy(mem, in, n);

    esc(in, n, shown, sizeof(shown));
    feed_head(mem, n, n, 0, mode, &whole);

    for (k = 0; k <= n; k++) {
        feed_head(mem, n, k, 0, mode, &part);
        cr_expect_str_eq(part.buf, whole.buf, "split at %zu of \"%s\"", k,
                         shown);
    }

    feed_head(mem, n, n, 1, mode, &part);
    cr_expect_str_eq(part.buf, whole.buf, "bytewise \"%s\"", shown);

    free(part.buf);
    free(whole.buf);
    free(mem);
}


static int
span_eq(u_char *start, u_char *end, const char *expect)
{
    if (expect == NULL) {
        return start == NULL;
    }

    if (start == NULL || end == NULL || end < start) {
        return 0;
    }

    return (size_t) (end - start) == strlen(expect)
           && memcmp(start, expect, end - start) == 0;
}


static kl_int_t
parse_line(const char *in, kl_http_parse_t *r, kl_buf_t *b, u_char *mem)
{
    size_t n;

    n = strlen(in);
    memcpy(mem, in, n);
    memset(r, 0, sizeof(*r));
    memset(b, 0, sizeof(*b));
    b->pos = mem;
    b->last = mem + n;

    return kl_http_parse_request_line(r, b);
}


Test(http_parse, request_line_table)
{
    size_t             i, n;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_http_parse_t    r;
    u_char             mem[256];
    char               s[512];
    const char        *line;
    const line_case_t *c;

    for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
        c = &line_cases[i];
        n = strlen(c->in);
        esc(c->in, n, s, sizeof(s));

        rc = parse_line(c->in, &r, &b, mem);

        cr_expect_eq(rc, c->rc, "rc %ld for \"%s\"", (long) rc, s);
        cr_expect_eq(b.pos, mem + n, "consumed %ld of \"%s\"",
                     (long) (b.pos - mem), s);
        cr_expect_eq(r.state, 0, "state left for \"%s\"", s);
        cr_expect_eq(r.method, c->method, "method of \"%s\"", s);
        cr_expect_eq(r.http_version, c->version, "version of \"%s\"", s);
        cr_expect_eq(r.http_version, r.http_major * 1000 + r.http_minor);
        cr_expect(span_eq(r.uri_start, r.uri_end, c->uri), "uri of \"%s\"", s);
        cr_expect(span_eq(r.path_start, r.path_end, c->path), "path of \"%s\"",
                  s);
        cr_expect(span_eq(r.args_start, r.uri_end, c->args), "args of \"%s\"",
                  s);
        cr_expect(span_eq(r.exten_start, r.path_end, c->exten),
                  "exten of \"%s\"", s);
        cr_expect(span_eq(r.schema_start, r.schema_end, c->schema),
                  "schema of \"%s\"", s);
        cr_expect(span_eq(r.host_start, r.host_end, c->host), "host of \"%s\"",
                  s);
        cr_expect(span_eq(r.port_start, r.port_end, c->port), "port of \"%s\"",
                  s);
        cr_expect_eq(r.complex_uri, !!(c->flags & M_COMPLEX),
                     "complex_uri of \"%s\"", s);
        cr_expect_eq(r.quoted_uri, !!(c->flags & M_QUOTED),
                     "quoted_uri of \"%s\"", s);
        cr_expect_eq(r.plus_in_uri, !!(c->flags & M_PLUS),
                     "plus_in_uri of \"%s\"", s);
        cr_expect_eq(r.asterisk_form, !!(c->flags & M_ASTERISK),
                     "asterisk_form of \"%s\"", s);

        /* the request line proper: method to version, no line end */
        line = c->in + strspn(c->in, "\r\n");
        n = strcspn(line, "\r\n");
        memcpy(s, line, n);
        s[n] = '\0';
        cr_expect(span_eq(r.request_start, r.request_end, s),
                  "request line of \"%s\"", c->in);
        cr_expect_eq(r.method_end, r.request_start + strcspn(line, " "),
                     "method_end of \"%s\"", s);
    }
}


Test(http_parse, request_line_invalid)
{
    size_t          i, n;
    kl_int_t        rc;
    kl_buf_t        b;
    kl_http_parse_t r;
    u_char          mem[256];
    char            s[512];

    for (i = 0; i < sizeof(line_invalid) / sizeof(line_invalid[0]); i++) {
        n = strlen(line_invalid[i]);
        esc(line_invalid[i], n, s, sizeof(s));

        rc = parse_line(line_invalid[i], &r, &b, mem);

        cr_expect_eq(rc, KL_HTTP_PARSE_INVALID_REQUEST, "rc %ld for \"%s\"",
                     (long) rc, s);
        cr_expect(b.pos >= mem && b.pos < mem + n,
                  "error position inside \"%s\"", s);
    }
}


Test(http_parse, request_line_nul_in_target)
{
    static const char in[] = "GET /a\0b HTTP/1.1\r\n";
    u_char            mem[sizeof(in)];
    kl_buf_t          b;
    kl_http_parse_t   r;

    memcpy(mem, in, sizeof(in));
    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    b.pos = mem;
    b.last = mem + sizeof(in) - 1;

    cr_assert_eq(kl_http_parse_request_line(&r, &b),
                 KL_HTTP_PARSE_INVALID_REQUEST);
    cr_assert_eq(b.pos, mem + 6, "the error points at the NUL");
}


Test(http_parse, request_line_again_then_complete)
{
    static const char in[] = "GET /abc HTTP/1.1\r\nHost";
    u_char            mem[sizeof(in)];
    kl_buf_t          b;
    kl_http_parse_t   r;

    memcpy(mem, in, sizeof(in));
    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    b.pos = mem;
    b.last = mem + 10;

    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_AGAIN);
    cr_assert_eq(b.pos, mem + 10);
    cr_assert_neq(r.state, 0);

    b.last = mem + sizeof(in) - 1;
    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_OK);
    cr_assert_eq(b.pos, mem + 19, "pos after the LF, before \"Host\"");
    cr_assert_eq(r.state, 0);
    cr_assert(span_eq(r.uri_start, r.uri_end, "/abc"));
}


Test(http_parse, request_line_reuse_resets_fields)
{
    static const char first[] = "GET http://h:1/a.b?c HTTP/1.1\r\n";
    static const char second[] = "OPTIONS * HTTP/1.0\r\n";
    u_char            mem[64];
    kl_buf_t          b;
    kl_http_parse_t   r;

    memcpy(mem, first, sizeof(first) - 1);
    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    b.pos = mem;
    b.last = mem + sizeof(first) - 1;
    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_OK);

    /* an empty line before the next request hides the old one */
    memcpy(mem, "\r\n", 2);
    memcpy(mem + 2, second, sizeof(second) - 1);
    b.pos = mem;
    b.last = mem + 1;
    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_AGAIN);
    cr_assert_null(r.request_start);
    cr_assert_null(r.uri_start);
    cr_assert_null(r.path_start);

    b.last = mem + 2 + sizeof(second) - 1;
    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_OK);
    cr_assert_eq(r.request_start, mem + 2);

    cr_assert_null(r.schema_start);
    cr_assert_null(r.host_start);
    cr_assert_null(r.port_start);
    cr_assert_null(r.path_start);
    cr_assert_null(r.args_start);
    cr_assert_null(r.exten_start);
    cr_assert_eq(r.asterisk_form, 1);
    cr_assert_eq(r.http_version, KL_HTTP_VERSION_10);
}


Test(http_parse, request_line_splits)
{
    size_t i;

    for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
        check_splits(line_cases[i].in, strlen(line_cases[i].in), MODE_LINE);
    }

    for (i = 0; i < sizeof(line_invalid) / sizeof(line_invalid[0]); i++) {
        check_splits(line_invalid[i], strlen(line_invalid[i]), MODE_LINE);
    }
}


static kl_uint_t
name_hash(const char *name)
{
    kl_uint_t h;

    for (h = 0; *name != '\0'; name++) {
        h = h * 31 + kl_tolower((u_char) *name);
    }

    return h;
}


Test(http_parse, header_table)
{
    size_t               i, n;
    kl_int_t             rc;
    kl_buf_t             b;
    kl_http_parse_t      r;
    u_char               mem[256];
    char                 s[512];
    const header_case_t *c;

    for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        c = &header_cases[i];

        n = c->len ? c->len : strlen(c->in);

        esc(c->in, n, s, sizeof(s));
        memcpy(mem, c->in, n);
        memset(&r, 0, sizeof(r));
        memset(&b, 0, sizeof(b));
        b.pos = mem;
        b.last = mem + n;

        rc = kl_http_parse_header_line(&r, &b);

        cr_expect_eq(rc, c->rc, "rc %ld for \"%s\"", (long) rc, s);

        if (rc == KL_HTTP_PARSE_INVALID_HEADER) {
            cr_expect(b.pos < mem + n, "error position for \"%s\"", s);
            continue;
        }

        cr_expect_eq(b.pos, mem + n, "consumed all of \"%s\"", s);
        cr_expect_eq(r.state, 0, "state reset after \"%s\"", s);

        if (rc != KL_OK) {
            continue;
        }

        cr_expect(span_eq(r.header_name_start, r.header_name_end, c->name),
                  "name of \"%s\"", s);
        cr_expect(span_eq(r.header_start, r.header_end, c->value),
                  "value of \"%s\"", s);
        cr_expect_eq(r.header_hash, name_hash(c->name), "hash of \"%s\"", s);
        cr_expect_eq(r.underscore, strchr(c->name, '_') != NULL,
                     "underscore of \"%s\"", s);
    }
}


Test(http_parse, header_hash_is_case_insensitive)
{
    static const char a[] = "CONTENT-length: 1\r\n";
    static const char b2[] = "content-LENGTH: 1\r\n";
    u_char            mem[64];
    kl_uint_t         h;
    kl_buf_t          b;
    kl_http_parse_t   r;

    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    memcpy(mem, a, sizeof(a) - 1);
    b.pos = mem;
    b.last = mem + sizeof(a) - 1;
    cr_assert_eq(kl_http_parse_header_line(&r, &b), KL_OK);
    h = r.header_hash;

    memcpy(mem, b2, sizeof(b2) - 1);
    b.pos = mem;
    b.last = mem + sizeof(b2) - 1;
    cr_assert_eq(kl_http_parse_header_line(&r, &b), KL_OK);
    cr_assert_eq(r.header_hash, h);
    cr_assert_eq(h, name_hash("content-length"));
}


Test(http_parse, header_splits)
{
    size_t i, n;

    for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        n = header_cases[i].len ? header_cases[i].len
                                : strlen(header_cases[i].in);

        check_splits(header_cases[i].in, n, MODE_HEADERS);
    }
}


/* Whole heads: request line then fields, as the engine drives them. */
static const char *heads[] = {
    "GET /a/b.html?x=1 HTTP/1.1\r\nHost: example.com\r\n"
    "X-A:  b c \t\r\nEmpty:\r\nUnder_score: 1\n\r\n",
    "\r\nPOST http://h:8080/p HTTP/1.0\nContent-Length: 5\n\nhello",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n X: folded\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\r\n",
    "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n",
};


Test(http_parse, head_fields)
{
    size_t             n, i;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_http_parse_t    r;
    u_char             mem[256];
    static const char *expect[] = {
        "Host", "example.com", "X-A", "b c", "Empty", "", "Under_score", "1"
    };

    n = strlen(heads[0]);
    memcpy(mem, heads[0], n);
    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    b.pos = mem;
    b.last = mem + n;

    cr_assert_eq(kl_http_parse_request_line(&r, &b), KL_OK);
    cr_assert(span_eq(r.path_start, r.path_end, "/a/b.html"));

    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i += 2) {
        rc = kl_http_parse_header_line(&r, &b);
        cr_assert_eq(rc, KL_OK, "field %zu", i / 2);
        cr_expect(span_eq(r.header_name_start, r.header_name_end, expect[i]));
        cr_expect(span_eq(r.header_start, r.header_end, expect[i + 1]));
        cr_expect_eq(r.header_hash, name_hash(expect[i]));
        cr_expect_eq(r.underscore, i == 6);
    }

    cr_assert_eq(kl_http_parse_header_line(&r, &b), KL_HTTP_PARSE_HEADER_DONE);
    cr_assert_eq(b.pos, mem + n);
}


Test(http_parse, head_splits)
{
    size_t i;

    for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        check_splits(heads[i], strlen(heads[i]), MODE_HEAD);
    }
}


/*
 * Decode [base, base + n) fed in pieces as a caller would: on KL_OK take
 * min(size, available) bytes of data. Returns the final result; the data
 * and the end position go to body and *pos.
 */
static kl_int_t
feed_chunked(u_char *base, size_t n, size_t split, int bytewise, u_char *body,
             size_t *body_len, size_t *pos)
{
    size_t            end, take;
    kl_int_t          rc;
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    *body_len = 0;
    b.pos = base;

    for (;;) {
        end = bytewise ? (size_t) (b.pos - base) + 1
                       : ((size_t) (b.pos - base) < split ? split : n);
        if (end > n) {
            end = n;
        }

        b.last = base + end;

        for (;;) {
            rc = kl_http_parse_chunked(&ctx, &b);

            if (rc != KL_OK) {
                break;
            }

            cr_assert_gt(ctx.size, 0, "KL_OK with an empty chunk");
            cr_assert_lt(b.pos, b.last, "KL_OK with no data buffered");
            cr_assert_geq(ctx.length, ctx.size, "length under size");

            take = b.last - b.pos;
            if ((off_t) take > ctx.size) {
                take = ctx.size;
            }

            memcpy(body + *body_len, b.pos, take);
            *body_len += take;
            b.pos += take;
            ctx.size -= take;
        }

        if (rc != KL_AGAIN) {
            *pos = b.pos - base;
            return rc;
        }

        cr_assert_eq(b.pos, b.last, "KL_AGAIN must consume its input");
        cr_assert_gt(ctx.length, 0, "KL_AGAIN needs at least a byte");

        if (end == n) {
            *pos = n;
            return rc;
        }
    }
}


static void
chunked_case_input(const chunked_case_t *c, u_char **mem, size_t *n)
{
    *n = c->len ? c->len : strlen(c->in);
    *mem = malloc(*n + 1);
    cr_assert_not_null(*mem);
    memcpy(*mem, c->in, *n);
}


Test(http_parse, chunked_table)
{
    size_t                i, n, len, pos;
    kl_int_t              rc;
    u_char               *mem, body[256];
    char                  s[512];
    const chunked_case_t *c;

    for (i = 0; i < sizeof(chunked_cases) / sizeof(chunked_cases[0]); i++) {
        c = &chunked_cases[i];
        chunked_case_input(c, &mem, &n);
        esc(c->in, n, s, sizeof(s));

        rc = feed_chunked(mem, n, n, 0, body, &len, &pos);

        cr_expect_eq(rc, c->rc, "rc %ld for \"%s\"", (long) rc, s);

        if (rc == KL_DONE) {
            cr_expect_eq(pos, n, "KL_DONE not at the end of \"%s\"", s);
        }

        if (c->body != NULL) {
            cr_expect(len == (c->body_len ? c->body_len : strlen(c->body))
                          && memcmp(body, c->body, len) == 0,
                      "body of \"%s\"", s);
        }

        free(mem);
    }
}


Test(http_parse, chunked_splits)
{
    size_t                i, k, n, len, pos, wlen, wpos;
    kl_int_t              rc, wrc;
    u_char               *mem, body[256], wbody[256];
    char                  s[512];
    const chunked_case_t *c;

    for (i = 0; i < sizeof(chunked_cases) / sizeof(chunked_cases[0]); i++) {
        c = &chunked_cases[i];
        chunked_case_input(c, &mem, &n);
        esc(c->in, n, s, sizeof(s));

        wrc = feed_chunked(mem, n, n, 0, wbody, &wlen, &wpos);

        for (k = 0; k <= n + 1; k++) {
            /* k == n + 1 stands for the bytewise run */
            rc = feed_chunked(mem, n, k, k > n, body, &len, &pos);

            cr_expect(rc == wrc && pos == wpos && len == wlen
                          && memcmp(body, wbody, len) == 0,
                      "split %zu of \"%s\": rc %ld pos %zu", k, s, (long) rc,
                      pos);
        }

        free(mem);
    }
}


Test(http_parse, chunked_data_and_length)
{
    static const char in[] = "5\r\nhello\r\n0\r\n\r\n";
    u_char            mem[sizeof(in)];
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    memcpy(mem, in, sizeof(in));
    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));

    b.pos = mem;
    b.last = mem + 1;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_AGAIN);
    cr_assert_eq(ctx.length, 5 + 2 + 7, "size line, data, CRLF, last chunk");

    b.last = mem + 3;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_AGAIN,
                 "no data buffered yet");
    cr_assert_eq(ctx.size, 5);
    cr_assert_eq(ctx.length, 5 + 7);

    b.last = mem + 5;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_OK);
    cr_assert_eq(b.pos, mem + 3, "data starts after the size line");
    cr_assert_eq(ctx.size, 5, "the whole size, more than is buffered");

    b.pos += 2;
    ctx.size -= 2;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_AGAIN);

    b.last = mem + sizeof(in) - 1;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_OK);
    cr_assert_eq(b.pos, mem + 5);
    cr_assert_eq(ctx.size, 3);

    b.pos += 3;
    ctx.size = 0;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_DONE);
    cr_assert_eq(b.pos, mem + sizeof(in) - 1);
    cr_assert_eq(ctx.state, 0, "ready for another body");
}


Test(http_parse, chunked_size_limits)
{
    static const char max[] = "7fffffffffffffff\r\n";
    static const char zeros[] = "00000000000000000000007FFFFFFFFFFFFFFF\r\n";
    u_char            mem[64];
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    memcpy(mem, max, sizeof(max) - 1);
    b.pos = mem;
    b.last = mem + sizeof(max) - 1;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_AGAIN);
    cr_assert_eq(ctx.size, KL_MAX_OFF_T_VALUE);
    cr_assert_eq(ctx.length, KL_MAX_OFF_T_VALUE, "saturated, no overflow");

    memset(&ctx, 0, sizeof(ctx));
    memcpy(mem, zeros, sizeof(zeros) - 1);
    b.pos = mem;
    b.last = mem + sizeof(zeros) - 1;
    cr_assert_eq(kl_http_parse_chunked(&ctx, &b), KL_AGAIN);
    cr_assert_eq(ctx.size, KL_MAX_OFF_T_VALUE);
}


Test(http_parse, chunked_extension_bound)
{
    u_char           *mem;
    size_t            n;
    kl_int_t          rc;
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    mem = malloc(8192);
    cr_assert_not_null(mem);

    /* a line of 4096 bytes after the first digit passes, one more fails */
    for (n = 4094; n <= 4095; n++) {
        mem[0] = '1';
        mem[1] = ';';
        memset(mem + 2, 'a', n - 2);
        memcpy(mem + n, "\r\nx\r\n0\r\n\r\n", 10);

        memset(&ctx, 0, sizeof(ctx));
        memset(&b, 0, sizeof(b));
        b.pos = mem;
        b.last = mem + n + 10;

        do {
            rc = kl_http_parse_chunked(&ctx, &b);
            if (rc == KL_OK) {
                b.pos++;
                ctx.size--;
            }
        } while (rc == KL_OK);

        cr_expect_eq(rc, n == 4094 ? KL_DONE : KL_HTTP_PARSE_INVALID_CHUNK,
                     "line of %zu bytes", n + 1);
    }

    free(mem);
}


Test(http_parse, chunked_trailer_bound)
{
    u_char           *mem;
    size_t            n, i;
    kl_int_t          rc;
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    mem = malloc(32768);
    cr_assert_not_null(mem);

    /* 8 bytes a field: 2047 fields and the final CRLF make 16378 bytes */
    for (n = 2047; n <= 2048; n++) {
        memcpy(mem, "0\r\n", 3);

        for (i = 0; i < n; i++) {
            memcpy(mem + 3 + i * 8, "X: abc\r\n", 8);
        }

        memcpy(mem + 3 + n * 8, "\r\n", 2);

        memset(&ctx, 0, sizeof(ctx));
        memset(&b, 0, sizeof(b));
        b.pos = mem;
        b.last = mem + 3 + n * 8 + 2;
        rc = kl_http_parse_chunked(&ctx, &b);

        cr_expect_eq(rc, n == 2047 ? KL_DONE : KL_HTTP_PARSE_INVALID_CHUNK,
                     "%zu trailer fields", n);
    }

    free(mem);
}


static void
check_uri(const char *in, kl_uint_t merge, const char *out)
{
    size_t  len;
    ssize_t rc;
    u_char  src[256], dst[256];
    char    s[512];

    len = strlen(in);
    esc(in, len, s, sizeof(s));
    memcpy(src, in, len);
    memset(dst, 0xa5, sizeof(dst));

    rc = kl_http_normalize_uri(src, len, dst, merge);

    if (out == NULL) {
        cr_expect_eq(rc, KL_ERROR, "\"%s\" merge %lu gave %zd", s,
                     (unsigned long) merge, rc);
        return;
    }

    cr_expect(rc >= 0 && (size_t) rc == strlen(out)
                  && memcmp(dst, out, rc) == 0,
              "\"%s\" merge %lu gave %zd \"%.*s\", not \"%s\"", s,
              (unsigned long) merge, rc, rc > 0 ? (int) rc : 0, dst, out);
    cr_expect_leq(rc, (ssize_t) len);
    cr_expect_eq(dst[len], 0xa5, "wrote past len for \"%s\"", s);

    /* in place gives the same */
    rc = kl_http_normalize_uri(src, len, src, merge);
    cr_expect(rc >= 0 && (size_t) rc == strlen(out)
                  && memcmp(src, out, rc) == 0,
              "in place \"%s\"", s);
}


Test(http_parse, normalize_uri_table)
{
    size_t i;

    for (i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++) {
        check_uri(uri_cases[i].in, uri_cases[i].merge, uri_cases[i].out);
    }
}


Test(http_parse, normalize_uri_merge_independent)
{
    /* cases without "//" give the same with and without merging */
    check_uri("/a/./b/../c%2e", 0, "/a/c.");
    check_uri("/a/./b/../c%2e", 1, "/a/c.");
    check_uri("/a/%2e%2e", 0, "/");
    check_uri("/%2e", 0, "/");
    check_uri("/../a", 0, NULL);
}


Test(http_parse, normalize_uri_raw_nul)
{
    static const char in[] = "/a\0b";
    u_char            dst[sizeof(in)];

    cr_assert_eq(kl_http_normalize_uri((u_char *) in, sizeof(in) - 1, dst, 1),
                 KL_ERROR);
}


Test(http_parse, method_bit)
{
    static const struct {
        const char *name;
        kl_uint_t   bit;
    } m[] = {
        { "GET", KL_HTTP_GET },
        { "HEAD", KL_HTTP_HEAD },
        { "POST", KL_HTTP_POST },
        { "PUT", KL_HTTP_PUT },
        { "DELETE", KL_HTTP_DELETE },
        { "MKCOL", KL_HTTP_MKCOL },
        { "COPY", KL_HTTP_COPY },
        { "MOVE", KL_HTTP_MOVE },
        { "OPTIONS", KL_HTTP_OPTIONS },
        { "PROPFIND", KL_HTTP_PROPFIND },
        { "PROPPATCH", KL_HTTP_PROPPATCH },
        { "LOCK", KL_HTTP_LOCK },
        { "UNLOCK", KL_HTTP_UNLOCK },
        { "PATCH", KL_HTTP_PATCH },
        { "TRACE", KL_HTTP_TRACE },
        { "CONNECT", KL_HTTP_CONNECT },
        { "get", KL_HTTP_UNKNOWN },
        { "Get", KL_HTTP_UNKNOWN },
        { "GETS", KL_HTTP_UNKNOWN },
        { "GE", KL_HTTP_UNKNOWN },
        { "", KL_HTTP_UNKNOWN },
        { "PROPFINDX", KL_HTTP_UNKNOWN },
    };
    size_t i;

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        cr_expect_eq(
            kl_http_method_bit((u_char *) m[i].name,
                               (u_char *) m[i].name + strlen(m[i].name)),
            m[i].bit, "method \"%s\"", m[i].name);
    }
}


static void
check_list(const char *in, const char **items)
{
    u_char  *pos, *end;
    size_t   i;
    kl_int_t rc;
    kl_str_t item;

    pos = (u_char *) in;
    end = pos + strlen(in);

    for (i = 0; items[i] != NULL; i++) {
        rc = kl_http_list_next(&pos, end, &item);
        cr_expect_eq(rc, KL_OK, "item %zu of \"%s\"", i, in);

        if (rc != KL_OK) {
            return;
        }

        cr_expect(item.len == strlen(items[i])
                      && memcmp(item.data, items[i], item.len) == 0,
                  "item %zu of \"%s\" is \"%.*s\", not \"%s\"", i, in,
                  (int) item.len, item.data, items[i]);
    }

    cr_expect_eq(kl_http_list_next(&pos, end, &item), KL_DONE, "end of \"%s\"",
                 in);
    cr_expect_eq(pos, end);
    cr_expect_eq(kl_http_list_next(&pos, end, &item), KL_DONE,
                 "KL_DONE again at the end of \"%s\"", in);
}


Test(http_parse, list_next)
{
    static const char *l0[] = { "gzip", "deflate", NULL };
    static const char *l1[] = { "a", "b;q=0.5", NULL };
    static const char *l2[] = { NULL };
    static const char *l3[] = { "\"a,b\"", "c", NULL };
    static const char *l4[] = { "W/\"x\\\",y\"", "z", NULL };
    static const char *l5[] = { "a b", "c", NULL };
    static const char *l6[] = { "text/html;level=1 ;q=0.3", NULL };
    static const char *l7[] = { "\"open, \\", NULL };

    check_list("gzip, deflate", l0);
    check_list("  , ,a , b;q=0.5 ,,  ", l1);
    check_list("", l2);
    check_list(" \t, ,", l2);
    check_list("\"a,b\", c", l3);
    check_list("W/\"x\\\",y\" , z", l4);
    check_list("a b , c\t", l5);
    check_list("text/html;level=1 ;q=0.3", l6);
    check_list("\"open, \\", l7);
}
