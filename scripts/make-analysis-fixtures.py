#!/usr/bin/python3
"""Fixtures for test/analysis: scikit-learn Lasso solutions (fit_intercept=False) on random
problems (n > p, n < p, correlated columns, alpha above alpha_max, tiny alpha, hidden-state-like,
badly scaled with a zero column), each solved twice: tight (tol=1e-12, max_iter=1e6, the optimum)
and with scikit-learn's defaults (tol=1e-4, max_iter=1000), with n_iter_ for both.

Run with Debian's python (scikit-learn 1.2):  /usr/bin/python3 scripts/make-analysis-fixtures.py
Writes test/fixtures/analysis/lasso-cases.json (deterministic seed; the file is committed).
The analyses' model tests use the engine's test/fixtures/tiny-gpt (scripts/make-fixtures.py).
"""
import json, math, os, sys
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'analysis')


def lasso_cases():
    import warnings
    from sklearn.linear_model import Lasso
    warnings.simplefilter('ignore')
    rng = np.random.default_rng(20241123)
    cases = []

    def add(name, X, y, alpha):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        tight = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=1_000_000).fit(X, y)
        dflt = Lasso(alpha=alpha, fit_intercept=False).fit(X, y)
        cases.append({
            'name': name, 'alpha': alpha, 'X': X.tolist(), 'y': y.tolist(),
            'tight': {'tol': 1e-12, 'max_iter': 1_000_000, 'coef': tight.coef_.tolist(), 'iterations': int(tight.n_iter_)},
            'default': {'tol': 1e-4, 'max_iter': 1000, 'coef': dflt.coef_.tolist(), 'iterations': int(dflt.n_iter_)},
        })

    for i in range(6):  # plain random, n > p
        n, p = int(rng.integers(20, 60)), int(rng.integers(3, 15))
        X = rng.normal(size=(n, p)); w = rng.normal(size=p) * (rng.random(p) < 0.5)
        y = X @ w + 0.1 * rng.normal(size=n)
        amax = np.abs(X.T @ y).max() / n
        add(f'random-{i}', X, y, float(amax * 10 ** rng.uniform(-3, -0.3)))
    for i in range(6):  # n < p, the importance setting (few dimensions, many tokens)
        n, p = int(rng.integers(8, 24)), int(rng.integers(30, 80))
        X = rng.normal(size=(n, p)); y = rng.normal(size=n)
        amax = np.abs(X.T @ y).max() / n
        add(f'wide-{i}', X, y, float(amax * 10 ** rng.uniform(-2, -0.2)))
    for i in range(4):  # strongly correlated columns
        n, p = 40, 12
        base = rng.normal(size=(n, 3))
        X = base[:, rng.integers(0, 3, size=p)] + 0.05 * rng.normal(size=(n, p))
        y = base @ rng.normal(size=3) + 0.1 * rng.normal(size=n)
        amax = np.abs(X.T @ y).max() / n
        add(f'correlated-{i}', X, y, float(amax * 10 ** rng.uniform(-2.5, -0.5)))
    for i in range(2):  # alpha above alpha_max: all zero
        X = rng.normal(size=(30, 10)); y = rng.normal(size=30)
        add(f'all-zero-{i}', X, y, float(np.abs(X.T @ y).max() / 30 * 1.5))
    for i in range(3):  # tiny alpha
        n, p = 50, 8
        X = rng.normal(size=(n, p)); y = X @ rng.normal(size=p) + 0.01 * rng.normal(size=n)
        add(f'tiny-alpha-{i}', X, y, 1e-6)
    # hidden-state-like: columns are earlier tokens' states, y the target's state (D samples)
    for i in range(3):
        D, t = 32, int(rng.integers(10, 60))
        H = rng.normal(size=(t + 1, D)) * 3 + rng.normal(size=D)
        X = H[:-1].T; y = H[-1]
        amax = np.abs(X.T @ y).max() / D
        add(f'states-{i}', X, y, float(amax * 10 ** rng.uniform(-2, -0.5)))
    # scaled data and a zero column
    X = rng.normal(size=(25, 6)) * np.array([1e-3, 1, 10, 100, 1, 0]); y = rng.normal(size=25) * 50
    add('scaled-zero-column', X, y, float(np.abs(X.T @ y).max() / 25 * 0.05))
    with open(os.path.join(ROOT, 'lasso-cases.json'), 'w') as f:
        json.dump(cases, f)
    print(f'wrote {len(cases)} lasso cases')


if __name__ == '__main__':
    os.makedirs(ROOT, exist_ok=True)
    lasso_cases()
