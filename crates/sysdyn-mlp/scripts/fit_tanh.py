"""Fits the rational tanh of src/kernels.rs: tanh(x) ~ x P(x^2) / Q(x^2) on 0 < x <= 9, with P of
degree 6 and Q = 1 + q1 s + q2 s^2 + q3 s^3, for small *relative* error.

Method: the linearised problem x P(s) - tanh(x) Q(s) = 0 solved by weighted least squares, with
the weight 1 / (tanh(x) Q_previous(s)) (Sanathanan-Koerner iteration, so that the residual is the
relative error), and from the sixth iteration on Lawson's reweighting (each point's weight times
its error), which drives the fit towards the minimax one. Needs only mpmath (`pip install mpmath`).

    python3 scripts/fit_tanh.py

prints the maximum relative error of each iteration (about 1e-8 at the end, in exact
arithmetic) and the coefficients p0..p6, q1..q3.
"""

import math

import mpmath as mp

mp.mp.dps = 30
NP, NQ = 7, 3
# Denser near 0, where the relative error is hardest to keep small.
XS = [9.0 * (i / 600.0) ** 1.5 for i in range(1, 601)]


def rational(c, x):
    s = x * x
    p = sum(c[k] * s**k for k in range(NP))
    q = 1 + sum(c[NP + k - 1] * s**k for k in range(1, NQ + 1))
    return x * p / q, q


def main():
    q_previous = [1.0] * len(XS)
    lawson = [1.0] * len(XS)
    coefficients = None
    for iteration in range(40):
        rows, rhs = [], []
        for i, x in enumerate(XS):
            t, s = math.tanh(x), x * x
            w = lawson[i] / (t * q_previous[i])
            rows.append([w * x * s**k for k in range(NP)] + [-w * t * s**k for k in range(1, NQ + 1)])
            rhs.append(w * t)
        solution, _ = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))
        coefficients = [float(solution[k]) for k in range(NP + NQ)]
        errors = []
        for i, x in enumerate(XS):
            value, q = rational(coefficients, x)
            q_previous[i] = q
            errors.append(abs(value / math.tanh(x) - 1))
        if iteration >= 5:
            lawson = [lawson[i] * (errors[i] + 1e-18) for i in range(len(XS))]
            total = sum(lawson)
            lawson = [v / total * len(XS) for v in lawson]
        print(f"iteration {iteration}: max relative error {max(errors):.3e}")
    print("p0..p6 =", coefficients[:NP])
    print("q1..q3 =", coefficients[NP:])


if __name__ == "__main__":
    main()
