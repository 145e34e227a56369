#!/usr/bin/python3
# `lm-probe lasso` (dist/cli.js) against scikit-learn on fresh random problems (not the committed
# fixtures): shapes like the importance regression, duplicate columns, integers, one feature, y = 0,
# alpha = 0, very wide, large and small scales, scikit-learn's default stopping.
#   npm run build && /usr/bin/python3 test/analysis/lasso-vs-sklearn.py [SEED]     (from the repository root)
import json, os, subprocess, tempfile, numpy as np, warnings, sys
DATA = os.path.join(tempfile.mkdtemp(prefix='lm-probe-lasso-'), 'd.json')
from sklearn.linear_model import Lasso
warnings.simplefilter('ignore')
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
worst = 0; rows = []
def run(name, X, y, alpha, tol=1e-12, mi=100000, cli_args=()):
    global worst
    sk = Lasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=mi).fit(X, y)
    json.dump({'X': X.tolist(), 'y': y.tolist()}, open(DATA, 'w'))
    out = subprocess.run(['node', 'dist/cli.js', 'lasso', '--json', '--alpha', repr(alpha), '--data', DATA, *cli_args], capture_output=True, text=True)
    if out.returncode: print(name, 'CLI failed', out.stderr); return
    r = json.loads(out.stdout)
    d = np.max(np.abs(np.array(r['coef']) - sk.coef_)) if X.shape[1] else 0
    worst = max(worst, d)
    print(f'{name:28s} n={X.shape[0]:4d} p={X.shape[1]:4d} diff={d:.2e} it={r["iterations"]}/{sk.n_iter_}')
for i in range(4):
    n, p = 192, int(rng.integers(50, 256)); X = rng.normal(size=(n, p)) * rng.uniform(0.1, 5); y = rng.normal(size=n) * 3
    run(f'states-like-{i}', X, y, float(np.abs(X.T @ y).max() / n * 10 ** rng.uniform(-2, -0.3)))
X = rng.normal(size=(30, 8)); X[:, 3] = X[:, 2]; y = rng.normal(size=30); run('duplicate-columns', X, y, 0.05)
X = rng.integers(-3, 4, size=(20, 5)).astype(float); y = rng.integers(-5, 6, size=20).astype(float); run('integers', X, y, 0.3)
X = rng.normal(size=(15, 1)); y = rng.normal(size=15); run('one-feature', X, y, 0.01)
X = rng.normal(size=(15, 4)); y = np.zeros(15); run('zero-y', X, y, 0.1, mi=1000)
X = rng.normal(size=(40, 6)); y = X @ rng.normal(size=6); run('alpha-zero', X, y, 0.0, mi=5000)
X = rng.normal(size=(5, 60)); y = rng.normal(size=5); run('very-wide', X, y, float(np.abs(X.T @ y).max() / 5 * 0.1))
X = rng.normal(size=(200, 3)) * 1e3; y = rng.normal(size=200) * 1e3; run('large-scale', X, y, 10.0)
X = rng.normal(size=(50, 10)) * 1e-3; y = rng.normal(size=50) * 1e-3; run('small-scale', X, y, 1e-8)
X = rng.normal(size=(60, 20)); y = rng.normal(size=60); run('default-tol', X, y, 0.02, tol=1e-4, mi=1000, cli_args=('--tol', '1e-4', '--max-iter', '1000'))
print('WORST', worst)
