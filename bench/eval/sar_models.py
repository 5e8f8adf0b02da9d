#!/usr/bin/env python3
"""Fits Microsoft Recommenders' own SAR (`recommenders.models.sar.SARSingleNode`) on a split
exported by `model-builder eval --export-split DIR` and writes its top-20 lists back into DIR
for `model-builder eval --external DIR`, so our SAR (`sar:jaccard`, `sar:lift`) and theirs are
scored by the same code. A benchmark, not a test (see sar_check.sh).

Input (tab separated, with a header): DIR/train.tsv `customer sku orders last_time` (one row
per user and item), DIR/users.tsv `customer`. Rating = orders, timestamp = last_time, as our
SAR reads them; time decay on (30-day half-life, time_now = the data's last time), threshold 1:
Microsoft's defaults with `timedecay_formula=True`.
Output: DIR/ms-sar-<similarity>.all.tsv (seen items kept) and .new.tsv (`remove_seen=True`).
"""

import csv
import sys

import numpy as np
import pandas as pd
from recommenders.models.sar.sar_singlenode import SARSingleNode

N = 20
BATCH = 500


def main(directory, similarities):
    train = pd.read_csv(f"{directory}/train.tsv", sep="\t", dtype={"customer": str, "sku": str}, keep_default_na=False)
    train["orders"] = train["orders"].astype(np.float64)
    users = pd.read_csv(f"{directory}/users.tsv", sep="\t", dtype={"customer": str}, keep_default_na=False)["customer"].tolist()
    for similarity in similarities:
        model = SARSingleNode(
            col_user="customer",
            col_item="sku",
            col_rating="orders",
            col_timestamp="last_time",
            similarity_type=similarity,
            time_decay_coefficient=30,
            timedecay_formula=True,
            threshold=1,
        )
        model.fit(train)
        skus = [model.index2item[i] for i in range(model.n_items)]
        sku_rank = np.empty(model.n_items, dtype=np.int64)
        sku_rank[np.argsort(np.array(skus, dtype=object), kind="stable")] = np.arange(model.n_items)
        for protocol, remove_seen in (("all", False), ("new", True)):
            path = f"{directory}/ms-sar-{similarity}.{protocol}.tsv"
            with open(path, "w", newline="") as out:
                writer = csv.writer(out, delimiter="\t", lineterminator="\n")
                for start in range(0, len(users), BATCH):
                    batch = users[start : start + BATCH]
                    scores = np.asarray(model.score(pd.DataFrame({"customer": batch}), remove_seen=remove_seen))
                    # Best first, ties by SKU (as ours: products are indexed in SKU order).
                    top = np.array([np.lexsort((sku_rank, -row))[:N] for row in scores])
                    for row, user in enumerate(batch):
                        items = [model.index2item[i] for i in top[row] if np.isfinite(scores[row, i])]
                        writer.writerow([user] + items)
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["jaccard", "lift"])
