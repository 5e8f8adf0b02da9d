#!/usr/bin/env bash
# Fuzzes Vitrine's parsers and renderers with cargo-fuzz (libFuzzer): the targets in fuzz/
# (RELIABILITY.md says what each checks).
#   scripts/fuzz.sh [SECONDS [TARGET…]]
#                               every target (or those named) for SECONDS (default 60): new inputs are kept in
#                               fuzz/target/corpus/<target> (not committed), crashes in
#                               fuzz/artifacts/<target>/; exits non-zero if any target crashed
#   scripts/fuzz.sh --replay    CI: every committed seed (fuzz/corpus/<target>), then a bounded
#                               number of mutations of them (FUZZ_RUNS, default 1000) per target
# Built by the pinned stable compiler with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags; no
# nightly can be downloaded here). FUZZ_SANITIZER=address for ASan (slower to build and run;
# default none: the code is safe Rust, the checks that matter are panics, overflow checks and
# debug assertions, all on in fuzz/Cargo.toml's profile).
# Reproduce a crash: fuzz/target/x86_64-unknown-linux-gnu/release/<target> <artifact file>
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export RUSTC_BOOTSTRAP=1

TARGETS=(bundle events cookies tokens render conditions csv_ingest)
mode=time secs=60
case "${1:-}" in
  --replay) mode=replay ;;
  "") ;;
  *[!0-9]* | 0) echo "usage: scripts/fuzz.sh [SECONDS [TARGET…] | --replay]" >&2; exit 2 ;;
  *) secs=$1 ;;
esac
[ $# -gt 1 ] && TARGETS=("${@:2}")

cd fuzz
sanitizer=${FUZZ_SANITIZER:-none}
# The replay builds unoptimised (fuzz/Cargo.toml's dev profile, the same checks): on CI's two
# cores that build is what the stage's time goes to, and a few thousand runs need no speed.
if [ $mode = replay ]; then profile=(--dev) dir=debug; else profile=(--release) dir=release; fi
mkdir -p target
echo "==> cargo fuzz build ${profile[*]} --sanitizer $sanitizer" >&2
if ! cargo fuzz build "${profile[@]}" --sanitizer "$sanitizer" >target/build.log 2>&1; then
  cat target/build.log >&2
  echo "fuzz build failed" >&2
  exit 1
fi
grep -E '^\s*(Finished|warning)' target/build.log >&2 || true
bin=target/x86_64-unknown-linux-gnu/$dir

failed=()
printf '%-12s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft result >&2
for t in "${TARGETS[@]}"; do
  scratch=target/corpus/$t log=target/logs/$t.log
  mkdir -p "$scratch" "artifacts/$t" target/logs
  if [ $mode = replay ]; then
    limit=(-runs="${FUZZ_RUNS:-1000}")
  else
    limit=(-max_total_time="$secs")
  fi
  # New inputs go to the scratch folder (the first); the committed seeds are only read.
  if "$bin/$t" "$scratch" "corpus/$t" "${limit[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see fuzz/$log, fuzz/artifacts/$t/)"
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  printf '%-12s %10s %8s %8s %8s  %s\n' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$result" >&2
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "==> crashed: ${failed[*]}" >&2
  for t in "${failed[@]}"; do grep -m3 -E "panicked|ERROR|SUMMARY" "target/logs/$t.log" >&2 || true; done
  exit 1
fi
