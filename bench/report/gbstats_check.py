"""Recomputes `model-builder report --json`'s statistics with GrowthBook's gbstats from the
report's own per-arm aggregates, and fails unless every number agrees to TOLERANCE.

    python gbstats_check.py report.json [report.json ...]

Per experiment, per treatment arm, per metric (ctr: RatioStatistic, conversion:
ProportionStatistic, revenuePerUnit: SampleMeanStatistic), against the control arm:
  - frequentist: gbstats.frequentist.tests.TwoSidedTTest with
    FrequentistConfig(difference_type="relative", alpha=0.05): lift, CI bounds, p-value;
  - Bayesian: gbstats.bayesian.tests.EffectBayesianABTest with
    EffectBayesianConfig(difference_type="relative", alpha=0.05, prior_type="relative",
    prior_effect=GaussianPrior(mean=0, variance=1, proper=False)): chance to win and credible
    interval;
and per experiment gbstats.utils.check_srm(units, weights).
"""

import json
import sys

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

TOLERANCE = 1e-6
FREQUENTIST = FrequentistConfig(difference_type="relative", alpha=0.05)
BAYESIAN = EffectBayesianConfig(
    difference_type="relative",
    alpha=0.05,
    prior_type="relative",
    prior_effect=GaussianPrior(mean=0, variance=1, proper=False),
)


def statistic(s):
    n = s["n"]
    if s["kind"] == "proportion":
        return ProportionStatistic(n=n, sum=s["sum"])
    if s["kind"] == "mean":
        return SampleMeanStatistic(n=n, sum=s["sum"], sum_squares=s["sumSquares"])
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n=n, sum=s["sum"], sum_squares=s["sumSquares"]),
        d_statistic=SampleMeanStatistic(n=n, sum=s.get("denSum", 0.0), sum_squares=s.get("denSumSquares", 0.0)),
        m_d_sum_of_products=s.get("sumProducts", 0.0),
    )


def main(paths):
    failures, compared, worst = [], 0, 0.0

    def check(where, ours, theirs):
        nonlocal compared, worst
        compared += 1
        worst = max(worst, abs(ours - theirs) / max(1.0, abs(theirs)))
        if not abs(ours - theirs) <= TOLERANCE * max(1.0, abs(theirs)):
            failures.append(f"{where}: report {ours!r}, gbstats {theirs!r}")

    for path in paths:
        with open(path) as f:
            report = json.load(f)
        for e in report["experiments"]:
            key = f"{path}: {e['key']}"
            units = [a["units"] for a in e["arms"]]
            check(f"{key} srm p-value", e["srm"]["pValue"], float(check_srm(units, e["srm"]["weights"])))
            control = e["arms"][0]
            for arm in e["arms"][1:]:
                for name, m in arm["metrics"].items():
                    where = f"{key} {arm['arm']} {name}"
                    a, b = statistic(control["metrics"][name]["summary"]), statistic(m["summary"])
                    freq = TwoSidedTTest(a, b, FREQUENTIST).compute_result()
                    bayes = EffectBayesianABTest(a, b, BAYESIAN).compute_result()
                    lift = m.get("lift")
                    if freq.error_message or bayes.error_message:
                        if lift is not None:
                            failures.append(f"{where}: gbstats gives no result ({freq.error_message or bayes.error_message}), the report a lift")
                        continue
                    if lift is None:
                        failures.append(f"{where}: the report gives no lift ({m.get('note')}), gbstats {freq.expected}")
                        continue
                    check(f"{where} lift", lift["relative"], freq.expected)
                    check(f"{where} ci low", lift["ciLow"], freq.ci[0])
                    check(f"{where} ci high", lift["ciHigh"], freq.ci[1])
                    check(f"{where} p-value", lift["pValue"], freq.p_value)
                    check(f"{where} chance to beat control", lift["chanceToBeatControl"], bayes.chance_to_win)
                    check(f"{where} credible low", lift["credLow"], bayes.ci[0])
                    check(f"{where} credible high", lift["credHigh"], bayes.ci[1])
    for f in failures:
        print("MISMATCH", f)
    print(f"gbstats check: {compared} numbers compared, {len(failures)} differ by more than {TOLERANCE} (largest difference {worst:.1e})")
    if compared == 0:
        print("nothing compared: no experiment with a treatment arm in the reports")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
