#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""python/xcall.py against a live xcalld (make check-python).

The daemon is the build's ($XCALLD), started as tests/daemon/harness.c
starts it: on a socket in a fresh temporary directory, threads backend,
as user xcalld when run as root; READY=1 on a notification socket of our
own says it is ready (no sleeps). The CLI of the build ($XCALL) is the
reference for the records. A root-only test that cannot run fails as root
or under XCALL_TEST_ROOT_GATE=1, as tests/common/lib.sh's xt_skip does.
"""

import errno
import json
import os
import pwd
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import xcall

XCALLD = os.environ.get("XCALLD", "build/daemon/xcalld")
XCALL = os.environ.get("XCALL", "build/cli/xcall")
ROOT = os.geteuid() == 0


def root_gate():
    return ROOT or os.environ.get("XCALL_TEST_ROOT_GATE", "0") not in ("",
                                                                       "0")


class Daemon:
    """xcalld of the build on a temporary socket, threads backend."""

    def __init__(self, policy, extra=()):
        self.dir = tempfile.mkdtemp(prefix="xcalld-py.")
        os.chmod(self.dir, 0o755)     # the daemon's user reads the policy
        self.sock = os.path.join(self.dir, "xcalld.sock")
        self.conf = os.path.join(self.dir, "xcalld.conf")
        self.log = os.path.join(self.dir, "log")
        with open(self.conf, "w") as f:
            f.write(policy)
        os.chmod(self.conf, 0o644)
        notify = os.path.join(self.dir, "notify")
        self.nfd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.nfd.bind(notify)
        os.chmod(notify, 0o666)
        user = os.environ.get("XCALLD_TEST_USER") or \
            ("xcalld" if ROOT else "-")
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        env.pop("JOURNAL_STREAM", None)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [XCALLD, "--socket", self.sock, "--config", self.conf,
                 "--user", user, "--backend", "threads", *extra],
                stderr=log, stdin=subprocess.DEVNULL, env=env)
        if not self.notified("READY=1", 20):
            self.stop()
            raise RuntimeError("xcalld did not become ready; see " +
                               self.log)

    def notified(self, what, secs):
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.nfd], [], [], left)[0]:
                return False
            if what in self.nfd.recv(4096).decode(errors="replace"):
                return True

    def stop(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        rc = self.proc.wait(30)
        self.nfd.close()
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)
        return rc


D = None


def setUpModule():
    global D
    # Anyone the unprivileged functions, the user running the tests all.
    D = Daemon("allow * unprivileged\nallow uid:%d *\n" % os.geteuid())


def tearDownModule():
    rc = D.stop()
    if rc != 0:
        raise RuntimeError("xcalld exited %s" % rc)


def cli(*args):
    """Records of `xcall run --json` through the daemon, as dicts."""
    p = subprocess.run([XCALL, "run", "--backend", "daemon", "--json",
                        *args], env=dict(os.environ, XCALL_SOCKET=D.sock),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines()]


def strip(rec):
    """A record of the client as the CLI prints it (no round, no raw)."""
    r = dict(rec)
    r.pop("raw")
    return r


def frame(typ, rid, body=b"", magic=xcall.MAGIC, version=xcall.VERSION,
          ln=None, err=0, reserved=0):
    """A raw frame, every header field settable."""
    n = 24 + len(body) if ln is None else ln
    return struct.pack("=HBBIQiI", magic, version, typ, n, rid, err,
                       reserved) + body


def call_body(fn=0, flags=0, tmo=0, nargs=0, args=(0, 0, 0, 0), size=8,
              reserved=0, cpuset=b"\x01" + b"\0" * 7):
    return struct.pack("=IIII4QII", fn, flags, tmo, nargs, *args, size,
                       reserved) + cpuset


class Base(unittest.TestCase):
    def setUp(self):
        self.c = xcall.Client(D.sock)
        self.cpus = xcall.online_cpus()

    def tearDown(self):
        self.c.close()

    def assertRefused(self, err, fn, cpus, args=(), **kw):
        with self.assertRaises(xcall.XcallError) as cm:
            self.c.run(fn, cpus, args, **kw)
        e = cm.exception
        self.assertEqual(e.errno, err, "%s: %s" % (fn, e))
        self.assertEqual(e.frame, "call")
        self.assertIsInstance(e, OSError)
        self.assertEqual(e.strerror.split(": ")[-1], os.strerror(err))
        return e


class TestRecords(Base):
    def test_ping_each_cpu_as_cli(self):
        for c in self.cpus:
            rc, want = cli("--cpu", str(c), "ping")
            self.assertEqual(rc, 0)
            got = [strip(r) for r in self.c.run("ping", c)]
            for w in want:
                del w["round"]
            self.assertEqual(got, want)
        got = self.c.run("ping", "all")
        self.assertEqual([r["cpu"] for r in got], self.cpus)
        self.assertEqual({r["raw"]["fn"] for r in got}, {0})

    def test_probe_each_cpu_as_cli(self):
        # Between two probes of the CLI on a CPU, the client's: the same
        # keys and constant values, its clocks between theirs.
        for c in self.cpus:
            _, (a,) = cli("--cpu", str(c), "probe")
            (r,) = self.c.run("probe", [c])
            _, (b,) = cli("--cpu", str(c), "probe")
            r = strip(r)
            del a["round"], b["round"]
            self.assertEqual(list(r), list(a))
            for k in ("cpu", "fn", "ok", "errno", "error", "node", "hwid",
                      "ctx", "pid", "comm"):
                self.assertEqual(r[k], a[k], k)
                self.assertEqual(r[k], b[k], k)
            for k in ("mono_ns", "cycles"):
                self.assertLess(a[k], r[k], k)
                self.assertLess(r[k], b[k], k)

    def test_other_functions_as_cli(self):
        cpus = ",".join(map(str, self.cpus))
        for fn, args, const in (("clock", (), ()),
                                ("ident", (7, 0), None),
                                ("spin", (50,), ("asked_us",))):
            _, want = cli("--cpu", cpus, fn, *map(str, args))
            got = [strip(r) for r in self.c.run(fn, cpus, args)]
            self.assertEqual(len(got), len(want))
            for g, w in zip(got, want):
                del w["round"]
                self.assertEqual(list(g), list(w), fn)
                for k in const if const is not None else w:
                    self.assertEqual(g[k], w[k], "%s %s" % (fn, k))
        spent = [r["spent_ns"] for r in self.c.run("spin", cpus, [200])]
        self.assertTrue(all(s >= 200000 for s in spent), spent)
        clock = self.c.run("clock", cpus)
        first = min(r["mono_ns"] for r in clock)
        self.assertEqual([r["offset_ns"] for r in clock],
                         [r["mono_ns"] - first for r in clock])

    def test_nowait(self):
        before = self.c.status()["calls"]["ping"]
        self.assertEqual(self.c.run("ping", self.cpus[0], nowait=True), [])
        self.assertEqual(self.c.status()["calls"]["ping"], before + 1)

    def test_module_functions(self):
        self.assertEqual(xcall.run("ping", 0, path=D.sock)[0]["cpu"], 0)
        self.assertEqual(xcall.status(D.sock)["backend"], "threads")
        self.assertEqual(xcall.parse_cpus("0-3,8-15:2"),
                         [0, 1, 2, 3, 8, 10, 12, 14])
        self.assertEqual(xcall.cpuset_bytes([0, 9]), b"\x01\x02" + bytes(6))
        self.assertEqual(xcall.cpuset_bytes([64]), bytes(8) + b"\1" +
                         bytes(7))
        # A record as the module may write it: hwid not known, a ctx
        # this client does not know yet (xcall(1) prints null and "?").
        raw = struct.pack("=IiIIQQQII16s64s", 3, 0, 1, 0, (1 << 64) - 1,
                          5, 6, 9, 0, b"", b"")
        r = xcall.decode_record(raw)
        self.assertEqual((r["cpu"], r["fn"], r["hwid"], r["ctx"],
                          r["cycles"], r["mono_ns"]),
                         (3, "probe", None, "?", 5, 6))
        self.assertRaises(ValueError, xcall.parse_cpus, "3-1")
        self.assertRaises(ValueError, xcall.parse_cpus, [8192])
        self.assertRaises(ValueError, self.c.run, "bogus", 0)
        self.assertRaises(ValueError, self.c.run, "ping", 0, (1,) * 5)


class TestCatalogue(unittest.TestCase):
    def test_functions_as_xcall_list(self):
        # The client's table, and the id table of xcall-protocol(7), are
        # the catalogue's: a new function fails here until both have it.
        out = subprocess.run([XCALL, "list", "--json"], check=True,
                             stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        cat = [json.loads(l) for l in out.splitlines()]
        self.assertEqual({f["name"]: (f["id"], f["min_args"], f["max_args"],
                                      tuple(f["fields"])) for f in cat},
                         xcall.FUNCTIONS)
        page = open(os.path.join(os.environ.get("XCALL_SRC", "."), "man",
                                 "xcall-protocol.7")).read()
        table = page.split("id  function  nargs  privileged\n", 1)[1]
        rows = [l.split() for l in table.split("\n.EE", 1)[0].splitlines()]
        self.assertEqual([(int(r[0]), r[1], r[-1]) for r in rows],
                         [(f["id"], f["name"],
                           "yes" if f["priv"] == "admin" else "no")
                          for f in cat])


class TestStatus(Base):
    def test_fields(self):
        ver = subprocess.run([XCALL, "--version"], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.split()[-1]
        s0 = self.c.status()
        self.assertEqual(s0["version"], ver)
        self.assertEqual(s0["backend"], "threads")
        self.assertEqual(s0["nr_fns"], len(xcall.FUNCTIONS))
        self.assertEqual(list(s0["calls"]), list(xcall.FUNCTIONS))
        self.assertGreaterEqual(s0["clients"], 1)
        n = 5
        for _ in range(n):
            self.c.run("ident", self.cpus, [1])
        with self.assertRaises(xcall.XcallError):
            self.c.run("ping", 8191)            # refused: counts nowhere
        self.c.send_raw(frame(9, 77))           # an ERROR frame: errors
        self.assertEqual(self.c.recv(5000).error, errno.EOPNOTSUPP)
        s1 = self.c.status()
        self.assertEqual(s1["calls"]["ident"], s0["calls"]["ident"] + n)
        self.assertEqual(s1["served"], s0["served"] + n)
        self.assertEqual(s1["errors"], s0["errors"] + 1)
        self.assertEqual(s1["denied"], s0["denied"])
        self.assertGreater(s1["uptime_ns"], s0["uptime_ns"])
        self.assertEqual(s1["clients_total"], s0["clients_total"])
        # What `xcall status --json` says of the same daemon, which also
        # counts its own connection.
        out = subprocess.run([XCALL, "status", "--json", "--socket",
                              D.sock], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        d = json.loads(out)["daemon"]
        s2 = self.c.status()
        self.assertEqual(d["version"], s2["version"])
        self.assertEqual(d["backend"], s2["backend"])
        self.assertEqual(d["calls"], s2["calls"])
        self.assertEqual(d["calls_served"], s2["served"])
        self.assertEqual(d["malformed"], s2["errors"])
        self.assertEqual(d["clients_total"] + 0, s2["clients_total"])
        self.assertLessEqual(d["uptime_s"] * 1e9, s2["uptime_ns"] + 1e6)


class TestPipeline(Base):
    def test_many_matched(self):
        # ident echoes its leaf: each answer must land on its request.
        n = 3000
        reqs = [{"fn": "ident", "cpus": self.cpus[i % len(self.cpus)],
                 "args": (i, i % 7)} if i % 500 else "status"
                for i in range(n)]
        seen = set()
        order = []
        for i, res in self.c.pipeline(reqs, window=200):
            self.assertNotIn(i, seen)
            seen.add(i)
            order.append(i)
            if i % 500 == 0:
                self.assertIn("served", res)
                continue
            (r,) = res
            self.assertEqual((r["cpu"], r["raw"]["val"][4],
                              r["raw"]["val"][5]),
                             (self.cpus[i % len(self.cpus)], i, i % 7))
        self.assertEqual(seen, set(range(n)))

    def test_errors_in_line(self):
        reqs = [("ping", 0), ("ping", 8191), ("spin", 0, (0,)),
                ("ping", 0), ("where", 0)]
        res = dict(self.c.pipeline(reqs))
        self.assertEqual(len(res[0]), 1)
        self.assertEqual(len(res[3]), 1)
        self.assertEqual([res[i].errno for i in (1, 2, 4)],
                         [errno.ENODEV, errno.ERANGE, errno.EOPNOTSUPP])


class TestErrors(Base):
    def test_refused_calls(self):
        e = self.assertRefused(errno.EBADRQC, 99, 0)
        self.assertEqual(e.id, 1)
        self.assertRefused(errno.ENODEV, "ping", 8191)
        self.assertRefused(errno.EDESTADDRREQ, "ping", [])
        self.assertRefused(errno.EINVAL, "ident", 0, (1, 2, 3))
        self.assertRefused(errno.EINVAL, "ping", 0, (1,))
        self.assertRefused(errno.EINVAL, "spin", 0, (), )
        self.assertRefused(errno.ERANGE, "spin", 0, (0,))
        self.assertRefused(errno.ERANGE, "ping", 0, timeout_ms=60001)
        self.assertRefused(errno.EINVAL, "spin", 0, (1,), nowait=True)
        self.assertRefused(errno.EOPNOTSUPP, "where", 0)
        # The connection stays.
        self.assertEqual(len(self.c.run("ping", 0)), 1)

    def test_privileged_as_nobody(self):
        if not ROOT:
            if root_gate():
                self.fail("skipped as root, where a root-only test must "
                          "run: another uid to become")
            self.skipTest("another uid to become needs root")
        nobody = pwd.getpwnam("nobody")
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 100
            try:
                os.close(r)
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                with xcall.Client(D.sock) as c:
                    ok = len(c.run("probe", 0)) == 1
                    try:
                        c.run("spin", 0, [10])
                        code = 0
                    except xcall.XcallError as e:
                        code = e.errno if ok and e.frame == "call" else 101
            finally:
                os.write(w, bytes([code]))
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            got = f.read()
        os.waitpid(pid, 0)
        self.assertEqual(got, bytes([errno.EPERM]))

    def test_frames_that_keep_the_connection(self):
        cases = [
            (frame(xcall.T_STATUS, 11, reserved=1), errno.EINVAL),
            (frame(xcall.T_STATUS, 12, body=b"\0" * 8), errno.EBADMSG),
            (frame(xcall.T_STATUS, 13, err=-1), errno.EBADMSG),
            (frame(0x42, 14), errno.EOPNOTSUPP),
            (frame(xcall.T_CALL_REPLY, 15), errno.EOPNOTSUPP),
            (frame(xcall.T_STATUS, 16) + b"\0" * 1200, None),  # EMSGSIZE
        ]
        for data, err in cases:
            rid = struct.unpack_from("=Q", data, 8)[0]
            self.c.send_raw(data)
            a = self.c.recv(5000)
            self.assertEqual((a.id, a.type, a.error),
                             (rid, xcall.T_ERROR, err or errno.EMSGSIZE))
            e = a.exception()
            self.assertEqual((e.errno, e.frame, e.id),
                             (a.error, "error", rid))
        # Calls refused for their form: a CALL_REPLY, no record.
        calls = [
            (call_body(nargs=5), errno.EINVAL),
            (call_body(flags=2), errno.EINVAL),
            (call_body(reserved=1), errno.EINVAL),
            (call_body(nargs=1, args=(0, 1, 0, 0)), errno.EINVAL),
            (call_body(size=12, cpuset=b"\1" + bytes(11)), errno.EMSGSIZE),
            (call_body(size=16), errno.EBADMSG),      # len is not 80 + 16
            (call_body()[:40], errno.EBADMSG),
        ]
        for i, (body, err) in enumerate(calls):
            self.c.send_raw(frame(xcall.T_CALL, 100 + i, body))
            a = self.c.recv(5000)
            self.assertEqual((a.id, a.type, a.error, a.value),
                             (100 + i, xcall.T_CALL_REPLY, err, []))
        self.assertEqual(len(self.c.run("ping", 0)), 1)

    def test_frames_that_end_the_connection(self):
        # The client knows the end from the frame but for an EBADMSG with
        # an id (a STATUS with a body has it too): there from the end of
        # the stream, ECONNRESET.
        cases = [
            (frame(xcall.T_STATUS, 21, magic=0x1234), 0, errno.EBADMSG,
             errno.EBADMSG),
            (frame(xcall.T_STATUS, 22)[:20], 0, errno.EBADMSG, errno.EBADMSG),
            (frame(xcall.T_STATUS, 23, ln=32), 23, errno.EBADMSG,
             errno.ECONNRESET),
            (frame(xcall.T_STATUS, 24, version=2), 24,
             errno.EPROTONOSUPPORT, errno.EPROTONOSUPPORT),
        ]
        for data, rid, err, known in cases:
            later = known
            with xcall.Client(D.sock) as c:
                c.send_raw(data)
                try:
                    # Never answered; a send after the daemon closed fails,
                    # and raises the ERROR frame waiting to be read.
                    c.send_raw(xcall.encode_status(99))
                    a = c.recv(5000)
                    self.assertEqual(a.type, xcall.T_ERROR)
                    got = (a.id, a.error)
                except xcall.XcallError as e:
                    self.assertEqual(e.frame, "error")
                    got = (e.id, e.errno)
                    later = err
                self.assertEqual(got, (rid, err))
                with self.assertRaises(xcall.XcallError) as cm:
                    c.recv(5000)
                self.assertEqual(cm.exception.errno, errno.ECONNRESET)
                with self.assertRaises(xcall.XcallError) as cm:
                    c.run("ping", 0)
                self.assertEqual((cm.exception.errno, cm.exception.frame),
                                 (later, "error" if later == err else
                                  "local"))
            if known != err:
                continue
            # Told by the frame alone: the next call is refused unsent.
            with xcall.Client(D.sock) as c:
                c.send_raw(data)
                self.assertEqual(c.recv(5000).error, err)
                with self.assertRaises(xcall.XcallError) as cm:
                    c.run("ping", 0)
                self.assertEqual((cm.exception.errno, cm.exception.id,
                                  cm.exception.frame), (err, rid, "error"))

    def test_refused_connection(self):
        d = Daemon("allow * *\nlimit * conns=1\n")
        try:
            with xcall.Client(d.sock) as c1:
                c1.status()
                with xcall.Client(d.sock) as c2:
                    with self.assertRaises(xcall.XcallError) as cm:
                        c2.status()
                    e = cm.exception
                    self.assertEqual((e.errno, e.id, e.frame),
                                     (errno.EUSERS, 0, "error"))
        finally:
            self.assertEqual(d.stop(), 0)


class TestTimeout(Base):
    def test_cpu_that_does_not_answer(self):
        # A spin holds CPU 0's worker; a ping behind it with 1 ms to go
        # answers ETIMEDOUT in its record, as the CLI words it.
        cpu = self.cpus[0]
        res = dict(self.c.pipeline([("spin", cpu, (100000,)),
                                    {"fn": "ping", "cpus": cpu,
                                     "timeout_ms": 1}]))
        (spin,), (ping,) = res[0], res[1]
        self.assertTrue(spin["ok"])
        self.assertEqual((ping["ok"], ping["errno"], ping["error"]),
                         (False, errno.ETIMEDOUT, "timed out"))
        self.assertEqual(ping["raw"]["error"], -errno.ETIMEDOUT)
        self.assertEqual(set(ping), {"cpu", "fn", "ok", "errno", "error",
                                     "raw"})

    def test_daemon_that_does_not_answer(self):
        # A stopped daemon: the client gives up at the call's timeout,
        # the module's 2000 ms and its grace, with ETIMEDOUT of its own.
        with xcall.Client(D.sock, grace_ms=100) as c:
            c.status()
            os.kill(D.proc.pid, signal.SIGSTOP)
            try:
                t = time.monotonic()
                with self.assertRaises(xcall.XcallError) as cm:
                    c.run("ping", 0, timeout_ms=1)
                t = time.monotonic() - t
            finally:
                os.kill(D.proc.pid, signal.SIGCONT)
            self.assertEqual((cm.exception.errno, cm.exception.frame),
                             (errno.ETIMEDOUT, "local"))
            self.assertGreaterEqual(t, 2.1)
            self.assertLess(t, 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
