#!/usr/bin/env bash
# Decision-path footprint and instructions per decision (docs/performance.md, "On target").
#
#   scripts/performance-embedded.sh          build, measure, write firmware/sizes.golden and
#                                            regenerate the "On target" section of
#                                            docs/performance.md (between its marker comments)
#   scripts/performance-embedded.sh --check  build the size images and compare them with
#                                            firmware/sizes.golden (CI): fails if an image's
#                                            code, weights or RAM grew by more than 10 %
#
# Needs: the thumbv7em-none-eabihf target, arm-none-eabi-size and arm-none-eabi-nm (Debian
# binutils-arm-none-eabi), qemu-system-arm, and for the full run valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=thumbv7em-none-eabihf
IMAGES="size_empty size_compact size_compact_int8 size_compact_shield size_compact_guard size_image size_sjf size_tree"
GOLDEN=firmware/sizes.golden
DOC=docs/performance.md
TOLERANCE=10 # percent
QEMU="qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic -semihosting-config enable=on,target=native"

mode=${1:-full}
bins=""
for i in $IMAGES; do bins="$bins --bin $i"; done
if [ "$mode" = full ]; then bins="$bins --bin bench"; fi
# shellcheck disable=SC2086
(cd firmware && cargo build --release --locked --target "$TARGET" $bins)
elf() { echo "firmware/target/$TARGET/release/$1"; }

# One line per image: name text rodata weights data bss, in bytes. text includes the 1 KiB
# vector table; weights is the size of the network's static or the tree file's bytes (rodata).
measure() {
  for i in $IMAGES; do
    arm-none-eabi-size -A "$(elf "$i")" | awk -v name="$i" '
      $1 == ".vector_table" || $1 == ".text" { text += $2 }
      $1 == ".rodata" { ro += $2 }
      $1 == ".data" { data += $2 }
      $1 == ".bss" || $1 == ".uninit" { bss += $2 }
      END { printf "%s %d %d", name, text, ro; printf " %d %d\n", data, bss }' |
      while read -r name text ro data bss; do
        w=0
        for h in $(arm-none-eabi-nm -S "$(elf "$name")" | awk '/(COMPACT|IMAGE)_(NET|INT8)|TREE_BYTES/ { print $2 }'); do
          w=$((w + 16#$h))
        done
        echo "$name $text $ro $w $data $bss"
      done
  done
}

if [ "$mode" = --check ]; then
  fresh=$(measure)
  echo "image text rodata weights data bss (golden, then this build)"
  status=0
  while read -r name text ro w data bss; do
    case "$name" in "#"* | "") continue ;; esac
    now=$(echo "$fresh" | awk -v n="$name" '$1 == n')
    echo "golden $name $text $ro $w $data $bss"
    echo "now    $now"
    if [ -z "$now" ]; then echo "FAIL $name: not built"; status=1; continue; fi
    read -r _ ntext nro nw ndata nbss <<<"$now"
    check() { # label golden now
      if [ $(($3 * 100)) -gt $(($2 * (100 + TOLERANCE))) ] && [ $(($3 - $2)) -gt 64 ]; then
        echo "FAIL $name: $1 grew from $2 to $3 bytes (more than $TOLERANCE %)"
        status=1
      fi
    }
    check "code (text + rodata - weights)" $((text + ro - w)) $((ntext + nro - nw))
    check "weights" "$w" "$nw"
    check "data + bss" $((data + bss)) $((ndata + nbss))
  done <"$GOLDEN"
  if [ "$status" -eq 0 ]; then echo "sizes within $TOLERANCE % of $GOLDEN"; fi
  exit "$status"
fi

sizes=$(measure)
{
  echo "# image text rodata weights data bss (bytes; arm-none-eabi-size -A, thumbv7em-none-eabihf release;"
  echo "# text includes the 1 KiB vector table, weights is the network static inside rodata)."
  echo "# Regenerate with scripts/performance-embedded.sh; CI compares with --check."
  echo "$sizes"
} >"$GOLDEN"

declare -A stack decisions
for i in $IMAGES; do
  line=$(timeout 60 $QEMU -kernel "$(elf "$i")")
  echo "$line"
  stack[$i]=$(echo "$line" | sed -n 's/.* stack=\([0-9]*\).*/\1/p')
  decisions[$i]=$(echo "$line" | sed -n 's/.* decisions=\([0-9]*\).*/\1/p')
done

bench=$(timeout 120 $QEMU -icount shift=0 -kernel "$(elf bench)")
echo "$bench"
calibration=$(echo "$bench" | sed -n 's/^calibration loop=\([0-9]*\) ticks=\([0-9]*\) instructions_per_tick=\([0-9]*\).*/\1 instructions = \2 ticks, \3 per tick/p')
m4f() { echo "$bench" | awk -v c="$1" '$1 == "bench" && $2 == c { sub("per_decision=", "", $6); print $6 }'; }

cargo build --release -p whitebox-runtime --example decisions
x86() {
  local out
  out=$(valgrind --tool=callgrind --toggle-collect='*decide_all*' --callgrind-out-file=/dev/null \
    target/release/examples/decisions "$1" 2>&1)
  local ir n
  ir=$(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  n=$(echo "$out" | sed -n 's/.*decisions=\([0-9]*\).*/\1/p')
  echo $(((ir + n / 2) / n))
}

# Thousands separators: 12345 -> 12,345
fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
guard_row() { # jobs label
  local u r b l
  u=$(m4f "$1/unguarded")
  r=$(m4f "$1/renewal")
  b=$(m4f "$1/budget")
  l=$(m4f "$1/lookahead")
  lr=$(m4f "$1/lookahead-reserve")
  echo "| $2 | $(fmt "$u") | $(fmt "$r") | $(ratio "$r" "$u") | $(fmt "$b") | $(ratio "$b" "$u") | $(fmt "$l") | $(ratio "$l" "$u") | $(fmt "$lr") | $(ratio "$lr" "$u") |"
}
guard_ram() {
  echo "$sizes" | awk -v n=size_compact_guard '$1 == n' | {
    read -r _ _ _ _ data bss
    local ram=$((data + bss + ${stack[size_compact_guard]}))
    echo "$(fmt "$ram") bytes = $(kb "$ram") KiB"
  }
}

tree_over_sjf() {
  local t s
  t=$(echo "$sizes" | awk '$1 == "size_tree" { print $2 + $3 }')
  s=$(echo "$sizes" | awk '$1 == "size_sjf" { print $2 + $3 }')
  echo "$(fmt $((t - s))) bytes ($(kb $((t - s))) KiB), of which the tree file $(fmt "$(echo "$sizes" | awk '$1 == "size_tree" { print $4 }')") bytes"
}

row() { # image label
  echo "$sizes" | awk -v n="$1" '$1 == n' | {
    read -r _ text ro w data bss
    local code=$((text + ro - w)) ram=$((data + bss + ${stack[$1]}))
    echo "| $2 | $(fmt "$text") | $(fmt $((ro - w))) | $(fmt "$w") | **$(fmt $((text + ro)))** ($(kb $((text + ro))) KiB) | $(fmt "$code") ($(kb "$code") KiB) | $(fmt $((data + bss))) | $(fmt "${stack[$1]}") | **$(fmt "$ram")** ($(kb "$ram") KiB) |"
  }
}

section=$(mktemp)
cat >"$section" <<EOF
<!-- on-target:begin (generated by scripts/performance-embedded.sh; edit the script, not this) -->
## On target: flash, RAM and instructions per decision

\`\`\`sh
scripts/performance-embedded.sh          # rebuilds, measures, rewrites this section and firmware/sizes.golden
scripts/performance-embedded.sh --check  # CI: compares fresh sizes with firmware/sizes.golden
\`\`\`

### Flash and RAM of the decision path (Cortex-M4F, \`thumbv7em-none-eabihf\`, release: \`opt-level = "s"\`, LTO)

Each \`firmware/src/bin/size_*.rs\` image holds only the decision path: it plays the 32 jobs of
\`default-heavy\` (no golden decisions) through the simulator with the policy (encode, forward,
mask, argmax, apply the action, admit arrivals), with \`panic-never\` as the panic handler, so no
panic or formatting code is linked. The network is a \`static\` decoded at build time (weights in
flash, no loading at run time). \`size_empty\` is the same harness without any decision: the
runtime (vector table, reset, \`memcpy\`), stack painting and the semihosting report, so the other
images minus it are the decision path alone. Sizes from \`arm-none-eabi-size -A\`; weights = the
size of the network static (\`arm-none-eabi-nm -S\`). RAM = \`.data\` + \`.bss\` + the stack high-water
mark, measured: the image paints the free stack with a pattern at start and after the episode
reports the lowest overwritten word over semihosting (counts every frame from reset on).

| image | text (incl. 1 KiB vectors) | rodata without weights | weights | flash | code without weights | .data + .bss | stack (measured) | RAM |
|---|---|---|---|---|---|---|---|---|
$(row size_empty "harness only (\`size_empty\`)")
$(row size_compact "compact, M = 10, shipped model (\`size_compact\`)")
$(row size_compact_int8 "compact, M = 10, shipped model quantized to int8 (\`size_compact_int8\`)")
$(row size_compact_shield "compact + shield (\`util<=0.8\`, work-conserving) (\`size_compact_shield\`)")
$(row size_compact_guard "compact + guard (renewal, SJF fallback, one shadow episode) (\`size_compact_guard\`)")
$(row size_image "image, M = 10, random 4480-20-11 network (\`size_image\`)")
$(row size_sjf "SJF baseline, same harness and simulator (\`size_sjf\`)")
$(row size_tree "decision tree, shipped \`default.tree\` as file bytes, loaded at start (\`size_tree\`)")

The decision tree over the SJF image (what the tree policy adds to the same simulator: operator
features, the tree walk, SJF's order behind the leaf, mask, argmax, the tree loader, and the
tree's file bytes, counted in the weights column): $(tree_over_sjf). Target of issue 14: code and
tree together under 4 KiB of flash. The tree is loaded from its bytes into a fixed 255-node
\`Tree\` on the stack, hence its larger stack.

Decisions played per image: compact ${decisions[size_compact]}, compact int8 ${decisions[size_compact_int8]}, compact + shield ${decisions[size_compact_shield]}, compact + guard ${decisions[size_compact_guard]}, image ${decisions[size_image]}
(the int8 policy decides differently in places and the image network is not trained, so their
episodes differ). The int8 weights static (\`COMPACT_INT8\`) holds the biases, multipliers and
scales inference needs, the weights packed in pairs at 2 bytes each (3 720 bytes instead of
1 860 as \`i8\`, for speed), the hidden units' multipliers prepared for their codes (16 bytes
each, 320 bytes, for speed) and the per-unit \`f32\` weight scales (124 bytes, for reports). \`firmware/sizes.golden\` holds the
size columns; \`.ci/run\` rebuilds the images and fails if code, weights or \`.data\` + \`.bss\` of
any image grew by more than ${TOLERANCE} % (toolchain noise stays well inside that).

### Instructions per decision

Cortex-M4F: \`firmware/src/bin/bench.rs\` under \`qemu-system-arm -machine mps2-an386 -icount shift=0\`
(1 ns of virtual time per instruction; SysTick counts the 25 MHz core clock, so one tick = 40
instructions). Calibration on every run: $calibration (expected 40). The shipped model plays
\`default-heavy\` and every state it decides on is kept (124 states); one SysTick read before and one
after deciding once on each kept state gives ticks x 40 / 124. A decision is encode, forward,
mask and argmax; with the shield (\`Projected::lean\`, \`docs/rules.md\`) also the integer rule
verdicts of the allowed actions, in the order of decreasing logit, up to the first one no rule
removes (no softmax: the decision needs none; traces compute the probabilities). The image network has random weights (speed does not
depend on them). QEMU counts instructions, not cycles: no pipeline, flash wait states or FPU
latencies, so cycles on silicon will be higher (roughly 1-1.5 cycles per instruction on an M4F
running from zero-wait-state memory).

x86-64: \`runtime/examples/decisions.rs\`, the same 124 states and cases, under
\`valgrind --tool=callgrind --toggle-collect='*decide_all*'\` (instructions retired inside the
measured function, divided by 124).

| decision | Cortex-M4F instructions | x86-64 instructions |
|---|---|---|
| compact, M = 10, shipped model | **$(fmt "$(m4f compact)")** | $(fmt "$(x86 compact)") |
| compact + shield | $(fmt "$(m4f compact+shield)") | $(fmt "$(x86 compact+shield)") |
| compact int8 (shipped model quantized, \`int8:PATH\`) | **$(fmt "$(m4f compact-int8)")** | $(fmt "$(x86 compact-int8)") |
| compact int8 + shield | $(fmt "$(m4f compact-int8+shield)") | $(fmt "$(x86 compact-int8+shield)") |
| image, M = 10 (4480-20-11) | $(fmt "$(m4f image)") | $(fmt "$(x86 image)") |
| image + shield | $(fmt "$(m4f image+shield)") | $(fmt "$(x86 image+shield)") |
| decision tree, shipped \`default.tree\` (\`tree:PATH\`) | **$(fmt "$(m4f tree)")** | $(fmt "$(x86 tree)") |
| decision tree + shield | $(fmt "$(m4f tree+shield)") | $(fmt "$(x86 tree+shield)") |

The parts of a compact decision, each timed alone on the same 124 states (Cortex-M4F): the
encoding, the action mask, and the network's forward pass on the encoded observations. The int8
forward pass is the input quantization (\`x * 255\` rounded half away from zero, clamped) and the
integer layers (\`i8 x u8\` products summed exactly, then TFLite's fixed-point requantization per
unit, skipped for a hidden unit whose sum is at most 0). The weights are stored packed, two units
to a 32-bit word per input (\`w_a + w_b * 2^24\`, \`core/src/quant/packed.rs\`), so one
\`smlal\` (32 x 32 -> 64-bit multiply-accumulate) gives two products; two such pairs per pass
over the input, two inputs per iteration. Plain Rust: stable Rust has no DSP intrinsics, and the
core has no \`unsafe\` (so no \`asm!\`).

| part | Cortex-M4F instructions |
|---|---|
| compact encoding | $(fmt "$(m4f part/encode)") |
| action mask | $(fmt "$(m4f part/mask)") |
| network, f32 | $(fmt "$(m4f part/network-f32)") |
| network, int8 | **$(fmt "$(m4f part/network-int8)")** |
| of which the input quantization | $(fmt "$(m4f part/int8-quantize-input)") |
| of which the integer layers and requantization | $(fmt "$(m4f part/int8-integer-layers)") |
| operator features of a tree decision (\`operator_features\`) | $(fmt "$(m4f part/tree-features)") |

### Guarded decisions (Cortex-M4F)

A guard is stateful (its shadow episode follows the real one), so it cannot be timed on kept
states: the policy alone and the guarded policy (default \`eps\` 0.1 and \`c\` 5) each play a
whole episode and only the instructions inside \`decide\` are counted (for the guard: the shadow's
step(s) up to the real time step with the scheduler not in charge, the renewal or budget test,
and the decision of the scheduler in charge). Target of issue 11: a guarded decision within 1.5x
of the unguarded one; RAM (\`.data\` + \`.bss\` + stack, shadow included) within 12 KiB: see the
\`size_compact_guard\` row above ($(guard_ram)).

| jobs | unguarded | guard renewal | ratio | guard budget | ratio | guard lookahead | ratio | lookahead, \`sjf-reserve\` fallback | ratio |
|---|---|---|---|---|---|---|---|---|---|
$(guard_row heavy "\`default-heavy\` (learned policy in charge throughout)")
$(guard_row default-adversarial-guard-renewal "adversarial fixture twice (renewal hand-over to SJF at step 87)")
$(guard_row default-adversarial-guard-budget "adversarial fixture (budget hand-over to SJF at step 15)")
$(guard_row default-starvation-guard-lookahead-reserve "starvation fixture (lookahead hand-over to the fallback at step 26)")

Where SJF is in charge the real decision is SJF's (cheap), and in renewal mode the shadow runs the
network instead, so a guarded decision costs about one network evaluation plus a simulator step;
in budget mode the shadow runs SJF only. Lookahead mode evaluates the network and SJF at every
decision and, where they differ, drains the candidate state with SJF to the end (and the shadow,
once in a step with a disagreement): it is the costly mode, around or above the issue's 1.5x,
and meant for hosts and switch CPUs more than for microcontrollers. The repairing fallback
(\`--guard-fallback sjf-reserve\`, \`docs/guard.md\`) adds its own decision where the fallback
decides (a scan of the job slots and, when the shortest job does not fit, a first fit in time);
the drains and the shadow stay SJF's. Its RAM is in the guard's (one projected fallback
scheduler, unused without rules).
<!-- on-target:end -->
EOF

if grep -q '<!-- on-target:begin' "$DOC"; then
  awk -v f="$section" '
    /<!-- on-target:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- on-target:end/ { skip = 0; next }
    !skip { print }' "$DOC" >"$DOC.tmp"
  mv "$DOC.tmp" "$DOC"
else
  { echo; cat "$section"; } >>"$DOC"
fi
rm -f "$section"
echo "wrote $GOLDEN and the On target section of $DOC"
