# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client of xcalld(8) in pure Python, from xcall-protocol(7) alone.

xcalld serves cross-CPU calls over an AF_UNIX SOCK_SEQPACKET socket; this
module speaks that protocol (version 1) without libxcall: the standard
library only, Python 3.7 or later.

    >>> import xcall
    >>> for r in xcall.run("probe", "0-1"):
    ...     print(r["cpu"], r["node"], r["hwid"])
    >>> xcall.status()["served"]

Records are dicts with the keys of ``xcall run --json`` (xcall(1), JSON
OUTPUT) but ``round``: cpu, fn (the name), ok, errno, error, then the
function's own keys when ok (node, hwid, cycles, mono_ns, ctx, pid, comm
for probe, ...), and ``raw``, the record as the daemon sent it (struct
xcall_result: cpu, error as -errno, fn as the id, node, hwid, cycles,
mono_ns, ctx as a number, pid, comm, val as 8 numbers, sym).

Function names and ids: the protocol carries only ids. This module embeds
the catalogue as ``xcall list --json`` prints it (FUNCTIONS); the
documentation promises that ids are only ever added, never changed
(xcall-protocol(7), VERSIONS), so the embedded ids stay right for every
later daemon. A function added later is called by its number, and its
record has the common keys and ``raw`` only.

Errors: a request refused as a whole (a CALL_REPLY with an error, or an
ERROR frame) raises XcallError, an OSError whose ``errno`` is the
positive errno and ``strerror`` the message; ``id`` is the request's id
and ``frame`` says which answer carried it ("call", "status", "error" for
an ERROR frame, "local" when no answer came). A CPU that failed alone
(ETIMEDOUT, ENXIO) does not raise: its record has ok False.

Pipelining: ``Client.pipeline(requests)`` sends many requests without
waiting, reading while it sends, and yields ``(index, result)`` as the
answers arrive (in any order, matched by request id): result is the
records, the status dict, or the XcallError of that request.

Run ``python3 -m xcall [--socket PATH] status|FN CPUS [ARG...]`` for one
call from a shell.
"""

import errno as _errno
import os
import platform
import select
import socket
import struct
import time

__all__ = [
    "Client", "XcallError", "FUNCTIONS", "run", "status", "call",
    "DEFAULT_SOCKET", "MAX_CPUS", "MAX_ARGS", "MAX_TIMEOUT_MS",
]

DEFAULT_SOCKET = "/run/xcall/xcalld.sock"

# xcall-protocol(7): header and frame types.
MAGIC = 0x5843
VERSION = 1
T_CALL = 1
T_STATUS = 2
T_CALL_REPLY = 0x81
T_STATUS_REPLY = 0x82
T_ERROR = 0xFF
CALL_NOWAIT = 1

# LIMITS
MAX_REQ = 1104
MAX_FRAME = 32800
MAX_CPUS = 256
MAX_CPU = 8191
MAX_ARGS = 4
MAX_TIMEOUT_MS = 60000
DEFAULT_TIMEOUT_MS = 1000
MAX_CPUSET_BYTES = 1024

# Every field at an offset that is a multiple of its size: "=" (native
# order, no padding) gives the documented layout.
_HDR = struct.Struct("=HBBIQiI")            # 24
_CALL = struct.Struct("=IIII4QII")          # 56, cpuset follows
_REPLY = struct.Struct("=II")               # 8, records follow
_RECORD = struct.Struct("=IiIIQQQII16s64s")  # 128
_STATUS = struct.Struct("=16sII8Q3Q")       # 112, counts follow
_VAL = struct.Struct("=8Q")

HDR_SIZE = _HDR.size
CALL_SIZE = HDR_SIZE + _CALL.size            # 80
REPLY_SIZE = HDR_SIZE + _REPLY.size          # 32
RECORD_SIZE = _RECORD.size
STATUS_SIZE = HDR_SIZE + _STATUS.size        # 136

# The catalogue, as `xcall list --json` prints it: id, arguments (min, max)
# and the keys of a successful record.
FUNCTIONS = {
    "ping": (0, 0, 0, ()),
    "probe": (1, 0, 0, ("node", "hwid", "cycles", "mono_ns", "ctx", "pid",
                        "comm")),
    "clock": (2, 0, 0, ("cycles", "mono_ns", "offset_ns")),
    "ident": (3, 0, 2, ("leaf", "subleaf", "eax", "ebx", "ecx", "edx")),
    "spin": (4, 1, 1, ("asked_us", "spent_ns")),
    "where": (5, 0, 0, ("ctx", "pid", "comm", "sym")),
    "msr": (6, 1, 4, ("msr0", "value0", "msr1", "value1", "msr2", "value2",
                      "msr3", "value3")),
}
_NAMES = {v[0]: k for k, v in FUNCTIONS.items()}

# XCALL_CTX_*, in the order xcall(1) lists them.
CTX_NAMES = ("none", "idle", "user", "kernel", "other")
BACKENDS = {1: "threads", 2: "kmod"}
# What a record's error says, as xcall(1) words it.
_RECORD_ERRORS = {_errno.ETIMEDOUT: "timed out",
                  _errno.ENXIO: "CPU is offline",
                  _errno.EIO: "the CPU faulted reading an MSR "
                              "(not implemented)"}
# hwid when the system does not expose it (JSON null).
HWID_UNKNOWN = (1 << 64) - 1
# ERROR frames after which the daemon reads no more (ERRORS): these, and
# EBADMSG with id 0. An EBADMSG with an id may end it (a len that is not
# the packet's) or not (a STATUS with a body): the end of the stream tells.
_FATAL = {_errno.EPROTONOSUPPORT, _errno.EUSERS}


class XcallError(OSError):
    """A request refused by xcalld, or the connection lost.

    XcallError(errno, message): ``errno`` is positive, ``strerror`` the
    message; ``id`` the request id (0 for an ERROR frame without one);
    ``frame`` "call", "status", "error" or "local".
    """

    def __init__(self, err, msg=None, id=None, frame="local"):
        super().__init__(err, msg if msg is not None else os.strerror(err))
        self.id = id
        self.frame = frame


def fn_id(fn):
    """The id of function fn, a name of FUNCTIONS or a number."""
    if isinstance(fn, int):
        if not 0 <= fn < 1 << 32:
            raise ValueError("function id %d out of range" % fn)
        return fn
    try:
        return FUNCTIONS[fn][0]
    except KeyError:
        raise ValueError("unknown function %r (known: %s)" %
                         (fn, ", ".join(FUNCTIONS))) from None


def fn_name(fid):
    """The name of function id fid, or its number as a string."""
    return _NAMES.get(fid, str(fid))


def online_cpus():
    """The online CPUs, from /sys/devices/system/cpu/online."""
    with open("/sys/devices/system/cpu/online") as f:
        return parse_cpus(f.read().strip())


def parse_cpus(cpus):
    """A sorted list of CPU numbers from a list in the grammar of xcall(1)
    ("0-3,8-15:2", "all"), an int, or an iterable of ints."""
    if isinstance(cpus, int):
        out = {cpus}
    elif isinstance(cpus, str):
        if cpus == "all":
            return online_cpus()
        out = set()
        for item in cpus.split(",") if cpus else ():
            rng, _, stride = item.partition(":")
            lo, _, hi = rng.partition("-")
            try:
                a = int(lo, 10)
                b = int(hi, 10) if hi else a
                s = int(stride, 10) if stride else 1
            except ValueError:
                raise ValueError("bad CPU list %r" % cpus) from None
            if b < a or s < 1 or lo.strip() != lo or not lo.isdigit():
                raise ValueError("bad CPU list %r" % cpus)
            out.update(range(a, b + 1, s))
    else:
        out = set(int(c) for c in cpus)
    for c in out:
        if not 0 <= c <= MAX_CPU:
            raise ValueError("CPU %d cannot be named: 0 to %d" % (c, MAX_CPU))
    return sorted(out)


def cpuset_bytes(cpus):
    """The bitmap of a CALL for CPUs (a sorted list): 8 to 1024 bytes."""
    size = max(8, ((cpus[-1] // 8 + 1 + 7) // 8) * 8) if cpus else 8
    bm = bytearray(size)
    for c in cpus:
        bm[c // 8] |= 1 << (c % 8)
    return bytes(bm)


def encode_call(rid, fn, cpus, args=(), timeout_ms=None, nowait=False):
    """The bytes of a CALL frame: at most MAX_CPUS CPUs, MAX_ARGS args."""
    args = tuple(int(a) for a in args)
    if len(args) > MAX_ARGS:
        raise ValueError("%d arguments: at most %d" % (len(args), MAX_ARGS))
    for a in args:
        if not 0 <= a < 1 << 64:
            raise ValueError("argument %d is not a u64" % a)
    if len(cpus) > MAX_CPUS:
        raise ValueError("%d CPUs in one call: at most %d" %
                         (len(cpus), MAX_CPUS))
    tmo = 0 if timeout_ms is None else int(timeout_ms)
    if not 0 <= tmo < 1 << 32:
        raise ValueError("timeout_ms %d is not a u32" % tmo)
    bm = cpuset_bytes(cpus)
    body = _CALL.pack(fn_id(fn), CALL_NOWAIT if nowait else 0, tmo,
                      len(args), *(args + (0,) * (MAX_ARGS - len(args))),
                      len(bm), 0)
    return _HDR.pack(MAGIC, VERSION, T_CALL, CALL_SIZE + len(bm), rid, 0,
                     0) + body + bm


def encode_status(rid):
    """The bytes of a STATUS frame."""
    return _HDR.pack(MAGIC, VERSION, T_STATUS, HDR_SIZE, rid, 0, 0)


def _cstr(b):
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def _machine():
    m = platform.machine()
    if m in ("x86_64", "i386", "i486", "i586", "i686", "amd64"):
        return "x86"
    if m in ("aarch64", "arm64"):
        return "arm64"
    if m.startswith("ppc64"):
        return "ppc64"
    return m


_ARCH = _machine()


def decode_record(b):
    """A dict of one 128-byte struct xcall_result, with the keys of
    ``xcall run --json`` (but round and offset_ns) and raw."""
    (cpu, err, fid, node, hwid, cycles, mono, ctx, pid, comm,
     val) = _RECORD.unpack(b)
    vals = _VAL.unpack(val)
    raw = {"cpu": cpu, "error": err, "fn": fid, "node": node, "hwid": hwid,
           "cycles": cycles, "mono_ns": mono, "ctx": ctx, "pid": pid,
           "comm": _cstr(comm), "val": list(vals), "sym": _cstr(val)}
    name = fn_name(fid)
    rec = {"cpu": cpu, "fn": name, "ok": err == 0, "errno": -err,
           "error": None}
    if err:
        e = -err
        rec["error"] = _RECORD_ERRORS.get(e, os.strerror(e))
        rec["raw"] = raw
        return rec
    ctxs = CTX_NAMES[ctx] if ctx < len(CTX_NAMES) else "?"
    if name == "probe":
        rec.update(node=node, hwid=None if hwid == HWID_UNKNOWN else hwid,
                   cycles=cycles, mono_ns=mono,
                   ctx=ctxs, pid=pid, comm=raw["comm"])
    elif name == "clock":
        rec.update(cycles=cycles, mono_ns=mono)
    elif name == "ident":
        if _ARCH == "x86":
            rec.update(leaf=vals[4], subleaf=vals[5])
            for k, v in zip(("eax", "ebx", "ecx", "edx"), vals):
                rec[k] = "0x%08x" % v
        elif _ARCH == "arm64":
            for k, v in zip(("midr", "revidr", "mpidr"), vals):
                rec[k] = "0x%08x" % v
        elif _ARCH == "ppc64":
            rec["pvr"] = "0x%08x" % vals[0]
    elif name == "spin":
        rec.update(asked_us=vals[1], spent_ns=vals[0])
    elif name == "where":
        rec.update(ctx=ctxs, pid=pid, comm=raw["comm"], sym=raw["sym"])
    elif name == "msr":
        # val[i] the value of address i, val[4 + i] the address (bits
        # 0-31) and the errno of its read (32-63); 0 for a slot not asked.
        for i in range(4):
            word = vals[4 + i]
            rec["msr%d" % i] = "0x%x" % (word & 0xffffffff) if word else None
            rec["value%d" % i] = ("0x%016x" % vals[i]
                                  if word and not word >> 32 else None)
    rec["raw"] = raw
    return rec


def _offsets(records):
    """clock's offset_ns: mono_ns less the earliest of the round."""
    ok = [r for r in records if r["ok"] and "mono_ns" in r]
    if ok and ok[0]["fn"] == "clock":
        first = min(r["mono_ns"] for r in ok)
        for r in ok:
            r["offset_ns"] = r["mono_ns"] - first


def decode_status(b):
    """A dict of a STATUS_REPLY's body (past the header)."""
    (ver, backend, nr_fns, uptime, clients, clients_total, served, denied,
     errors, inflight, cancelled, _r0, _r1, _r2) = _STATUS.unpack_from(b)
    counts = struct.unpack_from("=%dQ" % nr_fns, b, _STATUS.size)
    return {"version": _cstr(ver), "backend": BACKENDS.get(backend,
                                                           str(backend)),
            "backend_id": backend, "nr_fns": nr_fns, "uptime_ns": uptime,
            "clients": clients, "clients_total": clients_total,
            "served": served, "denied": denied, "errors": errors,
            "inflight": inflight, "cancelled": cancelled,
            "calls": {fn_name(i): n for i, n in enumerate(counts)},
            "calls_by_id": list(counts)}


class Answer:
    """One frame from the daemon: id, type (T_*), error (positive errno,
    0) and value (records, a status dict, or None)."""

    __slots__ = ("id", "type", "error", "value")

    def __init__(self, rid, typ, error, value):
        self.id, self.type, self.error, self.value = rid, typ, error, value

    def exception(self, what=None):
        if not self.error:
            return None
        frame = {T_CALL_REPLY: "call", T_STATUS_REPLY: "status"}.get(
            self.type, "error")
        msg = os.strerror(self.error)
        if what:
            msg = "%s: %s" % (what, msg)
        return XcallError(self.error, msg, self.id, frame)

    def result(self, what=None):
        """The value, or raise the XcallError of the answer."""
        if self.error:
            raise self.exception(what)
        return self.value

    def __repr__(self):
        return "Answer(id=%d, type=0x%x, error=%d, value=%r)" % (
            self.id, self.type, self.error, self.value)


def decode(frame):
    """An Answer from one received packet; XcallError(EPROTO) when it is
    not a frame of the protocol."""
    if len(frame) < HDR_SIZE:
        raise XcallError(_errno.EPROTO, "short frame of %d bytes" %
                         len(frame))
    magic, ver, typ, ln, rid, err, _res = _HDR.unpack_from(frame)
    if magic != MAGIC or ver != VERSION or ln != len(frame) or err > 0:
        raise XcallError(_errno.EPROTO, "bad header: magic 0x%x version %d "
                         "len %d of %d" % (magic, ver, ln, len(frame)), rid)
    body = frame[HDR_SIZE:]
    if typ == T_CALL_REPLY:
        if len(body) < _REPLY.size:
            raise XcallError(_errno.EPROTO, "short CALL_REPLY", rid)
        nres, _ = _REPLY.unpack_from(body)
        if len(frame) != REPLY_SIZE + nres * RECORD_SIZE:
            raise XcallError(_errno.EPROTO, "CALL_REPLY of %d bytes for %d "
                             "records" % (len(frame), nres), rid)
        recs = [decode_record(body[_REPLY.size + i * RECORD_SIZE:
                                   _REPLY.size + (i + 1) * RECORD_SIZE])
                for i in range(nres)]
        _offsets(recs)
        return Answer(rid, typ, -err, recs)
    if typ == T_STATUS_REPLY:
        if err:
            return Answer(rid, typ, -err, None)
        if len(frame) < STATUS_SIZE:
            raise XcallError(_errno.EPROTO, "short STATUS_REPLY", rid)
        st = decode_status(body)
        if len(frame) != STATUS_SIZE + 8 * st["nr_fns"]:
            raise XcallError(_errno.EPROTO, "STATUS_REPLY of %d bytes for "
                             "%d counts" % (len(frame), st["nr_fns"]), rid)
        return Answer(rid, typ, 0, st)
    if typ == T_ERROR:
        return Answer(rid, typ, -err if err else _errno.EPROTO, None)
    raise XcallError(_errno.EPROTO, "unknown frame type 0x%x" % typ, rid)


class Client:
    """One connection to xcalld.

    path: the socket, default $XCALL_SOCKET, else /run/xcall/xcalld.sock.
    grace_ms: how long past a call's timeout (and the module's 2000 ms) to
    wait for its answer before raising XcallError(ETIMEDOUT); status waits
    grace_ms alone.
    """

    def __init__(self, path=None, grace_ms=5000):
        self.path = path or os.environ.get("XCALL_SOCKET") or DEFAULT_SOCKET
        self.grace_ms = grace_ms
        self._next = 1
        self._dead = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise XcallError(e.errno, "%s: %s" % (self.path, e.strerror))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno()

    def new_id(self):
        rid = self._next
        self._next += 1
        return rid

    # -- frames -----------------------------------------------------------
    def send_raw(self, frame, block=True):
        """Send one packet; False if it would block (block=False)."""
        if self._dead:
            raise self._dead
        try:
            self.sock.send(frame, socket.MSG_NOSIGNAL |
                           (0 if block else socket.MSG_DONTWAIT))
        except BlockingIOError:
            return False
        except OSError as e:
            # A connection the daemon refused (EUSERS) or ended is closed
            # after its ERROR frame: that frame says why, not EPIPE.
            why = self._error_waiting()
            if why:
                raise why from None
            raise XcallError(e.errno, "send: " + e.strerror) from None
        return True

    def _error_waiting(self):
        try:
            data = self.sock.recv(MAX_FRAME, socket.MSG_DONTWAIT |
                                  socket.MSG_PEEK)
            if len(data) < HDR_SIZE or data[3] != T_ERROR:
                return None
            ans = self.recv()
        except (OSError, XcallError):
            return None
        self._dead = self._dead or ans.exception("xcalld ended the "
                                                 "connection")
        return self._dead

    def send_call(self, fn, cpus, args=(), timeout_ms=None, nowait=False):
        """Send a CALL (at most 256 CPUs) and return its id."""
        rid = self.new_id()
        self.send_raw(encode_call(rid, fn, parse_cpus(cpus), args,
                                  timeout_ms, nowait))
        return rid

    def send_status(self):
        """Send a STATUS and return its id."""
        rid = self.new_id()
        self.send_raw(encode_status(rid))
        return rid

    def recv(self, timeout_ms=None):
        """The next Answer; XcallError(ETIMEDOUT) if none comes within
        timeout_ms (None: wait), XcallError(ECONNRESET) at the end of the
        stream. An ERROR frame is returned, not raised; one that ends the
        connection (EPROTONOSUPPORT, EUSERS, EBADMSG with id 0) makes
        later sends raise it, as the end of the stream makes them raise
        ECONNRESET."""
        if timeout_ms is not None:
            r, _, _ = select.select([self.sock], [], [], timeout_ms / 1000)
            if not r:
                raise XcallError(_errno.ETIMEDOUT,
                                 "no answer from xcalld in %d ms" %
                                 timeout_ms)
        try:
            data, _, flags, _ = self.sock.recvmsg(MAX_FRAME)
        except OSError as e:
            raise XcallError(e.errno, "recv: " + e.strerror) from None
        if not data:
            end = XcallError(_errno.ECONNRESET, "xcalld closed the connection")
            self._dead = self._dead or end
            raise end
        if flags & socket.MSG_TRUNC:
            raise XcallError(_errno.EPROTO, "frame over %d bytes" % MAX_FRAME)
        ans = decode(data)
        if ans.type == T_ERROR and (ans.error in _FATAL or (
                ans.error == _errno.EBADMSG and not ans.id)):
            self._dead = ans.exception("xcalld ended the connection")
        return ans

    # -- calls --------------------------------------------------------------
    def _deadline(self, timeout_ms):
        t = timeout_ms or DEFAULT_TIMEOUT_MS
        return time.monotonic() + (t + 2000 + self.grace_ms) / 1000

    def pipeline(self, requests, window=64):
        """Send requests without waiting for answers; yield (index, result)
        in the order the answers arrive.

        A request is a dict of run()'s keywords (fn, cpus, args,
        timeout_ms, nowait), a tuple (fn, cpus[, args]), or "status".
        result is a list of records, a status dict, or the XcallError of
        that request (not raised); a request that cannot be encoded raises
        ValueError. At most window requests are unanswered
        at once (the daemon stops reading a uid past 256 calls in flight),
        and answers are read while requests are sent, as the protocol
        wants. One call names at most 256 CPUs (run() splits larger sets).
        """
        it = enumerate(requests)
        pending = {}        # id -> (index, deadline, what)
        nxt = None          # (index, id, frame, deadline, what) not yet sent
        done = False
        while True:
            while not done and nxt is None and len(pending) < window:
                try:
                    i, req = next(it)
                except StopIteration:
                    done = True
                    break
                rid = self.new_id()
                if req == "status":
                    nxt = (i, rid, encode_status(rid),
                           time.monotonic() + self.grace_ms / 1000, "status")
                    break
                if isinstance(req, dict):
                    kw = dict(req)
                else:
                    kw = dict(zip(("fn", "cpus", "args"), req))
                fn = kw.pop("fn")
                frame = encode_call(rid, fn, parse_cpus(kw.pop("cpus")), **kw)
                nxt = (i, rid, frame, self._deadline(kw.get("timeout_ms")),
                       fn_name(fn) if isinstance(fn, int) else fn)
            if nxt is not None and self.send_raw(nxt[2], block=False):
                pending[nxt[1]] = (nxt[0], nxt[3], nxt[4])
                nxt = None
                continue
            if not pending:
                if nxt is None and done:
                    return
                if nxt is None:
                    continue
            # Wait to read, and to send when something waits to be sent.
            p = select.poll()
            p.register(self.sock, select.POLLIN |
                       (select.POLLOUT if nxt is not None else 0))
            limit = min((d for _, d, _ in pending.values()), default=None)
            wait = None if limit is None else max(0, limit - time.monotonic())
            ev = p.poll(None if wait is None else int(wait * 1000) + 1)
            if not ev:
                if limit is not None and time.monotonic() >= limit:
                    raise XcallError(_errno.ETIMEDOUT,
                                     "xcalld did not answer in time")
                continue
            if ev[0][1] & (select.POLLIN | select.POLLHUP | select.POLLERR):
                ans = self.recv()
                if ans.id not in pending:
                    if ans.type == T_ERROR:
                        raise ans.exception("xcalld")
                    raise XcallError(_errno.EPROTO, "answer to unknown "
                                     "request %d" % ans.id, ans.id)
                i, _, what = pending.pop(ans.id)
                yield i, (ans.exception(what) if ans.error else ans.value)

    def run(self, fn, cpus, args=(), timeout_ms=None, nowait=False):
        """Run fn on cpus and return one record per CPU, ascending (none
        for nowait). A set of more than 256 CPUs goes as several calls.
        Raises XcallError when a call is refused as a whole."""
        cpus = parse_cpus(cpus)
        chunks = [cpus[i:i + MAX_CPUS] for i in
                  range(0, len(cpus), MAX_CPUS)] or [[]]
        reqs = [{"fn": fn, "cpus": c, "args": args, "timeout_ms": timeout_ms,
                 "nowait": nowait} for c in chunks]
        out = [None] * len(reqs)
        for i, res in self.pipeline(reqs):
            if isinstance(res, XcallError):
                raise res
            out[i] = res
        recs = [r for rs in out for r in rs]
        if len(out) > 1:
            for r in recs:
                r.pop("offset_ns", None)
            _offsets(recs)
        return recs

    def status(self):
        """The daemon's status, a dict of the STATUS_REPLY."""
        for _, res in self.pipeline(["status"]):
            if isinstance(res, XcallError):
                raise res
            return res


def run(fn, cpus, args=(), timeout_ms=None, nowait=False, path=None):
    """Client(path).run(...) on a connection of its own."""
    with Client(path) as c:
        return c.run(fn, cpus, args, timeout_ms, nowait)


call = run


def status(path=None):
    """Client(path).status() on a connection of its own."""
    with Client(path) as c:
        return c.status()


def _main(argv=None):
    import argparse
    import json
    import sys
    p = argparse.ArgumentParser(prog="python3 -m xcall",
                                description="Talk to xcalld.")
    p.add_argument("--socket")
    p.add_argument("--timeout", type=int)
    p.add_argument("what", help="status, or a function")
    p.add_argument("cpus", nargs="?", default="all")
    p.add_argument("args", nargs="*", type=lambda s: int(s, 0))
    a = p.parse_args(argv)
    try:
        if a.what == "status":
            print(json.dumps(status(a.socket)))
            return 0
        fn = int(a.what) if a.what.isdigit() else a.what
        recs = run(fn, a.cpus, a.args, a.timeout, path=a.socket)
    except (XcallError, ValueError) as e:
        print("xcall.py: %s" % e, file=sys.stderr)
        return 2
    for r in recs:
        r.pop("raw")
        print(json.dumps(r))
    return 0 if all(r["ok"] for r in recs) else 1


if __name__ == "__main__":
    raise SystemExit(_main())
