#!/usr/bin/env python3
"""Checks the import direction inside the workspace's crates.

For each crate source directory in CHECKS, every module (a top-level file `x.rs` or folder `x/`
under the directory) is a node, and `a -> b` is an edge when a file of module `a` names
`crate::b` (or an item the crate root re-exports from `b`, such as `crate::Job`), through a `use`
or a path in code. Doc comments, comments, string literals and `#[cfg(test)]` modules are not
read: tests may reach anything.

Two rules, and the script exits with status 1 if either is broken:

* no import cycle among the modules (reported with the files and lines of each edge);
* with a layer order (a list of layers, lowest first, each a list of module names), a module
  imports only modules of its own layer or lower ones, and every module is in some layer.

Usage: python3 scripts/check-layers.py [-v]    (-v also prints every edge)
Standard library only.
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# (crate source directory relative to the repository, layer order or None). With None only
# cycles are checked. Example of a layer order: [["settings", "jobfile"], ["eval", "demo"],
# ["cli"]]: `eval` may import `jobfile` and `demo`, never `cli`.
CHECKS = [
    ("core/src", None),
]

ROOT_FILES = ("lib.rs", "main.rs")


def strip_code(text):
    """Text with comments, string and char literals blanked (newlines kept, so lines match)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"\w", text[i - 1 : i]):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_test_modules(code):
    """Blanks `#[cfg(test)] mod name { ... }` blocks; returns the code and the names of
    out-of-line test modules (`#[cfg(test)] mod name;`)."""
    skipped = []
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])", code)
        if not m:
            return code, skipped
        if m.group(4) == ";":
            skipped.append(m.group(3))
            end = m.end()
        else:
            depth, j = 1, m.end()
            while j < len(code) and depth:
                depth += {"{": 1, "}": -1}.get(code[j], 0)
                j += 1
            end = j
        code = code[: m.start()] + "\n" * code.count("\n", m.start(), end) + code[end:]


def split_top(s):
    """Splits a use-tree list at top-level commas."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def expand_use(tree):
    """All paths (lists of segments) of a use tree such as `crate::{a::B, c::{self, D}}`."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [[s for s in tree.split("::") if s]]
    prefix = [s for s in m.group(1).split("::") if s]
    paths = []
    for part in split_top(m.group(2)):
        for sub in expand_use(part):
            paths.append(prefix + [s for s in sub if s != "self"] if sub[:1] == ["self"] else prefix + sub)
    return paths


def module_path(rel):
    """Module path of a file relative to the source dir: `quant/mod.rs` -> ['quant']."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if len(parts) == 1 and rel in ROOT_FILES:
        return []
    return parts


def absolute(segments, here):
    """Absolute path of `segments` used in module `here`, or None if it is not crate-relative."""
    if not segments:
        return None
    base = list(here)
    head = segments[0]
    if head == "crate":
        base, rest = [], segments[1:]
    elif head in ("super", "self"):
        rest = list(segments)
        while rest and rest[0] in ("super", "self"):
            if rest.pop(0) == "super":
                if not base:
                    return None
                base.pop()
    else:
        return None
    return base + rest


def crate_files(src):
    for dirpath, _, names in os.walk(src):
        for name in sorted(names):
            if name.endswith(".rs"):
                yield os.path.relpath(os.path.join(dirpath, name), src)


def root_reexports(src, modules):
    """`crate::Name` -> module, from `pub use m::...;` in the crate root."""
    names = {}
    for root_file in ROOT_FILES:
        path = os.path.join(src, root_file)
        if not os.path.exists(path):
            continue
        code, _ = drop_test_modules(strip_code(open(path, encoding="utf-8").read()))
        for m in re.finditer(r"\bpub\s+use\s+([^;]+);", code):
            for p in expand_use(m.group(1)):
                p = p[1:] if p[:1] == ["crate"] else p
                if len(p) >= 2 and p[0] in modules:
                    names[p[-1]] = p[0]
    return names


def edges_of(src):
    """{(from, to): [(file, line), ...]} between top-level modules, and the module names."""
    files = list(crate_files(src))
    modules = sorted(
        {module_path(f)[0] for f in files if module_path(f)}
    )
    reexports = root_reexports(src, set(modules))
    edges = defaultdict(list)
    test_files = set()
    for rel in files:
        here = module_path(rel)
        if not here or rel in test_files:
            continue
        text = open(os.path.join(src, rel), encoding="utf-8").read()
        code, skipped = drop_test_modules(strip_code(text))
        stem_dir = os.path.dirname(rel) if os.path.basename(rel) == "mod.rs" else rel[:-3]
        for name in skipped:
            test_files.add(os.path.join(stem_dir, name + ".rs"))
            test_files.add(os.path.join(stem_dir, name, "mod.rs"))
        found = []
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            line = code.count("\n", 0, m.start()) + 1
            found += [(p, line) for p in expand_use(m.group(1))]
        rest = re.sub(r"\buse\s+[^;]+;", lambda m: "\n" * m.group(0).count("\n"), code)
        for m in re.finditer(r"\b(?:crate|super|self)(?:\s*::\s*\w+)+", rest):
            line = rest.count("\n", 0, m.start()) + 1
            found.append(([s for s in re.split(r"\s*::\s*", m.group(0))], line))
        for segments, line in found:
            path = absolute(segments, here)
            if not path:
                continue
            target = path[0] if path[0] in modules else reexports.get(path[0])
            if target and target != here[0]:
                edges[(here[0], target)].append((os.path.join(src, rel), line))
    return edges, modules


def find_cycles(modules, edges):
    """Strongly connected components with more than one module (Tarjan)."""
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in modules:
        if v not in index:
            visit(v)
    return sccs, graph


def one_cycle(comp, graph):
    """A shortest cycle through the first module of a component, as a list of modules."""
    start = comp[0]
    members = set(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return list(reversed(path)) + [start]
                if w in members and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp


def check(src_rel, layers, verbose):
    src = os.path.join(ROOT, src_rel)
    edges, modules = edges_of(src)
    problems = []
    sccs, graph = find_cycles(modules, edges)
    for comp in sccs:
        cycle = one_cycle(comp, graph)
        problems.append(f"{src_rel}: import cycle among {', '.join(comp)}: {' -> '.join(cycle)}")
        for a, b in zip(cycle, cycle[1:]):
            for f, line in edges[(a, b)][:3]:
                problems.append(f"    {a} -> {b}: {os.path.relpath(f, ROOT)}:{line}")
    if layers is not None:
        layer_of = {m: i for i, group in enumerate(layers) for m in group}
        for m in modules:
            if m not in layer_of:
                problems.append(f"{src_rel}: module `{m}` is in no layer")
        for (a, b), sites in sorted(edges.items()):
            if a in layer_of and b in layer_of and layer_of[b] > layer_of[a]:
                f, line = sites[0]
                problems.append(
                    f"{src_rel}: `{a}` (layer {layer_of[a]}) imports `{b}` (layer {layer_of[b]}), "
                    f"a higher layer: {os.path.relpath(f, ROOT)}:{line}"
                )
    if verbose:
        for (a, b), sites in sorted(edges.items()):
            print(f"{src_rel}: {a} -> {b} ({len(sites)})")
    if not problems:
        print(f"{src_rel}: {len(modules)} modules, {len(edges)} module imports, no cycle"
              + ("" if layers is None else ", layers respected"))
    return problems


def main():
    verbose = "-v" in sys.argv[1:]
    problems = []
    for src_rel, layers in CHECKS:
        problems += check(src_rel, layers, verbose)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
