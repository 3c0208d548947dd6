#!/usr/bin/env python3
"""The Grafana dashboard is valid: JSON, the structure Grafana needs (unique
panel ids, grid positions, a Prometheus datasource through the dashboard's
variable, a query per target), no variable used that is not defined, and
every query parses as PromQL (promtool checks them as recording rules).

usage: check_dashboard.py DASHBOARD.json PROMTOOL"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "prometheus"))
import dashboard as dash  # noqa: E402

path, promtool = sys.argv[1], sys.argv[2]
problems = []
board = dash.load(path)  # raises on invalid JSON

for key in ("uid", "title", "panels", "templating", "schemaVersion"):
    if key not in board:
        problems.append(f"no '{key}'")
defined = {v["name"] for v in board["templating"]["list"]}
ids = [p["id"] for p in dash.panels(board)]
if len(ids) != len(set(ids)):
    problems.append(f"panel ids repeat: {ids}")

queries = 0
for panel in dash.panels(board):
    title = panel.get("title") or f"panel {panel.get('id')}"
    grid = panel.get("gridPos", {})
    if not all(isinstance(grid.get(k), int) for k in "xywh") or grid["x"] + grid["w"] > 24:
        problems.append(f"{title}: gridPos {grid} is not inside the 24-column grid")
    if panel["type"] == "row":
        continue
    if panel.get("datasource", {}).get("uid") != "${datasource}":
        problems.append(f"{title}: datasource is not the dashboard's ${{datasource}}")
    if not panel.get("targets"):
        problems.append(f"{title}: no query")
    for target in panel.get("targets", []):
        expr = target.get("expr", "")
        if not expr or not target.get("refId"):
            problems.append(f"{title}: a target without expr or refId")
        for variable in re.findall(r"\$(\w+)", expr):
            if not variable.startswith("__") and variable not in defined:
                problems.append(f"{title}: ${variable} is not a dashboard variable")
        queries += 1

# promtool parses PromQL offline only inside rule files: one rule per query.
with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as rules:
    rules.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, ref, expr) in enumerate(dash.queries(board)):
        rules.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}\n")
try:
    check = subprocess.run([promtool, "check", "rules", rules.name], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        problems.append("promtool does not parse every query:\n" + check.stdout + check.stderr)
finally:
    os.unlink(rules.name)

if problems:
    print("FAIL:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"PASS: {path}: {len(ids)} panels, {queries} queries, all parse")
