/* test_limit_req.c: limit_req's leaky bucket (modules/limit_req.c) on a clock the test sets: passes, delays to the millisecond, refusals, delay=, r/m, dry run, an empty key. */

#include "kl_test_http.h"


/* r->main->limit_req_status, as modules/limit_req.c numbers them. */
#define KL_TEST_PASSED           1
#define KL_TEST_DELAYED          2
#define KL_TEST_REJECTED         3
#define KL_TEST_REJECTED_DRY_RUN 5

/* Any start: the accounting only reads differences. */
#define KL_TEST_T 1000000


static kl_http_request_t *
kl_test_setup(kl_test_http_t *t, const char *zone, const char *limit)
{
    char               conf[1024];
    kl_http_request_t *r;
    static kl_cycle_t  none;

    snprintf(conf, sizeof(conf),
             "error_log logs/error.log info;\n"
             "events { }\n"
             "http {\n"
             "    limit_req_zone $http_x_key zone=one:1m %s;\n"
             "    server {\n"
             "        listen 127.0.0.1:1;\n"
             "        location / { %s }\n"
             "    }\n"
             "}\n",
             zone, limit);

    cr_assert_not_null(kl_test_http_cycle(t, "limit_req", conf));

    /* kiln -t maps no zone: map them as the master does, with no
     * previous cycle's zones to reuse. */
    cr_assert_eq(
        kl_list_init(&none.shm_zones, t->cycle->pool, 1, sizeof(kl_shm_zone_t)),
        KL_OK);
    cr_assert_eq(kl_shm_zones_map(t->cycle, &none), KL_OK);

    r = kl_test_http_request(t, "/", "", 0);
    (void) kl_test_http_header(r, "X-Key", "k");

    return r;
}


/*
 * The same request, once more, as a new one would come: at now, with no
 * verdict yet and no delay pending. The preaccess handlers in turn (the
 * last registered runs first, as the phase engine runs them): the first
 * that does not decline, or KL_DECLINED.
 */
static kl_int_t
kl_test_run(kl_http_request_t *r, kl_msec_t now)
{
    kl_int_t                  rc;
    kl_uint_t                 i;
    kl_http_handler_pt       *h;
    kl_http_core_main_conf_t *cmcf;

    kl_loop.clock.msec = now;

    if (r->connection->write->timer_set) {
        kl_event_del_timer(r->connection->write);
    }

    r->connection->write->delayed = 0;
    r->main->limit_req_status = 0;

    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
    h = cmcf->phases[KL_HTTP_PREACCESS_PHASE].elts;

    for (i = cmcf->phases[KL_HTTP_PREACCESS_PHASE].nelts; i > 0; i--) {
        rc = h[i - 1](r);
        if (rc != KL_DECLINED) {
            return rc;
        }
    }

    return KL_DECLINED;
}


/* The delay the request waits, in ms from now (it must be delayed). */
static kl_msec_t
kl_test_delay(kl_http_request_t *r)
{
    kl_event_t *wev = r->connection->write;

    cr_assert(wev->delayed);
    cr_assert(wev->timer_set);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_DELAYED);

    return wev->timer.key - kl_now();
}


static void
kl_test_done(kl_test_http_t *t, kl_http_request_t *r)
{
    if (r->connection->write->timer_set) {
        kl_event_del_timer(r->connection->write);
    }

    kl_test_http_clean(t);
}


Test(limit_req, first_passes_then_delayed_by_the_excess)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=10r/s", "limit_req zone=one burst=5;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_PASSED);

    /* 1.000 over at once: 100 ms at 10 r/s. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_AGAIN);
    cr_assert_eq(kl_test_delay(r), 100);

    /* 50 ms later: 1.000 - 0.500 + 1 = 1.500, 150 ms. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T + 50), KL_AGAIN);
    cr_assert_eq(kl_test_delay(r), 150);

    /* Drained for long enough: passes at once again. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T + 10000), KL_DECLINED);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_PASSED);

    kl_test_done(&t, r);
}


Test(limit_req, beyond_burst_refused_and_not_charged)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=1r/s", "limit_req zone=one burst=2 nodelay;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_PASSED);

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_HTTP_SERVICE_UNAVAILABLE);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_REJECTED);

    /* The refusal was not charged: 2.000 drained by 1.000, plus 1. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T + 1000), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T + 1000), KL_HTTP_SERVICE_UNAVAILABLE);

    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "limiting requests, excess: 3.000 by zone "
                              "\"one\""));

    kl_test_done(&t, r);
}


Test(limit_req, delay_parameter)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=1r/s", "limit_req zone=one burst=5 delay=2;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);

    /* 3.000, 1.000 beyond delay=2: a second. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_AGAIN);
    cr_assert_eq(kl_test_delay(r), 1000);

    kl_test_done(&t, r);
}


Test(limit_req, rate_per_minute)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=30r/m", "limit_req zone=one burst=1;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);

    /* A second drains 0.500 at 30 r/m: 0.500 left, another second. */
    cr_assert_eq(kl_test_run(r, KL_TEST_T + 1000), KL_AGAIN);
    cr_assert_eq(kl_test_delay(r), 1000);

    kl_test_done(&t, r);
}


Test(limit_req, dry_run_refuses_nothing)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=1r/s",
                      "limit_req zone=one; limit_req_dry_run on;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(r->main->limit_req_status, KL_TEST_REJECTED_DRY_RUN);
    cr_assert(!r->connection->write->timer_set);

    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "limiting requests, dry run, excess: 1.000"));

    kl_test_done(&t, r);
}


Test(limit_req, empty_key_not_accounted)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=1r/s", "limit_req zone=one;");

    /* The header is there, empty. */
    r->headers_in.headers.part.nelts = 0;
    (void) kl_test_http_header(r, "X-Key", "");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(r->main->limit_req_status, 0);

    kl_test_done(&t, r);
}


Test(limit_req, status_code)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_setup(&t, "rate=1r/s",
                      "limit_req zone=one; limit_req_status 429;");

    cr_assert_eq(kl_test_run(r, KL_TEST_T), KL_DECLINED);
    cr_assert_eq(kl_test_run(r, KL_TEST_T), 429);

    kl_test_done(&t, r);
}
