/* Measured accuracy, small: the simulator over a few seeds, asserting the
 * deterministic targets (docs/authenticity.md): every unknown serial,
 * forged or out-of-window signature and reused destroyed code is
 * COUNTERFEIT; every stolen item brought back is red; every tampered
 * history is caught; every recalled item is DO_NOT_USE; no genuine item and
 * no grey-market item is red. The soft targets are printed (the benchmark
 * runs the large set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/authsim.h"

static void test_deterministic_targets(void **state)
{
    (void)state;
    sim_result total;
    memset(&total, 0, sizeof total);
    const uint64_t seeds[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/tnt-authsim-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(dir));
        sim_config cfg = {seeds[i], 300, 0.10, 0.3, 10, dir, getenv("TNT_AUTHSIM_VERBOSE") ? atoi(getenv("TNT_AUTHSIM_VERBOSE")) : 1};
        sim_result r;
        assert_int_equal(sim_run(&cfg, &r), 0);
        sim_add(&total, &r);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
    sim_print(stdout, &total, "authenticity, seeds 1-3, 300 genuine items and 10 per attack each");
    const int exact[] = {SIM_UNKNOWN_SERIAL, SIM_FORGED_SIG, SIM_KEY_WINDOW, SIM_DESTROYED,
                         SIM_STOLEN,         SIM_TAMPERED,   SIM_RECALLED};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        const sim_tally *t = &total.t[exact[i]];
        if (t->scans == 0 || t->hit != t->scans)
            fail_msg("%s: %zu of %zu detected", sim_scenario_name(exact[i]), t->hit, t->scans);
    }
    assert_true(total.t[SIM_GENUINE].scans > 100);
    if (total.t[SIM_GENUINE].hit)
        fail_msg("%zu of %zu genuine scans were red", total.t[SIM_GENUINE].hit, total.t[SIM_GENUINE].scans);
    if (total.t[SIM_VICTIM].hit)
        fail_msg("%zu of %zu scans of genuine items whose code was attacked were red", total.t[SIM_VICTIM].hit,
                 total.t[SIM_VICTIM].scans);
    assert_true(total.t[SIM_GREY].scans > 0);
    assert_int_equal(total.t[SIM_GREY].hit, 0);
    /* every guessing source is flagged within 100 guesses */
    assert_int_equal(total.t[SIM_ENUMERATION].hit, total.t[SIM_ENUMERATION].scans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_deterministic_targets)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
