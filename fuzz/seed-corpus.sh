#!/usr/bin/env bash
# Fills fuzz/corpus/ with seed inputs (not committed): the shipped model plus a model file for
# each of the other shipped architectures, and the repository's job files.
# Needs the `whitebox` binary: `cargo build --release` first (or set WHITEBOX=path).
set -euo pipefail
cd "$(dirname "$0")"
WHITEBOX=${WHITEBOX:-../target/release/whitebox}
mkdir -p corpus/model_load corpus/job_file corpus/simulator_steps
cp ../fixtures/models/deeprm.model corpus/model_load/
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Input lengths: compact 40 + 4M + 2, image 20 * ((10 + 10M) * 2 + 4).
for arch in compact:5:62 compact:10:82 image:5:2480 image:10:4480; do
    IFS=: read -r enc slots inputs <<<"$arch"
    python3 - "$enc" "$slots" "$inputs" >"$tmp/$enc$slots.json" <<'PY'
import json, math, sys
enc, m, i = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w = lambda rows, cols, k: [[round(math.sin(k + r * cols + c) * 0.1, 4) for c in range(cols)] for r in range(rows)]
print(json.dumps({"format": "whitebox-model", "version": 1, "encoding": enc, "slots": m,
    "num_res": 2, "res_units": 10, "horizon": 20, "backlog": 60, "workload": "deeprm",
    "rate": 0.7, "seed": 1, "iterations": 0, "mask_invalid": True,
    "w1": w(20, i, 0), "b1": w(1, 20, 1)[0], "w2": w(m + 1, 20, 2), "b2": w(1, m + 1, 3)[0]}))
PY
    "$WHITEBOX" model import "$tmp/$enc$slots.json" --out "corpus/model_load/$enc$slots.model" >/dev/null
done
cp ../fixtures/reference/deeprm/cases/*.json corpus/job_file/
cp ../fixtures/adversarial/default-*.json corpus/job_file/
ls corpus/*/ | wc -l
