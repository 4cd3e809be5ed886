/* test_event_timer.c: deadlines, lazy re-arm, expiry order, wrap, cancelable. */

#include <criterion/criterion.h>

#include "kl_core.h"

#define NEV 64

static kl_event_t ev[NEV];
static int        fired[NEV];
static int        order[NEV];
static int        nfired;


static void
handler(kl_event_t *e)
{
    int i = (int) (e - ev);

    cr_assert(e->timedout, "a timer's handler runs with timedout set");
    cr_assert(!e->timer_set, "a fired timer is out of the tree");
    fired[i]++;
    order[nfired++] = i;
}


static void
setup(void)
{
    memset(ev, 0, sizeof(ev));
    memset(fired, 0, sizeof(fired));
    nfired = 0;

    for (int i = 0; i < NEV; i++) {
        ev[i].handler = handler;
    }

    kl_event_timer_init(&kl_loop.timers, &kl_loop.timer_sentinel);
    kl_loop.clock.msec = 1000;
}


TestSuite(event_timer, .init = setup);


Test(event_timer, empty_tree)
{
    cr_assert_eq(kl_event_find_timer(), KL_TIMER_INFINITE);
    cr_assert(kl_event_no_timers_left());
    kl_event_expire_timers();
    cr_assert_eq(nfired, 0);
}


Test(event_timer, nearest_deadline_and_expiry_in_order)
{
    kl_event_add_timer(&ev[0], 500);
    kl_event_add_timer(&ev[1], 100);
    kl_event_add_timer(&ev[2], 2000);

    cr_assert_eq(kl_event_find_timer(), 100);

    kl_loop.clock.msec += 99;
    kl_event_expire_timers();
    cr_assert_eq(nfired, 0, "nothing is due 1 ms early");
    cr_assert_eq(kl_event_find_timer(), 1);

    kl_loop.clock.msec += 1;
    kl_event_expire_timers();
    cr_assert_eq(nfired, 1);
    cr_assert_eq(order[0], 1);

    /* A late loop: both past deadlines fire in deadline order, once. */
    kl_loop.clock.msec += 5000;
    cr_assert_eq(kl_event_find_timer(), 0, "a past deadline waits 0 ms");
    kl_event_expire_timers();
    cr_assert_eq(nfired, 3);
    cr_assert_eq(order[1], 0);
    cr_assert_eq(order[2], 2);
    cr_assert_eq(fired[0] + fired[1] + fired[2], 3);
    cr_assert_eq(kl_event_find_timer(), KL_TIMER_INFINITE);
}


Test(event_timer, lazy_rearm)
{
    kl_event_add_timer(&ev[0], 1000);
    cr_assert_eq(ev[0].timer.key, 2000);

    /* Moving by less than the lazy delay keeps the old deadline. */
    kl_loop.clock.msec += KL_TIMER_LAZY_DELAY - 1;
    kl_event_add_timer(&ev[0], 1000);
    cr_assert_eq(ev[0].timer.key, 2000);

    /* By the lazy delay or more, it moves. */
    kl_loop.clock.msec += 1;
    kl_event_add_timer(&ev[0], 1000);
    cr_assert_eq(ev[0].timer.key, 2000 + KL_TIMER_LAZY_DELAY);

    /* Shortening by more than the delay moves it too. */
    kl_event_add_timer(&ev[0], 10);
    cr_assert_eq(kl_event_find_timer(), 10);
}


Test(event_timer, delete_before_deadline)
{
    kl_event_add_timer(&ev[0], 10);
    kl_event_add_timer(&ev[1], 20);
    kl_event_del_timer(&ev[0]);
    cr_assert(!ev[0].timer_set);

    kl_loop.clock.msec += 100;
    kl_event_expire_timers();
    cr_assert_eq(fired[0], 0, "a deleted timer never fires");
    cr_assert_eq(fired[1], 1);
}


Test(event_timer, rearm_after_firing)
{
    /* A fired timer armed again waits for its new deadline. */
    kl_event_add_timer(&ev[0], 10);
    kl_loop.clock.msec += 10;
    kl_event_expire_timers();
    cr_assert_eq(fired[0], 1);

    kl_event_add_timer(&ev[0], 10);
    kl_event_expire_timers();
    cr_assert_eq(fired[0], 1);
    kl_loop.clock.msec += 10;
    kl_event_expire_timers();
    cr_assert_eq(fired[0], 2);
}


Test(event_timer, clock_wrap)
{
    /* Deadlines compare by signed difference: a clock near the top of
     * its range still orders a deadline past the wrap after one before it. */
    kl_loop.clock.msec = (kl_msec_t) -50;
    kl_event_add_timer(&ev[0], 100);
    kl_event_add_timer(&ev[1], 10);

    cr_assert_eq(kl_event_find_timer(), 10);

    kl_loop.clock.msec += 10;
    kl_event_expire_timers();
    cr_assert_eq(nfired, 1);
    cr_assert_eq(order[0], 1);

    kl_loop.clock.msec += 89;
    kl_event_expire_timers();
    cr_assert_eq(nfired, 1, "the deadline past the wrap is 1 ms away");

    kl_loop.clock.msec += 1;
    kl_event_expire_timers();
    cr_assert_eq(nfired, 2);
    cr_assert_eq(order[1], 0);
}


Test(event_timer, cancelable_timers_let_a_worker_quit)
{
    ev[0].cancelable = 1;
    kl_event_add_timer(&ev[0], 10);
    cr_assert(kl_event_no_timers_left(), "only a cancelable timer is left");

    kl_event_add_timer(&ev[1], 20);
    cr_assert(!kl_event_no_timers_left(), "a request's timer holds the exit");

    kl_event_del_timer(&ev[1]);
    cr_assert(kl_event_no_timers_left());
}


Test(event_timer, many_equal_deadlines)
{
    for (int i = 0; i < NEV; i++) {
        kl_event_add_timer(&ev[i], 50);
    }

    kl_loop.clock.msec += 50;
    kl_event_expire_timers();
    cr_assert_eq(nfired, NEV);

    for (int i = 0; i < NEV; i++) {
        cr_assert_eq(fired[i], 1, "timer %d fired once", i);
    }
}
