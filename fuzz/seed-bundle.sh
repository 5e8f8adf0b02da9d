#!/usr/bin/env bash
# Writes the bundle target's seed (and the fuzz crate's fixture engine): the end-to-end tests'
# fixture bundle (tests/src/fixture.rs), by the `vitrine-edge fixture` tool. Run after a
# bundle format change (bundle::FORMAT_VERSION), then commit fuzz/corpus/bundle/fixture-bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q -p vitrine-tests --bin vitrine-edge -- fixture fuzz/corpus/bundle/fixture-bundle >/dev/null
