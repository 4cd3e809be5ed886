/*
 * module.c: the module registry: numbering the generated kl_modules[] list.
 *
 * kl_modules[] (objs/kl_modules.c, ended by NULL) fixes the order; a
 * module's index addresses the cycle's conf_ctx, its ctx_index the conf
 * arrays of its own type (one slot per HTTP module in a location, say).
 */

#include "kl_core.h"


/* Asked for every request (r->ctx): the list is fixed once numbered. */
static kl_uint_t kl_modules_count_type;
static kl_uint_t kl_modules_count_n;


kl_uint_t
kl_modules_init(void)
{
    kl_uint_t i, j, n;

    kl_modules_count_type = 0;

    for (i = 0; kl_modules[i]; i++) {
        n = 0;

        for (j = 0; j < i; j++) {
            if (kl_modules[j]->type == kl_modules[i]->type) {
                n++;
            }
        }

        kl_modules[i]->index = i;
        kl_modules[i]->ctx_index = n;
    }

    return i;
}


kl_uint_t
kl_modules_count(kl_uint_t type)
{
    kl_uint_t i, n;

    if (type == kl_modules_count_type && type != 0) {
        return kl_modules_count_n;
    }

    n = 0;

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->type == type) {
            n++;
        }
    }

    kl_modules_count_type = type;
    kl_modules_count_n = n;

    return n;
}
