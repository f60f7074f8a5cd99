#!/usr/bin/env bash
# OPTIONAL cross-check, not called by CI or the tests: runs alpha,beta-CROWN on the queries that
# `whitebox verify` exports (VNN-LIB + ONNX) and prints one verdict per query (docs/verify.md,
# "Cross-check with alpha,beta-CROWN").
#
# Needs an alpha,beta-CROWN checkout with its auto_LiRPA submodule (measured with commit
# 8250d5fbd530, auto_LiRPA 9d100ec07086) and a Python that imports its dependencies. This
# script installs nothing. The network is handed over as a torch module built from the exported
# ONNX (Gemm, Relu, Gemm), so the onnx2pytorch fork is not needed (PyPI's onnx2pytorch must
# still be importable).
#
#   scripts/abcrown.sh ABCROWN_DIR OUT_DIR [MODEL...]     (default: every fixtures/models/*.model)
#   env: PYTHON (python3), WHITEBOX (target/release/whitebox), PROPERTY (no-idle),
#        REGION (none), TIMEOUT (30 s per query)
#
# VNN-LIB states the unsafe outputs: unsat proves the query, sat gives a point of the input box
# (which may be no cluster state), unknown is a timeout.
set -euo pipefail

if (($# < 2)); then
  echo "usage: scripts/abcrown.sh ABCROWN_DIR OUT_DIR [MODEL...]" >&2
  exit 2
fi
abcrown=$(realpath "$1")
out=$(realpath -m "$2")
shift 2
python=${PYTHON:-python3}
whitebox=${WHITEBOX:-target/release/whitebox}
property=${PROPERTY:-no-idle}
timeout=${TIMEOUT:-30}
region_args=()
if [[ -n ${REGION:-} ]]; then region_args=(--region "$REGION"); fi
models=("$@")
if ((${#models[@]} == 0)); then models=(fixtures/models/*.model); fi

commit=$(git -C "$abcrown" rev-parse HEAD 2>/dev/null || echo unknown)
[[ $commit == 8250d5fbd530* ]] || echo "note: alpha,beta-CROWN at $commit, measured with 8250d5fbd530" >&2
mkdir -p "$out"

cat >"$out/whitebox_net.py" <<'EOF'
# The exported ONNX graph (Gemm with transB=1, Relu, Gemm) as a torch.nn.Sequential.
import onnx
import torch
from onnx import numpy_helper


def net(onnx_path):
    graph = onnx.load(onnx_path).graph
    init = {t.name: torch.tensor(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    gemms = [n for n in graph.node if n.op_type == "Gemm"]
    layers = []
    for i, node in enumerate(gemms):
        weight, bias = init[node.input[1]], init[node.input[2]]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        linear.weight.data, linear.bias.data = weight.float(), bias.float()
        layers.append(linear)
        if i + 1 < len(gemms):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)
EOF

printf '%-20s %-28s %-8s %8s\n' model query verdict seconds
for model in "${models[@]}"; do
  name=$(basename "$model" .model)
  dir="$out/$name-$property"
  rm -rf "$dir"
  "$whitebox" verify --model "$model" --property "$property" "${region_args[@]}" \
    --export-vnnlib "$dir" --export-onnx "$out/$name.onnx" --format json \
    >"$dir.whitebox.json" 2>"$dir.whitebox.log" || [ $? -eq 1 ] # 1: a property refuted
  inputs=$("$python" -c 'import onnx, sys; print(onnx.load(sys.argv[1]).graph.input[0].type.tensor_type.shape.dim[1].dim_value)' "$out/$name.onnx")
  # The export writes only the queries whose tightened region holds a cluster state.
  find "$dir" -name '*.vnnlib' | sort >"$dir.csv"
  echo "$name: $(wc -l <"$dir.csv") queries" >&2
  cat >"$dir.yaml" <<EOF
general:
  device: cpu
  csv_name: $dir.csv
  results_file: $dir.out
model:
  name: Customized("$out/whitebox_net.py", "net", onnx_path="$out/$name.onnx")
  input_shape: [-1, $inputs]
bab:
  timeout: $timeout
EOF
  (cd "$abcrown/complete_verifier" && "$python" abcrown.py --config "$dir.yaml") >"$dir.log" 2>&1
  # One `Result: STATUS in SECONDS seconds` line per csv row, in order.
  paste "$dir.csv" <(grep -E '^Result: .* in [0-9.]+ seconds' "$dir.log") |
    while IFS=$'\t' read -r vnnlib result; do
      status=$(awk '{print $2}' <<<"$result")
      seconds=$(awk '{print $(NF-1)}' <<<"$result")
      case $status in
        unsafe*) verdict=sat ;;
        safe*) verdict=unsat ;;
        *) verdict=unknown ;;
      esac
      printf '%-20s %-28s %-8s %8.2f\n' "$name" "$(basename "$vnnlib")" "$verdict" "$seconds"
    done
done
