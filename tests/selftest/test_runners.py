#!/usr/bin/python3
"""
test_runners.py -- ctest `selftest`: the test runners' own checks must fail
when they should.  Each case feeds a comparison or a list check something
wrong (an output of the wrong shape, one output too few, a known failure of
another kind, a case lost from the floor) and expects it to be caught.

    /usr/bin/python3 tests/selftest/test_runners.py

Last line: `selftest: N passed, N failed`.
"""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "conformance"))

import numpy as np  # noqa: E402

import harness  # noqa: E402
import run as conformance  # noqa: E402


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


class Conformance(unittest.TestCase):
    """tests/conformance/run.py: the comparison, expected.txt's kinds, the floor."""

    def test_compare(self):
        want = np.arange(6, dtype=np.float32).reshape(2, 3)
        self.assertIsNone(conformance.compare("y", want.copy(), want))
        self.assertIn("shape", conformance.compare("y", want.reshape(3, 2), want))
        self.assertIn("shape", conformance.compare("y", want[:1], want))
        self.assertIn("differ", conformance.compare("y", want + 1, want))
        ints = np.arange(4, dtype=np.int64)
        self.assertIn("shape", conformance.compare("i", ints.reshape(1, 4), ints))

    def verdict(self, status, expected=None, floor=None):
        r = conformance.Result("test_x", status, "why")
        return conformance.verdict(r, expected or {}, floor)

    def test_known_failure(self):
        self.assertEqual(self.verdict("refused", {"test_x": ("refused", "")})[::2], ("XFAIL", False))

    def test_known_failure_of_another_kind(self):
        for got, listed in (("crash", "refused"), ("wrong", "refused"), ("refused", "wrong"),
                            ("build", "wrong")):
            tag, why, bad = self.verdict(got, {"test_x": (listed, "")})
            self.assertTrue(bad, "%s listed as %s did not fail the run" % (got, listed))
            self.assertIn("lists it as [%s]" % listed, why)

    def test_unlisted_failure(self):
        self.assertEqual(self.verdict("wrong")[::2], ("FAIL", True))

    def test_listed_case_passes(self):
        self.assertEqual(self.verdict("pass", {"test_x": ("wrong", "")})[::2], ("XPASS", True))

    def test_floor(self):
        self.assertEqual(self.verdict("pass", floor={"test_x"})[::2], (None, False))
        self.assertEqual(self.verdict("pass", floor=set())[::2], ("NEW", True))
        self.assertEqual(self.verdict("unsupported", floor={"test_x"})[::2], ("LOST", True))
        self.assertEqual(self.verdict("wrong", floor={"test_x"})[::2], ("FAIL", True))
        self.assertEqual(self.verdict("unsupported", floor=set())[::2], ("UNSUPPORTED", False))
        self.assertEqual(self.verdict("unsupported")[::2], ("UNSUPPORTED", False))

    def test_expected_needs_a_kind(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# comment\ntest_a  refused  opset 1\ntest_b  opset 1 model\n")
        try:
            with self.assertRaisesRegex(ValueError, ":3: "):
                conformance.read_expected(f.name)
        finally:
            os.unlink(f.name)

    def test_write_passing_keeps_what_was_not_run(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "passing.txt")
            with open(p, "w") as f:
                f.write("test_a\ntest_b\ntest_c\n")
            rs = [conformance.Result("test_b", "unsupported"), conformance.Result("test_d", "pass")]
            self.assertEqual(conformance.write_passing(p, rs), 3)
            self.assertEqual(conformance.read_passing(p), {"test_a", "test_c", "test_d"})


class Isa(unittest.TestCase):
    """harness.kernel_isa: -DTR_NO_SIMD is plain C99 whatever -march says."""

    def test_plain(self):
        self.assertEqual(harness.kernel_isa(["cc", "-march=native", "-DTR_NO_SIMD"]), harness.PLAIN)
        self.assertEqual(harness.isa_build(["cc"], "plain")[1], harness.PLAIN)

    def test_named_isa(self):  # an x86 host, as ctest paths assumes
        self.assertEqual(harness.kernel_isa(["cc", "-mavx2", "-mfma"]), "avx2+fma")
        self.assertEqual(harness.kernel_isa(["cc", "-mavx512f"]), "avx512f")


def main():
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    bad = len(result.failures) + len(result.errors)
    print("selftest: %d passed, %d failed" % (result.testsRun - bad, bad))
    return 1 if bad or not result.testsRun else 0


if __name__ == "__main__":
    sys.exit(main())
