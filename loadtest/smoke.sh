#!/bin/sh
# CI smoke of the scrape path: builds Pyrometer and the load harness (debug), then runs
# Pyrometer against 100 simulated targets for a 20 s window and fails on any missed scrape.
# Prints a closing line `smoke: N passed, M failed`; exits non-zero on failure.
set -eu
cd "$(dirname "$0")/.."
cargo build -q -p pyrometer --bin pyrometer
cargo build -q -p pyrometer-loadtest
exec "${CARGO_TARGET_DIR:-target}/debug/pyrometer-loadtest" smoke \
    --pyrometer-bin "${CARGO_TARGET_DIR:-target}/debug/pyrometer"
