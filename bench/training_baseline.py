#!/usr/bin/python3
"""Baselines of the training benchmark (bench/training.ts): scikit-learn and XGBoost.

    training_baseline.py prepare --dataset NAME --out DIR
        Loads a data set, makes ONE seeded split (80/20, stratified for
        classification, random_state=0) and writes, for the TypeScript side to
        train on exactly the same rows:
          X.f32      features, float32 little-endian, row-major [rows x cols]
          y.f64      targets, float64 little-endian (class index for classification)
          train.u32  training row indices, uint32 little-endian, ascending
          test.u32   test row indices, uint32 little-endian, ascending
          meta.json  name, task, rows, cols, classes, trainRows, testRows
        Prints meta.json.

    training_baseline.py fit --data DIR --models M[,M...] [--threads N] [--mlp-epochs N]
        Fits each baseline on the training rows of DIR and prints one JSON line
        per model: test metrics, fit wall and CPU time (time.perf_counter and
        time.process_time around fit() only; scaling and loading are outside),
        iterations, peak RSS of the process, and the thread pools in effect.

Models (every one with the settings the TypeScript side mirrors; no validation
split anywhere, so no early stopping):
  logistic  StandardScaler + LogisticRegression() (lbfgs, C=1, max_iter=100, tol=1e-4)
  ridge     StandardScaler + Ridge(alpha=1.0)
  mlp       StandardScaler + MLPClassifier/MLPRegressor(hidden_layer_sizes=(100,),
            adam, lr 1e-3, batch 200, alpha 1e-4, early_stopping=False,
            max_iter=200 or --mlp-epochs, tol 1e-4, n_iter_no_change 10, random_state=0);
            the regressor on standardised targets (TransformedTargetRegressor with a
            StandardScaler), as ours trains
  hgb       HistGradientBoostingClassifier/Regressor(max_iter=100, learning_rate=0.1,
            max_leaf_nodes=31, max_depth=8, min_samples_leaf=20, l2_regularization=0,
            max_bins=255, early_stopping=False, random_state=0)
  xgboost   XGBClassifier/XGBRegressor(tree_method='hist', n_estimators=100,
            learning_rate=0.1, grow_policy='lossguide', max_leaves=31, max_depth=8,
            max_bin=255, reg_lambda=0, random_state=0, n_jobs=--threads,
            base_score=training mean (regression) or class-1 rate (binary), as HGB and ours start)

--threads N limits BLAS and OpenMP pools (threadpoolctl) and XGBoost's n_jobs;
the caller also sets OMP_NUM_THREADS/OPENBLAS_NUM_THREADS before the start.
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

import numpy as np

DATASETS = ('iris', 'wine', 'breast_cancer', 'digits', 'diabetes', 'classification_1m', 'classification_50k')
SEED = 0
MLP_MAX_ITER = 200


def load(name):
    """(X, y, task) of a named data set."""
    from sklearn import datasets
    if name.startswith('classification_'):
        n = {'classification_1m': 1_000_000, 'classification_50k': 50_000}[name]
        X, y = datasets.make_classification(n_samples=n, n_features=20, n_informative=10, random_state=SEED)
        return X, y, 'classification'
    X, y = getattr(datasets, f'load_{name}')(return_X_y=True)
    return X, y, 'regression' if name == 'diabetes' else 'classification'


def prepare(name, out):
    from sklearn.model_selection import train_test_split
    X, y, task = load(name)
    X = np.ascontiguousarray(X, dtype='<f4')
    y = np.asarray(y, dtype='<f8')
    rows = np.arange(X.shape[0])
    train, test = train_test_split(rows, test_size=0.2, random_state=SEED, stratify=y if task == 'classification' else None)
    train.sort()
    test.sort()
    os.makedirs(out, exist_ok=True)
    X.tofile(os.path.join(out, 'X.f32'))
    y.tofile(os.path.join(out, 'y.f64'))
    train.astype('<u4').tofile(os.path.join(out, 'train.u32'))
    test.astype('<u4').tofile(os.path.join(out, 'test.u32'))
    meta = {
        'name': name,
        'task': task,
        'rows': int(X.shape[0]),
        'cols': int(X.shape[1]),
        'classes': int(y.max()) + 1 if task == 'classification' else 1,
        'trainRows': int(train.size),
        'testRows': int(test.size),
    }
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    print(json.dumps(meta))


def estimator(model, task, threads, mlp_epochs):
    """The unfitted estimator and whether it trains on standardised features."""
    from sklearn import compose, ensemble, linear_model, neural_network, preprocessing
    classification = task == 'classification'
    if model == 'logistic':
        return linear_model.LogisticRegression(), True
    if model == 'ridge':
        return linear_model.Ridge(alpha=1.0), True
    if model == 'mlp':
        if classification:
            return neural_network.MLPClassifier(hidden_layer_sizes=(100,), max_iter=mlp_epochs, early_stopping=False, random_state=SEED), True
        # Ours trains regression on standardised targets; so does this baseline.
        mlp = neural_network.MLPRegressor(hidden_layer_sizes=(100,), max_iter=mlp_epochs, early_stopping=False, random_state=SEED)
        return compose.TransformedTargetRegressor(regressor=mlp, transformer=preprocessing.StandardScaler()), True
    if model == 'hgb':
        cls = ensemble.HistGradientBoostingClassifier if classification else ensemble.HistGradientBoostingRegressor
        return cls(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, max_depth=8, min_samples_leaf=20,
                   l2_regularization=0.0, max_bins=255, early_stopping=False, random_state=SEED), False
    if model == 'xgboost':
        import xgboost
        cls = xgboost.XGBClassifier if classification else xgboost.XGBRegressor
        return cls(tree_method='hist', n_estimators=100, learning_rate=0.1, grow_policy='lossguide', max_leaves=31,
                   max_depth=8, max_bin=255, reg_lambda=0.0, random_state=SEED, n_jobs=threads), False
    raise SystemExit(f'unknown model {model}')


def iterations(model, fitted):
    if model == 'logistic':
        return int(np.max(fitted.n_iter_))
    if model in ('mlp', 'hgb'):
        return int(getattr(fitted, 'regressor_', fitted).n_iter_)
    if model == 'xgboost':
        return int(fitted.get_booster().num_boosted_rounds())
    return 1


def metrics(task, fitted, X_test, y_test, classes):
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
    if task == 'regression':
        return {'r2': float(r2_score(y_test, fitted.predict(X_test)))}
    proba = fitted.predict_proba(X_test)
    result = {'accuracy': float(accuracy_score(y_test, np.argmax(proba, axis=1)))}
    result['rocAuc'] = float(roc_auc_score(y_test, proba[:, 1]) if classes == 2 else roc_auc_score(y_test, proba, multi_class='ovr'))
    return result


def fit(data, models, threads, mlp_epochs):
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info, threadpool_limits
    with open(os.path.join(data, 'meta.json')) as f:
        meta = json.load(f)
    X = np.fromfile(os.path.join(data, 'X.f32'), dtype='<f4').reshape(meta['rows'], meta['cols'])
    y = np.fromfile(os.path.join(data, 'y.f64'), dtype='<f8')
    train = np.fromfile(os.path.join(data, 'train.u32'), dtype='<u4').astype(np.intp)
    test = np.fromfile(os.path.join(data, 'test.u32'), dtype='<u4').astype(np.intp)
    X_train, X_test, y_train, y_test = X[train], X[test], y[train], y[test]
    del X
    task = meta['task']
    if task == 'classification':
        y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    for model in models:
        est, standardise = estimator(model, task, threads, mlp_epochs)
        if model == 'xgboost' and meta['classes'] <= 2:
            # XGBoost 1.7 starts every model at 0.5; start at the training mean / class-1 rate, as HGB and ours do.
            est.set_params(base_score=float(np.mean(y_train)))
        if standardise:
            scaler = StandardScaler().fit(X_train)
            Xtr, Xte = scaler.transform(X_train), scaler.transform(X_test)
        else:
            Xtr, Xte = X_train, X_test
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # ConvergenceWarning: max_iter reached, reported as iterations
            pools = [{'api': p['internal_api'], 'threads': p['num_threads']} for p in threadpool_info()]
            wall, cpu = time.perf_counter(), time.process_time()
            est.fit(Xtr, y_train)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        result = {
            'model': model,
            'seconds': wall,
            'cpuSeconds': cpu,
            'iterations': iterations(model, est),
            'metrics': metrics(task, est, Xte, y_test, meta['classes']),
            'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            'threads': threads,
            'pools': pools,
            'estimator': repr(est).replace('\n', ' '),
        }
        print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('prepare')
    p.add_argument('--dataset', required=True, choices=DATASETS)
    p.add_argument('--out', required=True)
    f = sub.add_parser('fit')
    f.add_argument('--data', required=True)
    f.add_argument('--models', required=True)
    f.add_argument('--threads', type=int, default=os.cpu_count())
    f.add_argument('--mlp-epochs', type=int, default=MLP_MAX_ITER)
    args = parser.parse_args()
    if args.command == 'prepare':
        prepare(args.dataset, args.out)
    else:
        fit(args.data, args.models.split(','), args.threads, args.mlp_epochs)


if __name__ == '__main__':
    sys.exit(main())
