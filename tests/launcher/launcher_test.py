#!/usr/bin/env python3
"""The parklock launcher end to end, on real programs.

`parklock run`: the preload is active in the command, settings reach it,
the exit status is the command's. `parklock ab`: every metric source, the
CSV and the PNG, a server and a load (the server stopped by its PID), and
the mistakes it must refuse with status 2.

Environment: PARKLOCK (the launcher), LOCK_STORM and PRELOAD_ACTIVE (test
programs). Run one test: launcher_test.py AbTest.test_regex
"""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

PARKLOCK = os.environ["PARKLOCK"]
LOCK_STORM = os.environ.get("LOCK_STORM", "")
PRELOAD_ACTIVE = os.environ.get("PRELOAD_ACTIVE", "")
HERE = os.path.dirname(os.path.abspath(__file__))
STUB_SERVER = os.path.join(HERE, "stub_server.py")
STUB_LOAD = os.path.join(HERE, "stub_load.py")
TIMEOUT = 240  # seconds per launcher call; a loaded machine is slow, never this slow
LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(PARKLOCK))), "lib", "libparklock.so")


def parklock(*args, env=None, timeout=TIMEOUT):
    return subprocess.run([PARKLOCK, *args], capture_output=True, text=True, env=env, timeout=timeout)


def lock_storm():
    # Small: each run takes milliseconds, enough for the locks to contend.
    return [LOCK_STORM, "--producers=2", "--workers=3", "--jobs=3000"]


def table_rows(stdout):
    """{arm: [runs, median, min, max, ratio, ...rest]} from the A/B table."""
    rows = {}
    for line in stdout.splitlines():
        fields = line.split()
        if fields and fields[0] in ("glibc", "parklock", "observe", "record") and len(fields) >= 6:
            rows[fields[0]] = fields[1:]
    return rows


class RunTest(unittest.TestCase):
    def test_preload_is_active_in_the_command(self):
        result = parklock("run", "--", PRELOAD_ACTIVE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("parklock_version: found", result.stdout)
        self.assertNotIn("parklock_version: not found", result.stdout)

    def test_exit_status_is_the_commands(self):
        self.assertEqual(parklock("run", "--", "sh", "-c", "exit 7").returncode, 7)
        self.assertEqual(parklock("run", "--", "true").returncode, 0)
        killed = parklock("run", "--", "sh", "-c", "kill -TERM $$")
        self.assertEqual(killed.returncode, -signal.SIGTERM)

    def test_settings_reach_the_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            dump = os.path.join(tmp, "dump.json")
            result = parklock("run", "--metrics", "127.0.0.1:0", "--report", os.path.join(tmp, "report.txt"),
                              "--dump", dump, "--observe-only", "--stack-depth", "4", "--sample", "10",
                              "--top", "5", "--", "env")
        self.assertEqual(result.returncode, 0, result.stderr)
        env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        self.assertEqual(env["LD_PRELOAD"].split(":")[0], os.path.realpath(LIBRARY))
        self.assertEqual(env["PARKLOCK_METRICS"], "127.0.0.1:0")
        self.assertEqual(env["PARKLOCK_DUMP"], dump)
        self.assertEqual(env["PARKLOCK_LOCKS"], "glibc")
        self.assertEqual(env["PARKLOCK_STACK_DEPTH"], "4")
        self.assertEqual(env["PARKLOCK_SAMPLE"], "10")
        self.assertEqual(env["PARKLOCK_TOP"], "5")
        self.assertNotIn("PARKLOCK_RECORD", env)

    def test_other_preloads_are_kept_after_ours(self):
        env = dict(os.environ, LD_PRELOAD="libm.so.6:" + LIBRARY)
        result = parklock("run", "--", "sh", "-c", 'echo "$LD_PRELOAD"', env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), os.path.realpath(LIBRARY) + ":libm.so.6")

    def test_arguments_after_the_separator_are_the_commands(self):
        result = parklock("run", "--", "echo", "--report", "-x")
        self.assertEqual(result.stdout, "--report -x\n")

    def test_mistakes_exit_2_with_a_message(self):
        for args, message in [
            ((), "subcommand is required"),
            (("--no-such-option",), "--no-such-option"),
            (("run",), "command is required"),
            (("run", "--metrics", "port", "--", "true"), "--metrics"),
            (("run", "--metrics", "127.0.0.1:70000", "--", "true"), "--metrics"),
            (("run", "--stack-depth", "0", "--", "true"), "--stack-depth"),
            (("run", "--sample", "-3", "--", "true"), "--sample"),
            (("run", "--unknown", "--", "true"), "--unknown"),
        ]:
            with self.subTest(args=args):
                result = parklock(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)

    def test_missing_command_is_127(self):
        result = parklock("run", "--", "/no/such/program")
        self.assertEqual(result.returncode, 127)
        self.assertIn("cannot run '/no/such/program'", result.stderr)

    def test_version_and_help(self):
        version = parklock("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^parklock \d+\.\d+\.\d+\n$")
        for args in (("--help",), ("run", "--help"), ("ab", "--help")):
            with self.subTest(args=args):
                result = parklock(*args)
                self.assertEqual(result.returncode, 0)
                self.assertIn("Usage:", result.stdout)


class AbTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def ab(self, *args, expect=0):
        result = parklock("ab", *args)
        self.assertEqual(result.returncode, expect, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    def test_wall_time_all_arms_csv_and_png(self):
        csv_path = os.path.join(self.dir, "ab.csv")
        png_path = os.path.join(self.dir, "ab.png")
        result = self.ab("--runs", "3", "--warmup", "1", "--csv", csv_path, "--plot", png_path,
                         "--same-output", "--", *lock_storm())
        self.assertIn("wall time (s), lower is better: 3 runs per arm after 1 warm-up round", result.stdout)
        rows = table_rows(result.stdout)
        self.assertEqual(sorted(rows), ["glibc", "observe", "parklock", "record"])
        self.assertEqual(rows["glibc"][0], "3")
        self.assertIn("baseline", " ".join(rows["glibc"]))
        for arm in ("parklock", "observe", "record"):
            # fields: runs median min max ratio [low, high] verdict...
            low, high = float(rows[arm][5].strip("[,")), float(rows[arm][6].strip("]"))
            verdict = " ".join(rows[arm][7:])
            self.assertIn(verdict, ("better", "worse", "no difference"), rows[arm])
            ratio = float(rows[arm][4])
            self.assertLessEqual(low, ratio)
            self.assertLessEqual(ratio, high)
            self.assertEqual(verdict == "no difference", low <= 1 <= high)
        with open(csv_path) as f:
            records = list(csv.DictReader(f))
        self.assertEqual([r["arm"] for r in records], ["glibc", "parklock", "observe", "record"] * 3)
        self.assertEqual([int(r["round"]) for r in records], [1] * 4 + [2] * 4 + [3] * 4)
        for record in records:
            self.assertGreater(float(record["value"]), 0)
            self.assertAlmostEqual(float(record["value"]), float(record["wall_s"]), places=5)
        with open(png_path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(png_path), 5000)
        self.assertIn("plot: " + png_path, result.stdout)
        # Progress goes to stderr, one line per run, warm-up included.
        self.assertEqual(result.stderr.count("\n"), 16, result.stderr)

    def test_regex_on_the_commands_output(self):
        result = self.ab("--runs", "3", "--warmup", "0", "--arms", "glibc,parklock", "--metric-name", "jobs_per_s",
                         "--regex", r"throughput: ([0-9.]+) jobs/s", "--", *lock_storm())
        self.assertIn("jobs_per_s, higher is better", result.stdout)
        rows = table_rows(result.stdout)
        self.assertGreater(float(rows["glibc"][1]), 1000)  # jobs/s, not seconds

    def test_json_field_on_stdout(self):
        command = ["sh", "-c", 'echo starting; echo "{\\"stats\\": {\\"latency_ms\\": 4.5}}"']
        result = self.ab("--runs", "3", "--warmup", "0", "--arms", "glibc,parklock", "--json-field",
                         "stats.latency_ms", "--", *command)
        self.assertIn("stats.latency_ms, lower is better", result.stdout)
        rows = table_rows(result.stdout)
        self.assertEqual(rows["parklock"][1], "4.5")
        self.assertEqual(rows["parklock"][4], "1.000")
        self.assertIn("no difference", result.stdout)

    def test_loadgen_json_from_a_plain_command(self):
        # {json} in the arguments, and $PARKLOCK_AB_JSON in the environment.
        write = 'printf \'{"output_tokens_per_s": 250, "ttft_ms": {"p99": 12}}\' > "$0"; cp "$0" "$PARKLOCK_AB_JSON.copy"'
        result = self.ab("--runs", "3", "--warmup", "0", "--arms", "glibc,record", "--loadgen-json",
                         "output_tokens_per_s", "--", "sh", "-c", write, "{json}")
        self.assertIn("output_tokens_per_s (parklock-loadgen), higher is better", result.stdout)
        self.assertEqual(table_rows(result.stdout)["record"][1], "250")

    def test_server_and_load(self):
        pids = os.path.join(self.dir, "pids")
        os.mkdir(pids)
        csv_path = os.path.join(self.dir, "ab.csv")
        result = self.ab("--runs", "3", "--warmup", "0", "--arms", "glibc,parklock",
                         "--server", f"python3 {STUB_SERVER} --pid-dir {pids}",
                         "--load", f"python3 {STUB_LOAD} --url {{url}} --json {{json}}",
                         "--loadgen-json", "requests_per_s", "--csv", csv_path)
        self.assertIn("requests_per_s (parklock-loadgen), higher is better", result.stdout)
        self.assertEqual(len(os.listdir(pids)), 6)
        self.assert_all_stopped(pids)

    def test_server_on_a_given_port_with_a_health_url(self):
        pids = os.path.join(self.dir, "pids")
        os.mkdir(pids)
        result = self.ab("--runs", "3", "--warmup", "0", "--arms", "parklock,glibc",
                         "--server", f"python3 {STUB_SERVER} --port {{port}} --pid-dir {pids}",
                         "--health", "{url}/health",
                         "--load", f"python3 {STUB_LOAD}",  # $PARKLOCK_AB_URL and $PARKLOCK_AB_JSON
                         "--loadgen-json", "e2e_ms.median")
        self.assertIn("e2e_ms.median (parklock-loadgen), lower is better", result.stdout)
        self.assertIn("ratio to glibc", result.stdout)
        self.assert_all_stopped(pids)

    def test_server_that_ignores_sigterm_is_killed_after_the_grace_period(self):
        pids = os.path.join(self.dir, "pids")
        os.mkdir(pids)
        self.ab("--runs", "3", "--warmup", "0", "--arms", "glibc,parklock", "--grace", "0.5",
                "--server", f"python3 {STUB_SERVER} --port {{port}} --ignore-sigterm --pid-dir {pids}",
                "--health", "tcp://127.0.0.1:{port}", "--load", "true")  # wall time of the load
        self.assert_all_stopped(pids)

    def test_server_that_never_gets_ready(self):
        pids = os.path.join(self.dir, "pids")
        os.mkdir(pids)
        result = self.ab("--runs", "3", "--ready-timeout", "1", "--grace", "0.5",
                         "--server", f"python3 {STUB_SERVER} --never-ready --pid-dir {pids}",
                         "--load", "true", expect=1)
        self.assertIn("not ready within 1 s", result.stderr)
        self.assertIn("warm-up 1, arm glibc", result.stderr)
        self.assert_all_stopped(pids)

    def test_server_that_exits_before_it_is_ready(self):
        result = self.ab("--runs", "3", "--server", "echo bad config >&2; exit 3", "--load", "true", expect=1)
        self.assertIn("exited before it was ready (exit status 3)", result.stderr)
        self.assertIn("bad config", result.stderr)

    def test_server_that_dies_during_the_load(self):
        result = self.ab("--runs", "3", "--server", f"python3 {STUB_SERVER} --die-on-work",
                         "--load", f"python3 {STUB_LOAD} --url {{url}} --json {{json}}", expect=1)
        self.assertIn("the server exited during the load (exit status 5)", result.stderr)

    def test_failing_and_hanging_commands(self):
        failed = self.ab("--runs", "3", "--", "sh", "-c", "echo oops >&2; exit 1", expect=1)
        self.assertIn("failed (exit status 1)", failed.stderr)
        self.assertIn("oops", failed.stderr)
        hung = self.ab("--runs", "3", "--timeout", "0.5", "--", "sleep", "60", expect=1)
        self.assertIn("did not finish within", hung.stderr)

    def test_same_output_catches_a_difference(self):
        result = self.ab("--runs", "3", "--warmup", "0", "--same-output", "--", "sh", "-c", "echo $$", expect=1)
        self.assertIn("differs from the first run's", result.stderr)

    def test_nonsense_is_refused_with_status_2(self):
        cmd = ["--", "true"]
        for args, message in [
            ((), "no workload"),
            (("--runs", "0", *cmd), "--runs"),
            (("--runs", "2", *cmd), "--runs"),
            (("--warmup", "-1", *cmd), "--warmup"),
            (("--arms", "glibc,turbo", *cmd), "no arm 'turbo'"),
            (("--arms", "glibc", *cmd), "at least two arms"),
            (("--arms", "parklock,record", *cmd), "--baseline glibc is not one of"),
            (("--regex", "(", "--better", "higher", *cmd), "not a valid regular expression"),
            (("--regex", "x", *cmd), "give --better higher or --better lower"),
            (("--regex", "no such line ([0-9]+)", "--better", "higher", *cmd), "matches nothing"),
            (("--loadgen-json", "tokens", *cmd), "writes no field 'tokens'"),
            (("--loadgen-json", "requests_per_s", *cmd), "wrote no JSON"),
            (("--json-field", "count", *cmd), "give --better"),
            (("--json-field", "count", "--regex", "x", *cmd), "choose one of"),
            (("--better", "up", *cmd), "--better"),
            (("--plot", "ab.jpg", *cmd), "FILE.png"),
            (("--server", "true"), "--server needs --load"),
            (("--load", "true", *cmd), "--load needs --server"),
            (("--health", "http://127.0.0.1:1/", *cmd), "--health needs --server"),
            (("--server", "true", "--load", "true", *cmd), "not both"),
        ]:
            with self.subTest(args=args):
                result = parklock("ab", *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)

    def assert_all_stopped(self, pid_dir):
        """Every server the A/B started is gone (it was stopped and reaped)."""
        pids = [int(name) for name in os.listdir(pid_dir)]
        self.assertTrue(pids)
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                continue
            self.assertEqual(state, "Z", f"server {pid} still runs")  # dead, not yet reaped by init


if __name__ == "__main__":
    unittest.main()
