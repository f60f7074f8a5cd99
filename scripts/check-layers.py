#!/usr/bin/env python3
"""Checks the import rules of docs/architecture.md ("Layers").

* No import cycle among the modules of a crate (a module is a top-level file or folder of
  `src/`; an import is a `use crate::x` or a `crate::x::` path).
* For a crate whose `src/` holds layer folders, no module of a lower layer imports a higher one.
* `clap` appears only in the command-line crate.

The host's layers are crates (core <- runtime <- studies <- host), so Cargo already refuses an
upward import between them; this script guards the module graph inside each crate and the clap
rule. Exits 1 and prints every violation.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Host crate source directories whose module graphs must be acyclic. The core's module graph
# (core/src) is checked by the core's own function of this script.
CRATES = ["core/src", "runtime/src", "studies/src", "host/src"]

# Layer folders inside one crate, lowest first (none today: each layer is its own crate).
LAYERS: dict[str, list[str]] = {}

# The only crate that may use clap.
CLI_CRATE = "host/src"

CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
USE_GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\}", re.S)
CLAP = re.compile(r"\bclap::|\buse\s+clap\b|#\[derive\([^)]*\b(Parser|Subcommand|ValueEnum)\b")


def strip_comments(text: str) -> str:
    """Source text without `//` comments (doc comments mention paths that are not imports)."""
    return re.sub(r"//[^\n]*", "", text)


def modules(src: Path) -> dict[str, list[Path]]:
    """Top-level module name -> its files."""
    out: dict[str, list[Path]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        name = rel.parts[0].removesuffix(".rs")
        if name in ("lib", "main"):
            continue
        out.setdefault(name, []).append(path)
    return out


def imports(text: str, known: set[str]) -> set[str]:
    """The top-level modules a file names through `crate::`."""
    text = strip_comments(text)
    found = set(CRATE_PATH.findall(text))
    for group in USE_GROUP.findall(text):
        for item in group.split(","):
            head = item.strip().split("::")[0].split(" ")[0]
            if head:
                found.add(head)
    return found & known


def module_graph(src: Path) -> dict[str, set[str]]:
    mods = modules(src)
    known = set(mods)
    graph = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            graph[m] |= imports(f.read_text(encoding="utf-8"), known) - {m}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_violations(src: Path, layers: list[str]) -> list[str]:
    """Imports from a lower layer folder to a higher one inside one crate."""
    rank = {name: k for k, name in enumerate(layers)}
    graph = module_graph(src)
    return [
        f"{src}: {m} (layer {m}) imports {w} (higher layer)"
        for m, targets in graph.items()
        for w in targets
        if m in rank and w in rank and rank[w] > rank[m]
    ]


def clap_outside_cli() -> list[str]:
    out = []
    for crate in CRATES:
        if crate == CLI_CRATE:
            continue
        for path in sorted((ROOT / crate).rglob("*.rs")):
            if CLAP.search(strip_comments(path.read_text(encoding="utf-8"))):
                out.append(f"{path.relative_to(ROOT)}: uses clap outside the command line")
    manifest_clap = re.compile(r"^\s*clap\s*=", re.M)
    for crate in CRATES:
        if crate == CLI_CRATE:
            continue
        manifest = ROOT / Path(crate).parent / "Cargo.toml"
        if manifest_clap.search(manifest.read_text(encoding="utf-8")):
            out.append(f"{manifest.relative_to(ROOT)}: depends on clap")
    return out


def host_problems() -> list[str]:
    """Every violation in the host crates."""
    problems = []
    for crate in CRATES:
        src = ROOT / crate
        for comp in cycles(module_graph(src)):
            problems.append(f"{crate}: import cycle among {', '.join(comp)}")
        if crate in LAYERS:
            problems += layer_violations(src, LAYERS[crate])
    return problems + clap_outside_cli()


def main() -> int:
    problems = host_problems()
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"layers ok: no module cycle in {', '.join(CRATES)}; clap only in {CLI_CRATE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
