#!/usr/bin/env bash
# Records the decision-tree golden traces (fixtures/golden/tree-*.json) of the shipped tree
# fixtures/models/default.tree. Run it again whenever that tree file changes (its length and
# CRC-32 are in every trace, and replay refuses another tree file), then review the diff: the
# jobs stay, the leaves, actions and summaries follow the new tree. docs/embedded.md lists the
# traces; the firmware's on-target test replays them on Cortex-M4F and M3.
set -euo pipefail
cd "$(dirname "$0")/.."

TREE=fixtures/models/default.tree
HEAVY=fixtures/reference/deeprm/cases/rate0.7_seed1_nw10.json
ADVERSARIAL=fixtures/adversarial/default-deeprm-gap-seed1-1.json
cargo build --release -p whitebox-host
record() { target/release/whitebox record --policy "tree:$TREE" "$@"; }

record --jobs "$HEAVY" --out fixtures/golden/tree-heavy.json
record --jobs "$ADVERSARIAL" --out fixtures/golden/tree-adversarial.json
record --jobs "$HEAVY" --rule 'util<=0.8' --rule work-conserving \
  --out fixtures/golden/tree-heavy-rules.json
