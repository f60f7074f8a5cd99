#!/usr/bin/env bash
# Opens a quick `whitebox report` page in headless Chromium (Debian's package) and fails on a
# broken image or a console error. Usage: scripts/browser-check.sh [REPORT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-target/browser-check}
if [ $# -eq 0 ]; then
  rm -rf "$dir"
  cargo run --release -q -p whitebox-host -- report --quick --out "$dir" >/dev/null
fi
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 2; }
# The harness loads the page in a frame and counts its images that did not decode.
cat >"$dir/browser-check.html" <<'HTML'
<!doctype html>
<html><body><iframe id="page" src="index.html"></iframe><pre id="result">not loaded</pre>
<script>
document.getElementById("page").onload = function () {
  var doc = this.contentDocument;
  var images = Array.prototype.slice.call(doc.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.getAttribute("src"); });
  document.getElementById("result").textContent =
    "images=" + images.length + " broken=" + broken.length + " " + broken.join(" ");
};
</script></body></html>
HTML
log=$(mktemp)
dom=$(timeout 120 "$browser" --headless --no-sandbox --disable-gpu --allow-file-access-from-files \
  --enable-logging=stderr --v=0 --virtual-time-budget=10000 \
  --dump-dom "file://$(realpath "$dir")/browser-check.html" 2>"$log")
result=$(printf '%s' "$dom" | sed -n 's/.*<pre id="result">\([^<]*\)<\/pre>.*/\1/p')
errors=$(grep -E 'CONSOLE|Uncaught' "$log" || true)
rm -f "$log"
echo "browser check: ${result:-no result}"
case "$result" in
  images=0*|"") echo "the page did not load or has no images" >&2; exit 1 ;;
  *" broken=0 "*) ;;
  *) echo "broken images in $dir/index.html" >&2; exit 1 ;;
esac
if [ -n "$errors" ]; then echo "console errors:" >&2; echo "$errors" >&2; exit 1; fi
echo "browser check passed: no broken image, no console error"
