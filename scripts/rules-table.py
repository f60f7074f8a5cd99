"""Reproduces the distillation table of docs/results.md: run from the repository root after
the trainings listed there (RUNS=DIR, default runs/). Issue 4 results table: plain vs distilled students (3 seeds), with and without the runtime
shield, SJF and Packer; slowdown per workload, over-cap share, iterations to reach SJF."""
import json, os, subprocess, sys, statistics as st
WB = os.environ.get("WB", "target/release/whitebox")
R = os.environ.get("RUNS", "runs")  # plain{2,3}.model and distill{1,2,3}.model from whitebox train
WL = ["deeprm", "long-jobs", "wide-demands", "bursty"]
T2 = 4.303  # Student t, 2 df, 95%
models = {s: {"plain": f"{R}/plain{s}.model" if s != 1 else "fixtures/models/deeprm.model",
              "distilled": f"{R}/distill{s}.model"} for s in (1, 2, 3)}
seeds = [s for s in (1, 2, 3) if all(os.path.exists(p) for p in models[s].values())]
rules = ["--rule", "util<=0.8", "--rule", "work-conserving"]

def ev(s, extra, tag):
    os.makedirs(f"{R}/eval", exist_ok=True)
    out = f"{R}/eval/s{s}{tag}.json"
    if not os.path.exists(out):
        pol = f"sjf,packer,plain=model:{models[s]['plain']},distilled=model:{models[s]['distilled']}"
        cmd = [WB, "eval", "--workload", ",".join(WL), "--rate", "0.7", "--slots", "10",
               "--jobsets", "100", "--seed", "7000", "--policies", pol, "--format", "json"] + extra
        txt = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        open(out, "w").write(txt)
    return json.load(open(out))["rows"]

def first_at_sjf(curve):
    for line in open(curve).read().splitlines()[1:]:
        f = line.split(",")
        if f[1] and float(f[1]) <= float(f[2]):
            return int(f[0])
    return None

res = {}  # (policy, workload) -> list over seeds of (slowdown, over_cap)
for s in seeds:
    for tag, extra in (("", []), ("+rules", rules)):
        for r in ev(s, extra, tag.replace("+", "_")):
            name = r["policy"].replace("+rules", "") + tag
            res.setdefault((name, r["workload"]), []).append((r["mean_slowdown"], r["violation_share"], r["over_cap_share"]))

def ci(v):
    m = st.mean(v)
    if len(v) < 2: return f"{m:.3f}"
    h = T2 * st.stdev(v) / len(v) ** 0.5 if len(v) == 3 else float("nan")
    return f"{m:.3f} ± {h:.3f}"

order = ["plain", "plain+rules", "distilled", "distilled+rules", "sjf", "sjf+rules", "packer", "packer+rules"]
print(f"seeds: {seeds}")
print("| policy | " + " | ".join(WL) + " | violations (deeprm) | violations (all 4) | steps >80% incl. lone jobs (deeprm) | iterations to SJF |")
print("|---" * (len(WL) + 5) + "|")
for p in order:
    cells = []
    for w in WL:
        v = [x[0] for x in res.get((p, w), [])]
        cells.append(ci(v) if v else "")
    d = [x[1] for x in res.get((p, "deeprm"), [])]
    a = [st.mean(x[1] for w in WL for x in [res[(p, w)][i]]) for i in range(len(seeds))] if (p, "deeprm") in res else []
    it = ""
    if p in ("plain", "distilled"):
        its = []
        for s in seeds:
            path = models[s][p] + ".curve.csv"
            its.append(first_at_sjf(path) if os.path.exists(path) else None)
        it = ", ".join(str(i) for i in its)
    raw = [x[2] for x in res.get((p, "deeprm"), [])]
    print(f"| {p} | " + " | ".join(cells) + f" | {100*st.mean(d):.1f}% | {100*st.mean(a):.1f}% | {100*st.mean(raw):.1f}% | {it} |")
# per-seed detail
print()
for s in seeds:
    print(f"seed {s}: " + ", ".join(f"{p} {res[(p,'deeprm')][seeds.index(s)][0]:.3f}" for p in order if (p,'deeprm') in res))
