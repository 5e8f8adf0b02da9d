#!/usr/bin/env bash
# Installs everything Vitrine needs on a fresh machine (Debian 12, Rust by rustup, Node from npm).
# Idempotent: each step is skipped when its pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mkdir -p "$VITRINE_TOOLS/bin" "$VITRINE_TOOLS/node"
step() { echo "==> $*" >&2; }

# 1. System packages: Chromium + ChromeDriver for browser tests, wrk for benchmarks.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v wrk >/dev/null; then
  step "apt: chromium chromium-driver wrk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wrk >/dev/null
fi

# 2. The pinned compiler (rust-toolchain.toml): when the machine's stable toolchain is that
#    version, it serves under the pinned name (no download); otherwise rustup installs it.
pinned=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$pinned-"; then
  stable_sysroot=$(rustc +stable --print sysroot 2>/dev/null || true)
  if [ -n "$stable_sysroot" ] && [ "$(rustc +stable --version | awk '{print $2}')" = "$pinned" ]; then
    step "rustup: stable is $pinned, linked under that name"
    rustup toolchain link "$pinned" "$stable_sysroot"
  else
    step "rustup: toolchain $pinned"
    rustup toolchain install "$pinned" --profile minimal --component clippy,rustfmt
  fi
fi
rustup target list --installed | grep -q wasm32-unknown-unknown || { step "rustup: wasm32 target"; rustup target add wasm32-unknown-unknown; }
for c in clippy rustfmt; do rustup component list --installed | grep -q "^$c" || { step "rustup: $c"; rustup component add "$c"; }; done

# 3. npm tools, pinned (Node 22 from the npm registry: wrangler 4.164 needs Node >= 22.12).
if ! cmp -s scripts/tools-package.json "$VITRINE_TOOLS/node/package.json"; then
  step "npm: node 22, wrangler, binaryen, playwright-core, @redocly/cli, esbuild"
  cp scripts/tools-package.json "$VITRINE_TOOLS/node/package.json"
  (cd "$VITRINE_TOOLS/node" && npm install --no-audit --no-fund --loglevel=error)
fi

# 4. Cargo tools. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock exactly.
WB=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$("$VITRINE_TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$WB" ]; then
  step "cargo install wasm-bindgen-cli $WB"
  # not --locked: its lockfile names a crate version the registry mirror lacks
  cargo install -q --root "$VITRINE_TOOLS" wasm-bindgen-cli --version "=$WB"
fi
if [ "$("$VITRINE_TOOLS/bin/worker-build" --version 2>/dev/null | awk '{print $NF}')" != "0.8.7" ]; then  # prints "0.8.7" alone
  step "cargo install worker-build 0.8.7"
  cargo install -q --root "$VITRINE_TOOLS" worker-build --version =0.8.7 --locked
fi
# cargo-fuzz (scripts/fuzz.sh): libFuzzer targets built by the pinned stable compiler with
# RUSTC_BOOTSTRAP=1 for its -Z flags (no nightly can be downloaded here; RELIABILITY.md).
if [ "$("$VITRINE_TOOLS/bin/cargo-fuzz" --version 2>/dev/null | awk '{print $NF}')" != "0.13.2" ]; then  # prints "cargo-fuzz 0.13.2"
  step "cargo install cargo-fuzz 0.13.2"
  cargo install -q --root "$VITRINE_TOOLS" cargo-fuzz --version =0.13.2 --locked
fi
step "tools ready in $VITRINE_TOOLS"
