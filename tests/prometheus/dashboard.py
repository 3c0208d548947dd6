"""The Grafana dashboard's queries, as Prometheus can run them: every
panel's PromQL with Grafana's variables filled in."""
import json
import os

DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "grafana", "parklock.json")

# Grafana's built-in variables and the dashboard's own, as a query over a
# short test window sees them: every service, rates over 30 s.
VARIABLES = {
    "$__rate_interval": "30s",
    "$__interval": "15s",
    "$__range": "1m",
    "$service": ".*",
}


def load(path=DASHBOARD):
    with open(path) as f:
        return json.load(f)


def panels(dashboard):
    """Every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def fill_variables(expr):
    # Longest names first: $__rate_interval before $__range.
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    return expr


def queries(dashboard):
    """(panel title, refId, PromQL) for every target of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["refId"], fill_variables(target["expr"])
