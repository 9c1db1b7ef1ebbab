#!/usr/bin/python3
"""gelu_coeffs.py -- the piecewise polynomials of the vector GELU
(runtime/elementwise/gelu_avx512.h and gelu_avx2.h).

    scripts/gelu_coeffs.py [--check]

erf(|x| / sqrt 2) is split into NI equal intervals of |x| of width W; on
interval i it is a degree-DEG polynomial of the local t = u - i in [0, 1),
u = |x| / W.  Each polynomial is the Chebyshev least-squares fit (300 nodes)
rounded to float.  One layout per SIMD width, as vector permutes look up the
table entries:
    AVX-512: 32 intervals of width 1/4 (|x| < 8: u = 4 |x| is exact),
             degree 4, one two-register permute (32 entries) per coefficient
    AVX2:     8 intervals of width sqrt(2) / 2 (|x| < 4 sqrt 2), degree 6,
             one 8-entry permute per coefficient
Prints the C tables (coefficient k of interval i at [k][i]) and, per layout,
the largest error against erf over 4001 points per interval of Horner's rule
in float with fused multiply-adds.  --check exits 1 if an error exceeds 1e-7.
"""
import sys
from math import erf, sqrt

import numpy as np

LAYOUTS = (("tr_gelu_t32", 32, 4, 0.25), ("tr_gelu_t8", 8, 6, sqrt(2.0) / 2))


def fit(ni, deg, width):
    n = 300
    t = (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1) / 2
    tab, worst = [], 0.0
    for i in range(ni):
        y = np.array([erf((i + v) * width / sqrt(2.0)) for v in t])
        c = np.polynomial.chebyshev.chebfit(2 * t - 1, y, deg)
        p = np.polynomial.Polynomial(np.polynomial.chebyshev.cheb2poly(c))
        cf = np.float32(p(np.polynomial.Polynomial([-1.0, 2.0])).coef)   # in t, s = 2t - 1
        tab.append(cf)
        tt = np.linspace(0, 1, 4001, dtype=np.float32)[:-1]
        r = np.full_like(tt, cf[-1])
        for k in range(deg - 1, -1, -1):       # float fma: exact product and sum, one rounding
            r = np.float32(r.astype(np.float64) * tt.astype(np.float64) + np.float64(cf[k]))
        ex = np.array([erf((i + float(v)) * width / sqrt(2.0)) for v in tt])
        worst = max(worst, float(np.max(np.abs(r - ex))))
    return np.array(tab), worst


def main():
    bad = False
    for name, ni, deg, width in LAYOUTS:
        tab, worst = fit(ni, deg, width)
        print("/* %d intervals, degree %d: |error| <= %.2g against erf */" % (ni, deg, worst))
        print("static const float %s[%d][%d] = {" % (name, deg + 1, ni))
        for k in range(deg + 1):
            vals = ["%.9ef" % v for v in tab[:, k]]
            rows = [", ".join(vals[j:j + 4]) for j in range(0, ni, 4)]
            print("\t{" + ",\n\t ".join(rows) + "},")
        print("};")
        bad = bad or worst > 1e-7
    if "--check" in sys.argv[1:] and bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
