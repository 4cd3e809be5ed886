/* test_module.c: numbering of the module list (core/module.h). */

#include "kl_core.h"

#include <criterion/criterion.h>


#define T_A_MODULE 0x41414141
#define T_B_MODULE 0x42424242

static kl_module_t t_core1 = { .name = "t_core1", .type = KL_CORE_MODULE };
static kl_module_t t_a1 = { .name = "t_a1", .type = T_A_MODULE };
static kl_module_t t_core2 = { .name = "t_core2", .type = KL_CORE_MODULE };
static kl_module_t t_a2 = { .name = "t_a2", .type = T_A_MODULE };
static kl_module_t t_a3 = { .name = "t_a3", .type = T_A_MODULE };

kl_module_t *kl_modules[] = { &t_core1, &t_a1, &t_core2, &t_a2, &t_a3, NULL };

const char *kl_module_names[] = { "t_core1", "t_a1", "t_core2",
                                  "t_a2",    "t_a3", NULL };


Test(module, index_is_position)
{
    kl_uint_t i;

    cr_assert_eq(kl_modules_init(), 5);

    for (i = 0; kl_modules[i]; i++) {
        cr_assert_eq(kl_modules[i]->index, i);
    }
}


Test(module, ctx_index_counts_per_type)
{
    kl_modules_init();

    cr_assert_eq(t_core1.ctx_index, 0);
    cr_assert_eq(t_core2.ctx_index, 1);
    cr_assert_eq(t_a1.ctx_index, 0);
    cr_assert_eq(t_a2.ctx_index, 1);
    cr_assert_eq(t_a3.ctx_index, 2);
}


Test(module, init_twice_gives_the_same_numbers)
{
    kl_modules_init();
    cr_assert_eq(kl_modules_init(), 5);
    cr_assert_eq(t_a3.index, 4);
    cr_assert_eq(t_a3.ctx_index, 2);
}


Test(module, count_by_type)
{
    cr_assert_eq(kl_modules_count(KL_CORE_MODULE), 2);
    cr_assert_eq(kl_modules_count(T_A_MODULE), 3);
    cr_assert_eq(kl_modules_count(T_B_MODULE), 0);
}
