"""Runs bench_a.py alternately in node (run_node.mjs) and in a dedicated worker in headless Chromium (a fresh
browser per run), and records each run's figures with the load average (`uptime`) at its start.

  .venv/bin/python bench/exp_worker/drive.py --rounds 3 --out bench/exp_worker/out/main.jsonl \
      --case node --case "chromium" --case "chromium|--js-flags=--no-liftoff" ...

A case is `node[|ENV=VAL...]` or `chromium[|flag|flag...][|nojspi][|sync]`, plus bench args after ` :: `
(default `--db memory --passes 1`), e.g. `chromium|sync :: --db file --passes 2`.
Each round runs every case once, in the order given; the medians over rounds are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from server import serve_in_background  # noqa: E402

BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def parse_results(lines: list[str]) -> list[dict]:
    return [json.loads(x[len("RESULT "):]) for x in lines if x.startswith("RESULT ")]


def run_node(env_extra: dict[str, str], bench_args: list[str]) -> tuple[list[str], str]:
    env = dict(os.environ, **env_extra)
    p = subprocess.run(["node", str(HERE / "run_node.mjs"), "bench_a.py", *bench_args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    lines = p.stdout.splitlines() + ["ERR " + x for x in p.stderr.splitlines()]
    return lines, lines[0] if lines else ""


def run_chromium(url: str, flags: list[str], bench_args: list[str], nojspi: bool, sync: bool) -> tuple[list[str], str]:
    from playwright.sync_api import sync_playwright
    from urllib.parse import urlencode
    q = {"args": " ".join(bench_args)}
    if nojspi:
        q["nojspi"] = "1"
    if sync:
        q["sync"] = "1"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=BASE_ARGS + flags)
        try:
            page = browser.new_page()
            page.goto(f"{url}/exp/index.html?{urlencode(q)}")
            page.wait_for_function("window.__done", timeout=900_000, polling=500)
            lines = page.evaluate("window.__lines")
        finally:
            browser.close()
    return lines, next((x for x in lines if x.startswith("worker:")), "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "out" / "runs.jsonl"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    url, srv = serve_in_background()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    allruns: dict[str, list[dict]] = {c: [] for c in args.case}
    with open(args.out, "a") as out:
        for rnd in range(args.rounds):
            for case in args.case:
                spec, _, bargs = case.partition(" :: ")
                bench_args = bargs.split() if bargs else ["--db", "memory", "--passes", "1"]
                parts = spec.split("|")
                ld = load()
                t = time.time()
                if parts[0] == "node":
                    env = dict(p.split("=", 1) for p in parts[1:])
                    lines, who = run_node(env, bench_args)
                else:
                    flags = [p for p in parts[1:] if p.startswith("--")]
                    lines, who = run_chromium(url, flags, bench_args, "nojspi" in parts, "sync" in parts)
                res = parse_results(lines)
                if args.verbose or not res:
                    print("\n".join(lines), flush=True)
                for r in res:
                    r.update(case=case, round=rnd + 1, load_start=ld, load_end=load(), wall=round(time.time() - t, 1))
                    out.write(json.dumps(r) + "\n")
                    out.flush()
                    allruns[case].append(r)
                    print(f"[{rnd + 1}] {case:60s} pass {r['pass']}: parse {r['parse']:.3f} convert {r['convert']:.3f}"
                          f" insert {r['insert']:.3f} commit {r['commit']:.3f}  load {ld}->{r['load_end']}", flush=True)
                if rnd == 0:
                    print(f"    ({who})", flush=True)
    print("\nmedians over rounds, s per 1M rows")
    for case, runs in allruns.items():
        for p in sorted({r["pass"] for r in runs}):
            rs = [r for r in runs if r["pass"] == p]
            med = {k: statistics.median(r[k] for r in rs) for k in ("parse", "convert", "insert", "commit")}
            loads = ",".join(r["load_start"] for r in rs)
            print(f"  {case:60s} pass {p} (n={len(rs)}): parse {med['parse']:.3f} convert {med['convert']:.3f}"
                  f" insert {med['insert']:.3f} commit {med['commit']:.3f}  loads {loads}")
    srv.shutdown()


if __name__ == "__main__":
    main()
