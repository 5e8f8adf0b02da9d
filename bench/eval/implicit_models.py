#!/usr/bin/env python3
"""Trains `implicit` models on a split exported by `model-builder eval --export-split DIR`
and writes their top-20 lists back into DIR for `model-builder eval --external DIR`.

A benchmark, not a test: it needs `pip install implicit` (see side_by_side.sh).

Input (tab separated, with a header):
  DIR/train.tsv   customer  sku  orders  last_time
  DIR/users.tsv   customer
Output, per model: DIR/<model>.all.tsv (owned items may appear) and DIR/<model>.new.tsv
(owned items filtered), each line `customer<TAB>sku<TAB>sku...`, best first.

Confidence is the number of orders holding the item (or 1, or 1 + ln of it). The
hyper-parameters below are the best of a grid run on the UCI test period itself (BM25: K in
20..300, K1, B; ALS: factors 32..256, regularization, alpha, confidence), so the comparison is
generous to the library: our blends were tuned on the 30 days before the test period only.
"""

import argparse
import csv
import os
import sys

# One BLAS thread per process: implicit warns (and slows down) otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.als import AlternatingLeastSquares  # noqa: E402
from implicit.bpr import BayesianPersonalizedRanking  # noqa: E402
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender  # noqa: E402

N = 20


def models(seed):
    """Name -> (factory, confidence transform)."""
    return {
        "implicit-cosine": (lambda: CosineRecommender(K=100), "orders"),
        "implicit-bm25": (lambda: BM25Recommender(K=300, K1=1.2, B=0.75), "orders"),
        "implicit-bm25-k20": (lambda: BM25Recommender(K=20, K1=0.6, B=0.75), "orders"),
        "implicit-als": (
            lambda: AlternatingLeastSquares(factors=64, regularization=0.01, alpha=1.0, iterations=20, random_state=seed),
            "binary",
        ),
        "implicit-als-128": (
            lambda: AlternatingLeastSquares(factors=128, regularization=0.1, alpha=1.0, iterations=20, random_state=seed),
            "orders",
        ),
        "implicit-bpr": (
            lambda: BayesianPersonalizedRanking(factors=64, learning_rate=0.01, regularization=0.01, iterations=100, random_state=seed),
            "binary",
        ),
    }


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--models", default="all", help="comma separated names, or 'all'")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    rows = read_tsv(os.path.join(args.dir, "train.tsv"))
    customers = sorted({r["customer"] for r in rows})
    skus = sorted({r["sku"] for r in rows})
    user_of = {c: i for i, c in enumerate(customers)}
    item_of = {s: i for i, s in enumerate(skus)}
    orders = np.array([float(r["orders"]) for r in rows], dtype=np.float32)
    ui = (np.array([user_of[r["customer"]] for r in rows]), np.array([item_of[r["sku"]] for r in rows]))
    test_users = [r["customer"] for r in read_tsv(os.path.join(args.dir, "users.tsv")) if r["customer"] in user_of]
    test_ids = np.array([user_of[c] for c in test_users])

    available = models(args.seed)
    wanted = list(available) if args.models == "all" else args.models.split(",")
    for name in wanted:
        factory, confidence = available[name]
        values = {"orders": orders, "log": 1.0 + np.log(orders), "binary": np.ones_like(orders)}[confidence]
        user_items = sp.csr_matrix((values, ui), shape=(len(customers), len(skus)), dtype=np.float32)
        model = factory()
        model.fit(user_items, show_progress=False)
        for protocol, filtered in (("all", False), ("new", True)):
            ids, _ = model.recommend(test_ids, user_items[test_ids], N=N, filter_already_liked_items=filtered)
            with open(os.path.join(args.dir, f"{name}.{protocol}.tsv"), "w") as out:
                for customer, items in zip(test_users, ids):
                    out.write("\t".join([customer] + [skus[i] for i in items if i >= 0]) + "\n")
        print(f"{name}: wrote top-{N} lists for {len(test_users)} users", file=sys.stderr)


if __name__ == "__main__":
    main()
