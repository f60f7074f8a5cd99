#!/usr/bin/env bash
# docs/report/ is the full `whitebox report` output that docs/results.md quotes: its page
# (report.md), the JSON behind every table and the SVG figures.
#   scripts/report-docs.sh --update   regenerate docs/report/ (needs ../shared/traces/)
#   scripts/report-docs.sh --check    regenerate and compare with docs/report/; without the
#                                     whole NASA log, every table but the NASA one
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/report-docs.sh --update|--check}
full=../shared/traces/NASA-iPSC-1993-3.1-cln.swf.gz
out=target/report
rm -rf "$out"
if [ -f "$full" ]; then
  cargo run --release -q -p whitebox-host -- report --out "$out" >/dev/null
  compared=(report.md)
else
  [ "$mode" = --update ] && { echo "--update needs $full" >&2; exit 2; }
  echo "note: $full is not here; the NASA table is not compared"
  cargo run --release -q -p whitebox-host -- report --out "$out" \
    --trace fixtures/traces/NASA-iPSC-1993-3.1-cln.swf >/dev/null
  compared=()
fi
tables=$(cd "$out" && ls ./*.json | grep -v '^./report.json$' | sed 's|^\./||')
case "$mode" in
  --update)
    rm -rf docs/report && mkdir -p docs/report
    (cd "$out" && cp report.md ./*.svg $tables ../../docs/report/)
    echo "docs/report/ regenerated" ;;
  --check)
    for f in $tables; do
      if [ -f "$full" ] || [ "$f" != nasa.json ]; then compared+=("$f"); fi
    done
    for f in "${compared[@]}"; do
      cmp -s "$out/$f" "docs/report/$f" || {
        echo "docs/report/$f differs from what \`whitebox report\` writes now;" \
          "run scripts/report-docs.sh --update" >&2
        diff "docs/report/$f" "$out/$f" | head -20 >&2
        exit 1
      }
    done
    echo "docs/report/ matches whitebox report (${#compared[@]} files compared)" ;;
  *) echo "usage: scripts/report-docs.sh --update|--check" >&2; exit 2 ;;
esac
