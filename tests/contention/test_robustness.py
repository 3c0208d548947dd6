"""The exporter never hurts its host: a busy port, bad settings, parallel
scrapes, an exit in the middle of scrapes, fork and exec, and a thousand
call-sites (the top-K limit, a full site table). Every test also requires
the program's own output and exit status to be what they are without the
preload."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

from test_contention import PROGRAM, TIMEOUT_S, Running, SiteChecks, preload_env, samples, thread_stacks

MANY_SITES = os.environ["MANY_SITES"]
EXITS_UNDER_SCRAPES = os.environ["EXITS_UNDER_SCRAPES"]
FORKS_AND_EXECS = os.environ["FORKS_AND_EXECS"]
LARGE_TLS = os.environ["LARGE_TLS"]
PROMTOOL = shutil.which("promtool")


def native(command, **kwargs):
    """The program without the preload: the output every run must match."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("PARKLOCK_")}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)
    assert proc.returncode == 0, "native run of %s failed: %s" % (command, proc.stderr)
    return proc


def comparable(stdout):
    """contended_sites prints its lock word, glibc's or ours: the one line that
    differs by design between a native and a preloaded run."""
    return re.sub(r"^contended lock word .*\n", "", stdout, flags=re.M)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_counts(text, **want):
    """The parklock_lock_wait_seconds_count samples whose labels equal `want`."""
    return [v for labels, v in samples(text, "parklock_lock_wait_seconds_count").items()
            if all(dict(labels).get(k) == v for k, v in want.items())]


def gauge(text, name):
    match = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    if not match:
        raise AssertionError("%s not in the scrape" % name)
    return float(match.group(1))


class Watchdog:
    """Kills `proc` and its process group (its children hold its pipes too)
    if it is still running after `seconds`, keeping its threads' stacks for
    the failure message: reads of its output that wait for a line then end
    instead of hanging the test. Start `proc` with start_new_session=True."""

    def __init__(self, proc, seconds=TIMEOUT_S):
        self.proc = proc
        self.stacks = None
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.start()

    def expire(self):
        if self.proc.poll() is None:
            self.stacks = thread_stacks(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGKILL)

    def check(self):
        """Stops the timer; fails if it had to kill the program."""
        self.timer.cancel()
        if self.stacks is not None:
            raise AssertionError("%s hung; its threads:\n%s" % (self.proc.args[0], self.stacks))


class Held:
    """A program under the preload (no endpoint asked for), read up to its
    "ready" line and kept running until close(), for looking at its maps."""

    def __init__(self, command, **settings):
        self.proc = subprocess.Popen(command, env=preload_env(**settings), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.strip() == "ready":
                break
        self.head = "".join(lines)

    def mapped(self, name):
        with open("/proc/%d/maps" % self.proc.pid) as maps:
            return name in maps.read()

    def close(self):
        out, err = self.proc.communicate(timeout=TIMEOUT_S)
        return self.proc.returncode, self.head + out, err


class ProgramChecks(unittest.TestCase):
    def assert_one_warning(self, stderr, variable):
        lines = stderr.splitlines()
        self.assertEqual(len(lines), 1, "want exactly one line on stderr, got:\n%s" % stderr)
        self.assertIn(variable, lines[0])
        self.assertTrue(lines[0].startswith("parklock: "), lines[0])

    def assert_promtool_accepts(self, text):
        if not PROMTOOL:
            return
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=TIMEOUT_S)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def run_preloaded(self, command, **settings):
        return subprocess.run(command, env=preload_env(**settings), capture_output=True, text=True, timeout=TIMEOUT_S)


class BusyPort(ProgramChecks):
    def test_busy_port_is_one_warning_and_the_program_runs_on(self):
        with socket.socket() as taken, tempfile.TemporaryDirectory() as tmp:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            dump = os.path.join(tmp, "dump.json")
            proc = self.run_preloaded([PROGRAM], metrics=port, dump=dump)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            # Recording and the other outputs go on without the endpoint.
            with open(dump) as f:
                self.assertGreater(json.load(f)["counters"]["contended_acquisitions"], 0)
        self.assert_one_warning(proc.stderr, "127.0.0.1:%d" % port)
        self.assertIn("no metrics endpoint", proc.stderr)
        self.assertEqual(comparable(proc.stdout), comparable(native([PROGRAM]).stdout))


class LargeThreadLocalStorage(SiteChecks, ProgramChecks):
    def test_scrapes_of_a_host_with_96_kib_of_thread_local_storage(self):
        """Static TLS comes out of every thread's stack: more of it than a
        web server's fixed small worker stacks hold (a host linking OpenBLAS
        or cuBLASLt) must not stop the endpoint or crash the host."""
        with Running(also_preload=[LARGE_TLS]) as run:
            for _ in range(3):
                self.check_waits_in_scrape(run.scrape(), run.stdout)
            self.assertEqual(run.close(), 0, run.stderr)
        self.assertEqual(comparable(run.stdout), comparable(native([PROGRAM]).stdout))


class BadSettings(ProgramChecks):
    """Each bad value: one line naming the variable, the default in force,
    the program's output as without the preload."""

    def run_with_dump(self, command, **settings):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dump.json")
            proc = self.run_preloaded(command, dump=path, **settings)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(path) as f:
                return proc, json.load(f)

    def check_stack_depth_default(self, value):
        # 20 nested frames give stacks of some 27 frames: the default keeps 8
        # (1 or 32 would be a clamped value, not the default).
        command = [MANY_SITES, "--sites", "2", "--nest", "20"]
        proc, dump = self.run_with_dump(command, stack_depth=value)
        self.assert_one_warning(proc.stderr, "PARKLOCK_STACK_DEPTH")
        grid = [s for s in dump["sites"] if s["lock"] == "grid" and s["wait"]["count"]]
        self.assertEqual(len(grid), 2, dump["sites"])
        self.assertEqual([len(s["stack"]) for s in grid], [8, 8])
        self.assertEqual(proc.stdout, native(command).stdout)

    def test_stack_depth_zero(self):
        self.check_stack_depth_default("0")

    def test_stack_depth_too_deep(self):
        self.check_stack_depth_default("99")

    def test_stack_depth_not_a_number(self):
        self.check_stack_depth_default("abc")

    def test_negative_sample(self):
        # The default samples every wait: 20 sites, one wait each, all with a stack.
        command = [MANY_SITES, "--sites", "20"]
        proc, dump = self.run_with_dump(command, sample="-1")
        self.assert_one_warning(proc.stderr, "PARKLOCK_SAMPLE")
        grid = [s for s in dump["sites"] if s["lock"] == "grid" and s["wait"]["count"]]
        self.assertEqual(sorted(s["wait"]["count"] for s in grid), [1] * 20, grid)
        self.assertTrue(all(s["stack"] for s in grid))
        self.assertEqual(proc.stdout, native(command).stdout)

    def test_top_not_a_number(self):
        command = [MANY_SITES, "--sites", "60"]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.txt")
            proc = self.run_preloaded(command, report=path, top="x")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(path) as f:
                report = f.read()
        self.assert_one_warning(proc.stderr, "PARKLOCK_TOP")
        self.assertRegex(report, r"top 50 of 6\d by total wait")
        self.assertEqual(proc.stdout, native(command).stdout)

    def test_unknown_lock_algorithm(self):
        proc, dump = self.run_with_dump([PROGRAM], locks="other")
        self.assert_one_warning(proc.stderr, "PARKLOCK_LOCKS")
        self.assertEqual(dump["parklock"]["locks"], "parklock")
        # Parklock's lock word (locked and parked: 1 | 8), not glibc's 2.
        self.assertEqual(int(re.search(r"^contended lock word (-?\d+)", proc.stdout, re.M).group(1)) & 11, 9)
        self.assertEqual(comparable(proc.stdout), comparable(native([PROGRAM]).stdout))

    def check_starts_nothing(self, **settings):
        """No recorder (libunwind is loaded only to record) and no exporter."""
        held = Held([PROGRAM, "--hold-open"], **settings)
        try:
            self.assertFalse(held.mapped("libparklock_exporter.so"))
            self.assertFalse(held.mapped("libunwind.so"))
        finally:
            rc, stdout, stderr = held.close()
        self.assertEqual(rc, 0, stderr)
        self.assert_one_warning(stderr, "PARKLOCK_" + next(iter(settings)).upper())
        self.assertEqual(comparable(stdout), comparable(native([PROGRAM]).stdout))

    def test_metrics_not_a_port(self):
        self.check_starts_nothing(metrics="notaport")

    def test_record_not_0_or_1(self):
        self.check_starts_nothing(record="2")


class ParallelScrapes(SiteChecks, ProgramChecks):
    def test_32_scrapes_at_once(self):
        with Running() as run:
            barrier = threading.Barrier(32)
            results = [None] * 32

            def scrape(i):
                barrier.wait(timeout=TIMEOUT_S)
                try:
                    with urllib.request.urlopen(run.url, timeout=TIMEOUT_S) as response:
                        results[i] = (response.status, response.headers.get("Content-Type", ""), response.read().decode())
                except OSError as e:
                    results[i] = (None, "", repr(e))

            for _ in range(2):
                threads = [threading.Thread(target=scrape, args=(i,)) for i in range(32)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=TIMEOUT_S)
                self.assertFalse(any(t.is_alive() for t in threads), thread_stacks(run.proc.pid))
                for status, content_type, text in results:
                    self.assertEqual(status, 200, text)
                    self.assertTrue(content_type.startswith("text/plain"), content_type)
                    self.check_waits_in_scrape(text, run.stdout)
                for text in set(r[2] for r in results):
                    self.assert_promtool_accepts(text)
            self.assertEqual(run.close(), 0, run.stderr)
        self.assertEqual(comparable(run.stdout), comparable(native([PROGRAM]).stdout))


class ExitUnderScrapes(ProgramChecks):
    """The program exits while four threads scrape it in a loop: it exits
    with its own status, by no signal, in bounded time (the exporter's
    threads do not keep it alive), and still writes its exit outputs."""

    SCRAPERS = 4
    MAX_SCRAPES = 400  # per scraper

    def check_exit(self, how, status=None):
        with tempfile.TemporaryDirectory() as tmp:
            report, dump = os.path.join(tmp, "report.txt"), os.path.join(tmp, "dump.json")
            command = [EXITS_UNDER_SCRAPES, how] + ([str(status)] if status is not None else [])
            status = status or 0
            run = Running(command=command, report=report, dump=dump)
            ok = [0] * self.SCRAPERS
            errors = []
            exit_sent = threading.Event()

            def hammer(i):
                deadline = time.monotonic() + TIMEOUT_S
                for _ in range(self.MAX_SCRAPES):
                    if time.monotonic() > deadline or run.proc.poll() is not None:
                        return
                    try:
                        with urllib.request.urlopen(run.url, timeout=30) as response:
                            if response.status == 200 and "parklock_info" in response.read().decode():
                                ok[i] += 1
                    except (OSError, http.client.HTTPException) as e:  # refused or cut off: the program is gone
                        if not exit_sent.is_set():
                            errors.append(repr(e))
                        return

            scrapers = [threading.Thread(target=hammer, args=(i,)) for i in range(self.SCRAPERS)]
            for t in scrapers:
                t.start()
            give_up = time.monotonic() + TIMEOUT_S
            while sum(ok) < 2 * self.SCRAPERS and time.monotonic() < give_up and not errors:
                time.sleep(0.01)
            exit_sent.set()
            run.proc.stdin.write("exit\n")
            run.proc.stdin.flush()
            rc = run.close()
            for t in scrapers:
                t.join(timeout=TIMEOUT_S)
            self.assertEqual(errors, [])
            self.assertGreaterEqual(sum(ok), 2 * self.SCRAPERS)
            self.assertEqual(rc, status, "exit status %d (negative: a signal); stderr:\n%s" % (rc, run.stderr))
            self.assertEqual(run.stdout, "ready\nexiting %d\n" % status)
            # Only the endpoint's announcement: no warning, no error.
            self.assertEqual(len(run.stderr.splitlines()), 1, run.stderr)
            with open(dump) as f:
                self.assertEqual(json.load(f)["parklock"]["pid"], run.proc.pid)
            with open(report) as f:
                self.assertIn("churn", f.read())

    def test_return_from_main(self):
        self.check_exit("return", 3)

    def test_exit_from_another_thread(self):
        self.check_exit("exit-from-thread", 5)

    def test_main_thread_exit_then_the_last_thread(self):
        self.check_exit("pthread-exit")


class ForksAndExecs(ProgramChecks):
    def test_children_run_on_and_only_the_parent_reports(self):
        port = free_port()
        url = "http://127.0.0.1:%d/metrics" % port
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.txt")
            proc = subprocess.Popen([FORKS_AND_EXECS, tmp], env=preload_env(metrics=port, report=report),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
            watchdog = Watchdog(proc)
            try:
                head = self.read_until(proc, "ready")
                before = self.scrape(url, proc)
                proc.stdin.write("fork\n")
                proc.stdin.flush()
                head += self.read_until(proc, "done")
                after = self.scrape(url, proc)
                out, err = proc.communicate(timeout=TIMEOUT_S)
            except (AssertionError, OSError):
                watchdog.check()
                raise
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.communicate()
            watchdog.check()
            stdout = head + out
            self.assertEqual(proc.returncode, 0, err)
            self.assertEqual(err, "")  # the parent got its port
            for text in (before, after):
                self.assertEqual(wait_counts(text, lock="parent_lock", kind="mutex"), [5.0], text)
                self.assertNotIn("child_lock", text)  # the fork child's contention is its own
                self.assert_promtool_accepts(text)
            for line in ("fork child: 7 waits, late 0", "fork child: exit 0", "report after the fork child: absent",
                         "exec /bin/true: exit 0", "exec child: late 0", "exec self: exit 0"):
                self.assertIn(line + "\n", stdout)
            # The exec'd programs run the preload afresh: at most the one line
            # that says the port is taken.
            for name in ("true.err", "self.err"):
                with open(os.path.join(tmp, name)) as f:
                    lines = f.read().splitlines()
                self.assertLessEqual(len(lines), 1, lines)
                for line in lines:
                    self.assertIn("no metrics endpoint on 127.0.0.1:%d" % port, line)
            with open(report) as f:
                text = f.read()
            pid = int(re.search(r"^pid (\d+)$", stdout, re.M).group(1))
            self.assertEqual(re.findall(r"lock contention by call-site \(pid (\d+)", text), [str(pid)], text)
            self.assertIn("parent_lock", text)
            self.assertNotIn("child_lock", text)
            want = native([FORKS_AND_EXECS, tmp], input="fork\n").stdout
        without_pids = lambda s: re.sub(r"^pid \d+\n", "", s, flags=re.M)
        self.assertEqual(without_pids(stdout).replace("report after the fork child: absent\n", ""), without_pids(want))

    def read_until(self, proc, last):
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == last:
                return "".join(lines)
        raise AssertionError("no %r line in:\n%s" % (last, "".join(lines)))

    def scrape(self, url, proc):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read().decode()
        except OSError:
            raise AssertionError("scrape of %s failed; threads:\n%s" % (url, thread_stacks(proc.pid)))


class ManySites(ProgramChecks):
    """many_sites: 1,000 call-sites that each wait once on the "grid" lock."""

    SERIES = (("parklock_lock_wait_seconds_count", "site"), ("parklock_lock_hold_seconds_count", "site"),
              ("parklock_lock_holder_wait_seconds_total", "holder_site"))

    def check_series_bounded(self, text, top):
        for metric, label in self.SERIES:
            named = [labels for labels in samples(text, metric) if dict(labels)[label] != "other"]
            self.assertLessEqual(len(named), top, "%s has %d named series" % (metric, len(named)))
        others = wait_counts(text, site="other", lock="grid", kind="mutex")
        self.assertEqual(len(others), 1, "no site=\"other\" series for the grid's waits")

    def grid_waits(self, text):
        return sum(v for labels, v in samples(text, "parklock_lock_wait_seconds_count").items()
                   if dict(labels)["lock"] == "grid")

    def test_top_k_bounds_the_series_and_keeps_every_count(self):
        command = [MANY_SITES, "--hold-open"]
        with Running(command=command, top=50) as run:
            waits = int(re.search(r"^waits (\d+)", run.stdout, re.M).group(1))
            self.assertEqual(waits, 1000)
            self.assertIn("late 0\n", run.stdout)
            text = run.scrape()
            self.check_series_bounded(text, 50)
            self.assertEqual(self.grid_waits(text), waits)
            self.assertGreaterEqual(gauge(text, "parklock_sites"), waits + 1)  # and the holder's site
            self.assertEqual(gauge(text, "parklock_sites_dropped_total"), 0)
            self.assert_promtool_accepts(text)
            self.assertEqual(run.close(), 0, run.stderr)
        self.assertEqual(run.stdout, native(command).stdout)

    def test_full_site_table_overflows_into_other(self):
        # 5,000 distinct stacks for the 4,096-slot table.
        command = [MANY_SITES, "--paths", "5", "--hold-open"]
        with Running(command=command) as run:
            waits = int(re.search(r"^waits (\d+)", run.stdout, re.M).group(1))
            self.assertEqual(waits, 5000)
            self.assertIn("late 0\n", run.stdout)
            text = run.scrape()
            self.check_series_bounded(text, 50)
            self.assertGreater(gauge(text, "parklock_sites_dropped_total"), 0)
            self.assertGreater(gauge(text, "parklock_sites"), 4000)
            self.assertLess(gauge(text, "parklock_sites"), 4096)
            # The overflow site has no stack and no lock: site="other",
            # lock="anonymous". Every one of the program's waits is in a grid
            # series or there. The web server's threads, which are recorded,
            # may have added waits of their own there, but every recorded
            # wait is a contended acquisition.
            overflow = sum(wait_counts(text, site="other", lock="anonymous"))
            self.assertGreater(overflow, 0)
            self.assertLessEqual(waits, self.grid_waits(text) + overflow)
            self.assertLessEqual(self.grid_waits(text) + overflow, gauge(text, "parklock_contended_acquisitions_total"))
            self.assert_promtool_accepts(text)
            self.assertEqual(run.close(), 0, run.stderr)
        self.assertEqual(run.stdout, native(command).stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], *sys.argv[1:]], verbosity=2)
