"""Contention export end to end: contended_sites under the preload, its
metrics scraped over HTTP, its exit report and dump read back, each checked
against the call-sites, lines, locks and counts the program prints."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

LIB = os.environ["PARKLOCK_LIB"]
PROGRAM = os.environ["CONTENDED_SITES"]
CLI = os.environ["PARKLOCK_CLI"]
TIMEOUT_S = 120


def expectations(stdout):
    """The `expect` lines of contended_sites: waits and holders."""
    waits, holders = [], []
    for line in stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["expect", "wait"]:
            waits.append({"function": parts[2], "where": parts[3], "lock": parts[4], "count": int(parts[5])})
        elif parts[:2] == ["expect", "holder"]:
            holders.append({"function": parts[2], "where": parts[3], "lock": parts[4]})
    return waits, holders


def thread_stacks(pid):
    """Every thread's stack, for a failure message (needs gdb; says so otherwise)."""
    gdb = shutil.which("gdb")
    if not gdb:
        return "(install gdb to see them)"
    out = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt 30"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout[-20000:]


def lock_word(stdout):
    return int(re.search(r"^contended lock word (-?\d+)", stdout, re.M).group(1))


def preload_env(also_preload=(), **settings):
    """The environment of a program under the preload (and `also_preload`,
    after it), with PARKLOCK_<SETTING> for each setting."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join([LIB, *also_preload])
    for name in list(env):
        if name.startswith("PARKLOCK_") and name != "PARKLOCK_LIB":
            del env[name]
    env.update({"PARKLOCK_" + k.upper(): str(v) for k, v in settings.items()})
    return env


class Running:
    """A program under the preload, read up to its "ready" line:
    contended_sites --hold-open unless `command` is given, its metrics
    endpoint on a free port (or on settings["metrics"]). close() ends its
    standard input, and collects the rest of its output and its exit status."""

    def __init__(self, *args, command=None, also_preload=(), **settings):
        command = command or [PROGRAM, "--hold-open", *args]
        settings.setdefault("metrics", "127.0.0.1:0")
        self.proc = subprocess.Popen(command, env=preload_env(also_preload, **settings),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if settings["metrics"].endswith(":0"):
            announce = self.proc.stderr.readline()
            match = re.search(r"metrics at (http://\S+)", announce)
            if not match:
                self.proc.kill()
                raise AssertionError("no metrics announcement on stderr: %r" % announce)
            self.url = match.group(1)
            self.stderr = announce
        else:
            self.url = "http://%s/metrics" % settings["metrics"]
            self.stderr = ""
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.strip() == "ready":
                break
        self.stdout = "".join(lines)

    def scrape(self):
        try:
            with urllib.request.urlopen(self.url, timeout=30) as response:
                return response.read().decode()
        except OSError:
            raise AssertionError("scrape of %s failed; the program's threads:\n%s" % (self.url, thread_stacks(self.proc.pid)))

    def close(self):
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT_S)
            self.stdout += out
            self.stderr += err
        except subprocess.TimeoutExpired:
            stacks = thread_stacks(self.proc.pid)
            self.proc.kill()
            self.proc.communicate()
            raise AssertionError("%s did not exit; its threads:\n%s" % (self.proc.args[0], stacks))
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def samples(text, name):
    """{labels-dict-as-tuple: value} of one metric in a Prometheus text scrape."""
    out = {}
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(r'^%s\{(.*)\} (\S+)$' % re.escape(name), line)
        if match:
            labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1))))
            out[labels] = float(match.group(2))
    return out


def find(series, **want):
    """The values of the series whose labels contain every `want` substring."""
    return [v for labels, v in series.items()
            if all(any(k == name and sub in value for k, value in labels) for name, sub in want.items())]


class SiteChecks:
    """Checks of a contended_sites scrape against what the program printed."""

    def check_waits_in_scrape(self, text, stdout):
        waits, holders = expectations(stdout)
        self.assertEqual(len(waits), 2, stdout)
        counts = samples(text, "parklock_lock_wait_seconds_count")
        for w in waits:
            values = find(counts, site=w["function"], lock=w["lock"], kind="mutex")
            values = [v for labels, v in counts.items()
                      if dict(labels).get("site", "").startswith(w["function"]) and w["where"] in dict(labels)["site"]
                      and dict(labels).get("lock") == w["lock"] and dict(labels).get("kind") == "mutex"]
            self.assertEqual(values, [w["count"]], "%s not found with its count in:\n%s" % (w, "\n".join(
                line for line in text.splitlines() if line.startswith("parklock_lock_wait_seconds_count"))))
        caused = samples(text, "parklock_lock_holder_wait_seconds_total")
        for h in holders:
            values = [v for labels, v in caused.items()
                      if dict(labels).get("holder_site", "").startswith(h["function"])
                      and h["where"] in dict(labels)["holder_site"] and dict(labels).get("lock") == h["lock"]]
            self.assertEqual(len(values), 1, "holder %s not in:\n%s" % (h, text))
            self.assertGreater(values[0], 0)

    def check_waits_in_scrape_waiters_only(self, text, stdout):
        waits, _ = expectations(stdout)
        counts = samples(text, "parklock_lock_wait_seconds_count")
        for w in waits:
            values = [v for labels, v in counts.items()
                      if dict(labels).get("site", "").startswith(w["function"]) and w["where"] in dict(labels)["site"]
                      and dict(labels).get("lock") == w["lock"]]
            self.assertEqual(values, [w["count"]], text)


class KnownSites(SiteChecks, unittest.TestCase):
    def test_scrape_names_waiters_holder_and_locks(self):
        with Running() as run:
            text = run.scrape()
            self.check_waits_in_scrape(text, run.stdout)
            self.assertIn('parklock_info{version="', text)
            self.assertIn('locks="parklock"', text)
            self.assertTrue(re.search(r"^parklock_contended_acquisitions_total \d+", text, re.M), text)
            # Parklock's encoding: locked and parked (and the hold being timed).
            self.assertEqual(lock_word(run.stdout) & 11, 9, run.stdout)

    def test_named_lock_counts_every_acquisition(self):
        with Running() as run:
            text = run.scrape()
            want = int(re.search(r"^expect acquisitions orders (\d+)", run.stdout, re.M).group(1))
            counts = samples(text, "parklock_lock_acquisitions_total")
            self.assertEqual(counts.get((("kind", "mutex"), ("lock", "orders"))), want, text)
            # The static mutex has no name: it is not counted.
            self.assertNotIn('lock="g_table_mutex"', "\n".join(
                line for line in text.splitlines() if line.startswith("parklock_lock_acquisitions_total")))

    def test_every_scrape_passes_promtool(self):
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed (Debian package prometheus)")
        with Running() as run:
            for _ in range(3):
                text = run.scrape()
                check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def run_to_exit(self, **settings):
        proc = subprocess.run([PROGRAM], env=preload_env(**settings), capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def test_exit_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.txt")
            proc = self.run_to_exit(report=path)
            report = open(path).read()
        waits, holders = expectations(proc.stdout)
        for w in waits:
            row = [line for line in report.splitlines() if w["function"] in line and w["where"] in line]
            self.assertEqual(len(row), 1, report)
            fields = row[0].split()
            self.assertEqual(int(fields[1]), w["count"], row[0])  # the waits column
            self.assertIn(" %s " % w["lock"], row[0])
        self.assertIn("held by hold_until_parked", report)

    def test_dump(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dump.json")
            proc = self.run_to_exit(dump=path, stack_depth=4)
            dump = json.load(open(path))
        waits, _ = expectations(proc.stdout)
        for w in waits:
            file, line = w["where"].split(":")
            sites = [s for s in dump["sites"] if s["stack"] and s["stack"][0]["function"].startswith(w["function"])
                     and s["stack"][0]["file"] == file and s["stack"][0]["line"] == int(line) and s["lock"] == w["lock"]]
            self.assertEqual(len(sites), 1, json.dumps(dump, indent=1)[:4000])
            self.assertEqual(sites[0]["wait"]["count"], w["count"])
            self.assertLessEqual(len(sites[0]["stack"]), 4)
            self.assertEqual(sum(sites[0]["wait"]["buckets"]), w["count"])
        self.assertGreaterEqual(dump["counters"]["contended_acquisitions"], sum(w["count"] for w in waits))

    def test_launcher_report_of_a_dump_is_the_exit_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            report, dump = os.path.join(tmp, "report.txt"), os.path.join(tmp, "dump.json")
            proc = subprocess.run([CLI, "run", "--dump", dump, "--report", report, "--", PROGRAM],
                                  env=preload_env(), capture_output=True, text=True, timeout=TIMEOUT_S)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            rendered = subprocess.run([CLI, "report", dump, "--top", "50"], capture_output=True, text=True,
                                      timeout=TIMEOUT_S)
            self.assertEqual(rendered.returncode, 0, rendered.stderr)
            self.assertEqual(rendered.stdout, open(report).read())
            self.assertIn("wait_on_orders", rendered.stdout)
            bad = subprocess.run([CLI, "report", report], capture_output=True, text=True, timeout=TIMEOUT_S)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("is not JSON", bad.stderr)

    def test_observe_only_records_under_glibc_locks(self):
        with Running(locks="glibc") as run:
            text = run.scrape()
            self.assertIn('locks="glibc"', text)
            self.check_waits_in_scrape_waiters_only(text, run.stdout)
            # glibc's encoding of "locked, with waiters" is 2: its algorithm ran.
            self.assertEqual(lock_word(run.stdout), 2, run.stdout)
            want = int(re.search(r"^expect acquisitions orders (\d+)", run.stdout, re.M).group(1))
            counts = samples(text, "parklock_lock_acquisitions_total")
            self.assertEqual(counts.get((("kind", "mutex"), ("lock", "orders"))), want, text)


class RealPrometheus(unittest.TestCase):
    """Debian's Prometheus scrapes the preload's endpoint; PromQL finds the call-sites."""

    def test_promql_topk_of_wait_rate_returns_the_call_sites(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "prometheus"))
        from prometheus_harness import PrometheusServer, free_port
        if not shutil.which("prometheus"):
            self.skipTest("prometheus not installed (Debian package prometheus)")
        port = free_port()
        with Running(metrics="127.0.0.1:%d" % port) as run, PrometheusServer(["127.0.0.1:%d" % port]) as prometheus:
            waits, _ = expectations(run.stdout)
            prometheus.wait_for_scrapes(3)
            result = prometheus.query("topk(5, sum by (site, lock) (rate(parklock_lock_wait_seconds_sum[1m])))")
            found = {(r["metric"].get("site", ""), r["metric"].get("lock")) for r in result}
            for w in waits:
                self.assertTrue(any(site.startswith(w["function"]) and w["where"] in site and lock == w["lock"]
                                    for site, lock in found), "%s not in %s" % (w, found))
            counts = prometheus.query('sum by (lock) (parklock_lock_wait_seconds_count{lock="orders"})')
            self.assertEqual([float(r["value"][1]) for r in counts], [float(waits[0]["count"])])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], *sys.argv[1:]], verbosity=2)
