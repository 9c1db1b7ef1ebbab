#!/usr/bin/python3
"""
test_runners.py -- ctest `selftest`: the test runners' own checks must fail
when they should.  Each case feeds a comparison something wrong (an output of
the wrong shape, one output too few) and expects it to be caught.

    /usr/bin/python3 tests/selftest/test_runners.py

Last line: `selftest: N passed, N failed`.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import numpy as np  # noqa: E402

import harness  # noqa: E402


class Tolerance(unittest.TestCase):
    """harness.tolerance_error and the output count checks."""

    def test_equal_passes(self):
        ref = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
        self.assertIsNone(harness.tolerance_error(ref.copy(), ref, "y")[0])

    def test_shape_that_broadcasts_fails(self):
        ref = np.ones((3, 4), np.float32)
        for got in (np.ones((3, 1), np.float32), np.ones((1, 3, 4), np.float32),
                    np.ones((4,), np.float32), np.ones((), np.float32)):
            why = harness.tolerance_error(got, ref, "y")[0]
            self.assertIsNotNone(why, "shape %s against %s passed" % (got.shape, ref.shape))
            self.assertIn("shape", why)

    def test_transposed_shape_fails(self):
        ref = np.ones((2, 3), np.float32)
        self.assertIsNotNone(harness.tolerance_error(np.ones((3, 2), np.float32), ref, "y")[0])

    def test_outside_tolerance_fails(self):
        ref = np.ones(8, np.float32)
        got = ref.copy()
        got[5] += 1e-3
        self.assertIn("first at [5]", harness.tolerance_error(got, ref, "y")[0])

    def test_nan_fails(self):
        ref = np.ones(8, np.float32)
        got = ref.copy()
        got[2] = np.nan
        self.assertIsNotNone(harness.tolerance_error(got, ref, "y")[0])

    def test_output_count(self):
        a = np.ones(2, np.float32)
        self.assertIsNone(harness.count_error([a, a], [a, a], "fused"))
        self.assertIn("1 outputs", harness.count_error([a], [a, a], "fused"))
        self.assertIn("3 outputs", harness.count_error([a, a, a], [a, a], "fused"))
        self.assertIs(harness.one_output([a]), a)
        self.assertRaises(ValueError, harness.one_output, [a, a])
        self.assertRaises(ValueError, harness.one_output, [])


def main():
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    bad = len(result.failures) + len(result.errors)
    print("selftest: %d passed, %d failed" % (result.testsRun - bad, bad))
    return 1 if bad or not result.testsRun else 0


if __name__ == "__main__":
    sys.exit(main())
