/* The public API as a host uses it: only <tnt/tnt.h>, linked shared and static. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <tnt/tnt.h>

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(tnt_version_number(), TNT_VERSION_NUMBER);
    assert_string_equal(tnt_version_string(), TNT_VERSION_STRING);
    assert_int_equal(TNT_VERSION_NUMBER, TNT_VERSION_MAJOR * 10000 + TNT_VERSION_MINOR * 100 + TNT_VERSION_PATCH);
}

static void test_status_table(void **state)
{
    (void)state;
    const tnt_status_desc *d;
    size_t n;
    assert_int_equal(tnt_status_descs(&d, &n), TNT_OK);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(tnt_status_name(d[i].code), d[i].name);
        assert_string_equal(tnt_status_str(d[i].code), d[i].text);
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(d[i].code, d[j].code);
    }
    assert_string_equal(tnt_status_name(TNT_E_INVALID), "TNT_E_INVALID");
    assert_string_equal(tnt_status_name(-999), "TNT_E_UNKNOWN");
    assert_int_equal(tnt_status_descs(NULL, &n), TNT_E_MISUSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
