#!/usr/bin/env python3
"""One summary of scripts/gpu-check.sh's results: parity test counts and
figures, the CUDA decode benchmark beside the PyTorch baseline, and the
issue's targets (batch 1 <= 1.3x the weight-streaming floor and >= 3x the
PyTorch step's speed; batch 64 and 256 >= 2x PyTorch's tokens/s)."""
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    out = sys.argv[1]
    statuses = dict(a.split("=", 1) for a in sys.argv[2:])
    print("\n===== gpu-check summary =====")
    print("steps: " + ", ".join(f"{k} {v}" for k, v in statuses.items()))
    logs = {"build": "build.log", "tests": "parity.log", "bench": "bench.log", "torch": "torch.log",
            "memcheck": "memcheck.log"}
    for step, status in statuses.items():
        if status == "failed" and step in logs:
            try:
                with open(os.path.join(out, logs[step])) as f:
                    tail = f.read().splitlines()[-6:]
                print(f"{step} failed; last lines of {logs[step]}:")
                for line in tail:
                    print("  " + line)
            except OSError:
                pass

    parity = load(os.path.join(out, "parity.json"))
    if parity:
        failed, skipped, passed = [], 0, 0
        for suite in parity.get("testsuites", []):
            for t in suite.get("testsuite", []):
                name = f"{suite['name']}.{t['name']}"
                if t.get("failures"):
                    failed.append(name)
                elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                    skipped += 1
                else:
                    passed += 1
        print(f"parity tests: {passed} passed, {len(failed)} failed, {skipped} skipped")
        for name in failed:
            print(f"  FAILED {name}")
    try:
        with open(os.path.join(out, "parity.log")) as f:
            figures = [l.rstrip() for l in f if "rel L2" in l or "differ from" in l]
        print("parity figures (relative L2 error vs the CPU reference):")
        for line in figures:
            print("  " + line)
    except OSError:
        pass
    try:
        with open(os.path.join(out, "hidden.log")) as f:
            hidden = f.read()
        m = re.search(r"\[  SKIPPED \] (\d+) test", hidden)
        print(f"with devices hidden: {m.group(1) if m else '?'} tests skipped")
    except OSError:
        pass

    try:
        with open(os.path.join(out, "memcheck.log")) as f:
            errors = [l.strip() for l in f if "ERROR SUMMARY" in l]
        print("compute-sanitizer memcheck: " + (errors[-1] if errors else "no summary line"))
    except OSError:
        pass

    bench = load(os.path.join(out, "bench.json"))
    torch_rows = load(os.path.join(out, "decode_graph.json")) or []
    torch = {r["batch"]: r for r in torch_rows}
    if bench:
        bw = max(bench["copy_kernel_gbps"], bench["copy_memcpy_gbps"])
        print(f"device {bench['device']}: copy bandwidth {bw:.0f} GB/s (read + write); weights "
              f"{bench['weight_bytes'] / 1e9:.3f} GB/step; floor {bench['floor_ms']:.3f} ms")
        print(f"prefill {bench['prefill_tokens']} tokens: {bench['prefill_ms']:.2f} ms")
        print("ours ms: host-timed step (upload .. tokens read back); replay ms: back-to-back graph replays, "
              "as decode_graph.py times PyTorch")
        print(f"{'batch':>6} {'ours ms':>9} {'replay ms':>10} {'torch ms':>9} {'speedup':>8} {'ours tok/s':>11} "
              f"{'torch tok/s':>12} {'ratio':>6}")
        for r in bench["decode"]:
            t = torch.get(r["batch"])
            tm = f"{t['ms_per_step']:.3f}" if t else "-"
            tt = f"{t['decode_tok_s']:.0f}" if t else "-"
            sp = f"{t['ms_per_step'] / r['ms_per_step']:.2f}x" if t else "-"
            ratio = f"{r['decode_tok_s'] / t['decode_tok_s']:.2f}x" if t else "-"
            print(f"{r['batch']:>6} {r['ms_per_step']:>9.3f} {r.get('replay_ms', 0):>10.3f} {tm:>9} {sp:>8} "
                  f"{r['decode_tok_s']:>11.0f} {tt:>12} {ratio:>6}")
        rows = {r["batch"]: r for r in bench["decode"]}
        targets = []
        if 1 in rows:
            x = rows[1]["ms_per_step"] / bench["floor_ms"]
            targets.append(f"batch 1 at {x:.2f}x the floor (target <= 1.3x): {'met' if x <= 1.3 else 'NOT met'}")
            if rows[1].get("replay_ms"):
                y = rows[1]["replay_ms"] / bench["floor_ms"]
                targets.append(f"batch 1 graph replay at {y:.2f}x the floor (device time only)")
            if 1 in torch:
                s = torch[1]["ms_per_step"] / rows[1]["ms_per_step"]
                targets.append(f"batch 1 {s:.2f}x PyTorch's speed (target >= 3x): {'met' if s >= 3 else 'NOT met'}")
        for b in (64, 256):
            if b in rows and b in torch:
                s = rows[b]["decode_tok_s"] / torch[b]["decode_tok_s"]
                targets.append(f"batch {b} {s:.2f}x PyTorch's tokens/s (target >= 2x): {'met' if s >= 2 else 'NOT met'}")
        for t in targets:
            print("target: " + t)
    elif torch_rows:
        print("PyTorch baseline only: " + json.dumps(torch_rows))


if __name__ == "__main__":
    main()
