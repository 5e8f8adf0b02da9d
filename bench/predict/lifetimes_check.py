"""Checks model-builder's predictive models against lifetimes 0.11.3 (scripts/check-lifetimes.sh).

Arguments: OURS.csv OURS.json THEIRS_AT.sh
  OURS.csv / OURS.json: `model-builder eval --predict --holdout-days 0 --summaries OURS.csv --json`
  (the summaries of the UCI export as customer x day purchases, our fit, our predictions).
  THEIRS_AT.sh: a command that, given "r,alpha,a,b" and "p,q,v", prints the same CSV and JSON
  at those parameters (our code at lifetimes' parameters).

lifetimes' own summary helper breaks on pandas 2, so its input frame is our CSV's columns.
Requires: our log-likelihood >= theirs - 1e-6 (both models); ours at their parameters equals
theirs to 1e-9 relative; per-customer p_alive, conditional expected purchases (30/90/365 days),
Gamma-Gamma expected value and CLV within 1e-3 relative, between the two fits.
"""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

ours_csv, ours_json, at_cmd = sys.argv[1], sys.argv[2], sys.argv[3]
df = pd.read_csv(ours_csv, dtype={"customer_id": str})
ours = json.load(open(ours_json))
failures = []


def check(what, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")
    if not ok:
        failures.append(what)


def theirs_ll(fitter_cls, params, *columns):
    """Their summed log-likelihood at `params`, in days (their fit scales time; this does not)."""
    n = len(columns[0])
    weights = np.ones(n)
    return -fitter_cls._negative_log_likelihood(np.log(params), *columns, weights, 0.0) * n


f, r, T, m = (df[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
bgf = BetaGeoFitter().fit(f, r, T)
bg_params = bgf.params_[["r", "alpha", "a", "b"]].to_numpy()
repeat = (f > 0) & (m > 0)
ggf = GammaGammaFitter().fit(f[repeat], m[repeat])
gg_params = ggf.params_[["p", "q", "v"]].to_numpy()
print("lifetimes BG/NBD", dict(zip(["r", "alpha", "a", "b"], bg_params)))
print("lifetimes Gamma-Gamma", dict(zip(["p", "q", "v"], gg_params)))

ll_bg = theirs_ll(BetaGeoFitter, bg_params, f, r, T)
ll_gg = theirs_ll(GammaGammaFitter, gg_params, f[repeat], m[repeat])
our_bg, our_gg = ours["fits"]["bgnbd"]["Ok"], ours["fits"]["gamma_gamma"]["Ok"]
check("BG/NBD log-likelihood >= lifetimes' - 1e-6", our_bg["log_likelihood"] >= ll_bg - 1e-6, f"ours {our_bg['log_likelihood']:.9f}, theirs {ll_bg:.9f}")
check("Gamma-Gamma log-likelihood >= lifetimes' - 1e-6", our_gg["log_likelihood"] >= ll_gg - 1e-6, f"ours {our_gg['log_likelihood']:.9f}, theirs {ll_gg:.9f}")

# Our code at their parameters.
at = subprocess.run([at_cmd, ",".join(map(repr, bg_params)), ",".join(map(repr, gg_params))], check=True, capture_output=True, text=True).stdout
at_json = json.loads(at)
for name, ours_at, theirs in [("BG/NBD", at_json["fits"]["bgnbd"]["Ok"]["log_likelihood"], ll_bg), ("Gamma-Gamma", at_json["fits"]["gamma_gamma"]["Ok"]["log_likelihood"], ll_gg)]:
    rel = abs(ours_at - theirs) / abs(theirs)
    check(f"{name} log-likelihood at lifetimes' parameters, 1e-9 relative", rel <= 1e-9, f"ours {ours_at:.12f}, theirs {theirs:.12f}, rel {rel:.2e}")

at_df = pd.read_csv(ours_csv.replace(".csv", ".at.csv"), dtype={"customer_id": str})
theirs = pd.DataFrame({"p_alive": bgf.conditional_probability_alive(f, r, T)})
for t in (30, 90, 365):
    theirs[f"expected_{t}"] = bgf.conditional_expected_number_of_purchases_up_to_time(t, f, r, T)
theirs["expected_value"] = ggf.conditional_expected_average_profit(pd.Series(f), pd.Series(m)).to_numpy()
theirs["clv"] = ggf.customer_lifetime_value(bgf, pd.Series(f), pd.Series(r), pd.Series(T), pd.Series(m), time=12, discount_rate=0.01, freq="D").to_numpy()


def worst(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


for col in ("p_alive", "expected_30", "expected_90", "expected_365", "expected_value", "clv"):
    same = worst(at_df[col], theirs[col])
    check(f"{col} at lifetimes' parameters, 1e-9 relative", same <= 1e-9, f"worst {same:.2e}")
    fits = worst(df[col], theirs[col])
    check(f"{col}, our fit against lifetimes' fit, 1e-3 relative", fits <= 1e-3, f"worst {fits:.2e}")

sys.exit(1 if failures else 0)
