/*
 * test_http_script.c: modules/http/script.c's parser of complex values,
 * kl_http_script_parse: a pure function over bytes. Evaluation, which
 * needs a configuration, is tested in test_http_variables.c.
 */

#include <criterion/criterion.h>

#include "kl_http.h"


#define T_MAX 16

static kl_http_script_part_t  t_parts[T_MAX];
static kl_http_script_error_t t_err;


static kl_int_t
t_parse(const char *s, kl_uint_t captures)
{
    kl_memzero(t_parts, sizeof(t_parts));
    kl_memzero(&t_err, sizeof(t_err));

    return kl_http_script_parse((u_char *) s, strlen(s), captures, t_parts,
                                T_MAX, &t_err);
}


static void
t_assert_part(kl_uint_t i, kl_uint_t type, const char *text, kl_uint_t n)
{
    cr_assert_eq(t_parts[i].type, type, "part %lu: type %lu, not %lu",
                 (unsigned long) i, (unsigned long) t_parts[i].type,
                 (unsigned long) type);
    cr_assert_eq(t_parts[i].text.len, strlen(text), "part %lu: length",
                 (unsigned long) i);
    cr_assert(memcmp(t_parts[i].text.data, text, strlen(text)) == 0,
              "part %lu: \"%.*s\", not \"%s\"", (unsigned long) i,
              (int) t_parts[i].text.len, t_parts[i].text.data, text);

    if (type == KL_HTTP_SCRIPT_CAPTURE) {
        cr_assert_eq(t_parts[i].n, n);
    }
}


Test(http_script, plain_text_is_one_literal)
{
    cr_assert_eq(t_parse("hello world", 1), 1);
    t_assert_part(0, KL_HTTP_SCRIPT_TEXT, "hello world", 0);

    cr_assert_eq(t_parse("", 1), 0);
}


Test(http_script, names_brackets_captures_and_literals)
{
    cr_assert_eq(t_parse("$a${b}c$1 \\$d_9", 1), 6);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "a", 0);
    t_assert_part(1, KL_HTTP_SCRIPT_VAR, "b", 0);
    t_assert_part(2, KL_HTTP_SCRIPT_TEXT, "c", 0);
    t_assert_part(3, KL_HTTP_SCRIPT_CAPTURE, "$1", 1);
    /* nginx has no escape for '$': the backslash stays a literal */
    t_assert_part(4, KL_HTTP_SCRIPT_TEXT, " \\", 0);
    t_assert_part(5, KL_HTTP_SCRIPT_VAR, "d_9", 0);
}


Test(http_script, a_name_ends_at_the_first_other_byte)
{
    cr_assert_eq(t_parse("$host:$server_port/x", 0), 4);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "host", 0);
    t_assert_part(1, KL_HTTP_SCRIPT_TEXT, ":", 0);
    t_assert_part(2, KL_HTTP_SCRIPT_VAR, "server_port", 0);
    t_assert_part(3, KL_HTTP_SCRIPT_TEXT, "/x", 0);

    /* ${} lets letters follow a name */
    cr_assert_eq(t_parse("${uri}abc", 0), 2);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "uri", 0);
    t_assert_part(1, KL_HTTP_SCRIPT_TEXT, "abc", 0);

    /* "$a-$b": '-' is not a name byte */
    cr_assert_eq(t_parse("$http_x-$b", 0), 3);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "http_x", 0);
    t_assert_part(1, KL_HTTP_SCRIPT_TEXT, "-", 0);
}


Test(http_script, captures_only_when_asked)
{
    /* $1..$9 are one digit: "$10" is capture 1 then "0" */
    cr_assert_eq(t_parse("$10$9", 1), 3);
    t_assert_part(0, KL_HTTP_SCRIPT_CAPTURE, "$1", 1);
    t_assert_part(1, KL_HTTP_SCRIPT_TEXT, "0", 0);
    t_assert_part(2, KL_HTTP_SCRIPT_CAPTURE, "$9", 9);

    /* $0 is no capture; without captures "$1" names a variable "1" */
    cr_assert_eq(t_parse("$0", 1), 1);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "0", 0);

    cr_assert_eq(t_parse("$10", 0), 1);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "10", 0);

    /* "${1}" is always the variable "1", as in nginx */
    cr_assert_eq(t_parse("${1}", 1), 1);
    t_assert_part(0, KL_HTTP_SCRIPT_VAR, "1", 0);
}


Test(http_script, a_dollar_naming_nothing_is_an_error)
{
    const char *bad[] = { "$", "x$", "a $ b", "${}", "${", "$-", "$}", NULL };
    kl_uint_t   i;

    for (i = 0; bad[i]; i++) {
        cr_assert_eq(t_parse(bad[i], 1), KL_ERROR, "\"%s\" parsed", bad[i]);
        cr_assert_eq(t_err.code, KL_HTTP_SCRIPT_ERR_NAME, "\"%s\"", bad[i]);
        cr_assert_eq(bad[i][t_err.pos], '$', "\"%s\": pos %lu", bad[i],
                     (unsigned long) t_err.pos);
    }

    cr_assert_eq(t_parse("a $ b", 1), KL_ERROR);
    cr_assert_eq(t_err.pos, 2);
}


Test(http_script, an_unclosed_bracket_names_the_variable)
{
    cr_assert_eq(t_parse("x${remote_addr", 0), KL_ERROR);
    cr_assert_eq(t_err.code, KL_HTTP_SCRIPT_ERR_BRACKET);
    cr_assert_eq(t_err.pos, 1);
    cr_assert_eq(t_err.name.len, sizeof("remote_addr") - 1);
    cr_assert(memcmp(t_err.name.data, "remote_addr", 11) == 0);

    /* a byte that is not a name ends it too, as in nginx */
    cr_assert_eq(t_parse("${a b}", 0), KL_ERROR);
    cr_assert_eq(t_err.code, KL_HTTP_SCRIPT_ERR_BRACKET);
    cr_assert_eq(t_err.name.len, 1);
}


Test(http_script, counting_writes_nothing_and_max_is_kept)
{
    kl_http_script_part_t two[2];

    cr_assert_eq(
        kl_http_script_parse((u_char *) "a$b c$d e", 9, 0, NULL, 0, NULL), 5);

    kl_memzero(two, sizeof(two));
    cr_assert_eq(
        kl_http_script_parse((u_char *) "a$b c$d e", 9, 0, two, 2, NULL), 5);
    cr_assert_eq(two[1].type, KL_HTTP_SCRIPT_VAR);
    cr_assert_eq(two[1].text.len, 1);
}


Test(http_script, splitting_anywhere_never_reads_past_the_end)
{
    /* Each prefix of a value parses without reading beyond it. */
    const char *s = "pre${host}:$1$server_port-${x_y}$";
    size_t      len, i;
    kl_int_t    n;
    u_char     *copy;

    len = strlen(s);

    for (i = 0; i <= len; i++) {
        copy = malloc(i ? i : 1);
        cr_assert_not_null(copy);
        memcpy(copy, s, i);

        n = kl_http_script_parse(copy, i, 1, NULL, 0, &t_err);
        cr_assert(n >= 0 || n == KL_ERROR);

        free(copy);
    }
}


Test(http_script, variables_count)
{
    kl_str_t a = kl_string("no variables"), b = kl_string("$a and ${b}");

    cr_assert_eq(kl_http_script_variables_count(&a), 0);
    cr_assert_eq(kl_http_script_variables_count(&b), 2);
}
