/* files.c: file reads and writes, path joins and include globs; no logging. */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "files.h"

#include <glob.h>


ssize_t
kl_read_file(kl_file_t *file, u_char *buf, size_t size, off_t offset)
{
    ssize_t n;

    for (;;) {
        n = pread(file->fd, buf, size, offset);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        break;
    }

    if (n > 0) {
        file->offset = offset + n;
    }

    return n;
}


ssize_t
kl_write_fd_all(kl_fd_t fd, const void *buf, size_t n)
{
    ssize_t       w;
    size_t        written;
    const u_char *p;

    p = buf;
    written = 0;

    while (written < n) {
        w = write(fd, p + written, n - written);

        if (w == -1) {
            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        written += (size_t) w;
    }

    return (ssize_t) written;
}


/*
 * A prefix without a trailing slash gets one, so "conf" and "conf/" join
 * a name alike; an empty prefix leaves the name relative.
 */
kl_int_t
kl_file_full_name(kl_pool_t *pool, kl_str_t *prefix, kl_str_t *name)
{
    u_char *p, *data;
    size_t  len, slash;

    if (name->len && name->data[0] == '/') {
        data = kl_pstrdup(pool, name);
        if (data == NULL) {
            return KL_ERROR;
        }

        name->data = data;

        return KL_OK;
    }

    slash = (prefix->len && prefix->data[prefix->len - 1] != '/') ? 1 : 0;
    len = prefix->len + slash + name->len;

    data = kl_pnalloc(pool, len + 1);
    if (data == NULL) {
        return KL_ERROR;
    }

    p = data;

    if (prefix->len) {
        p = kl_cpymem(p, prefix->data, prefix->len);
    }

    if (slash) {
        *p++ = '/';
    }

    if (name->len) {
        p = kl_cpymem(p, name->data, name->len);
    }

    *p = '\0';

    name->len = len;
    name->data = data;

    return KL_OK;
}


void
kl_file_dirname(kl_str_t *path, kl_str_t *dir)
{
    size_t n;

    dir->data = path->data;

    for (n = path->len; n; n--) {
        if (path->data[n - 1] == '/') {
            break;
        }
    }

    dir->len = n;
}


/*
 * No match is an error (errno ENOENT) unless gl->test: that is how a
 * missing plain name is caught, since glob(3) matches an existing one.
 */
kl_int_t
kl_glob_open(kl_glob_t *gl)
{
    int     rc;
    glob_t *g;

    g = kl_calloc(sizeof(glob_t), NULL);
    if (g == NULL) {
        return KL_ERROR;
    }

    gl->pglob = g;
    gl->n = 0;
    gl->next = 0;

    rc = glob((char *) gl->pattern.data, 0, NULL, g);

    if (rc == 0) {
        gl->n = g->gl_pathc;
        return KL_OK;
    }

    if (rc == GLOB_NOMATCH) {
        if (gl->test) {
            return KL_OK;
        }

        errno = ENOENT;
        return KL_ERROR;
    }

    errno = (rc == GLOB_NOSPACE) ? ENOMEM : EIO;

    return KL_ERROR;
}


kl_int_t
kl_glob_next(kl_glob_t *gl, kl_str_t *name)
{
    glob_t *g;

    g = gl->pglob;

    if (g == NULL || gl->next >= gl->n) {
        return KL_DONE;
    }

    name->data = (u_char *) g->gl_pathv[gl->next];
    name->len = kl_strlen(name->data);
    gl->next++;

    return KL_OK;
}


void
kl_glob_close(kl_glob_t *gl)
{
    glob_t *g;

    g = gl->pglob;

    if (g == NULL) {
        return;
    }

    globfree(g);
    kl_free(g);

    gl->pglob = NULL;
    gl->n = 0;
    gl->next = 0;
}


kl_uint_t
kl_glob_is_pattern(kl_str_t *name)
{
    size_t i;

    for (i = 0; i < name->len; i++) {
        switch (name->data[i]) {
        case '*':
        case '?':
        case '[':
            return 1;
        }
    }

    return 0;
}
