#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seeds tests/fuzz/corpus/TARGET from real outputs: recorded QMP
exchanges and kernel splats (tests/data), a real run's kmsg.log and
result.json files (RESULTS, a run directory), the shipped configs.  Frames
for the agent targets are built as the agent and the harness build them
(hh-protocol.h).  Run once from the source tree; the corpus is checked in.

usage: tests/fuzz/make-seeds.py [RUN_DIR]
"""
import glob
import hashlib
import os
import re
import struct
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(SRC, "tests/fuzz/corpus")
MAX = 60000


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    data = data[:MAX]
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def field(tag, value):
    if isinstance(value, str):
        value = value.encode()
    return struct.pack("<HI", tag, len(value)) + value


def u32(tag, v):
    return field(tag, struct.pack("<I", v))


def u64(tag, v):
    return field(tag, struct.pack("<Q", v))


def frame(mtype, fid, payload):
    return struct.pack("<IHHII", 0x31504848, 1, mtype, fid, len(payload)) + payload


KMSG_RE = re.compile(r"^<(\d+)>\[\s*(\d+)\.(\d+)\] (.*)$")


def kmsg_records(path, limit=400):
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = KMSG_RE.match(line.rstrip("\n"))
            if m:
                out.append((int(m.group(1)), int(m.group(2)) * 1000000 + int(m.group(3)), m.group(4)))
            if len(out) >= limit:
                break
    return out


def main():
    run = sys.argv[1] if len(sys.argv) > 1 else None
    kmsgs = sorted(glob.glob(os.path.join(run, "*/*/*/kmsg.log"))) if run else []
    results = sorted(glob.glob(os.path.join(run, "*/*/*/result.json"))) if run else []
    splats = sorted(glob.glob(os.path.join(SRC, "tests/data/splats/*.txt")))
    qmps = sorted(glob.glob(os.path.join(SRC, "tests/data/qmp/*.txt")))

    # QMP: what QEMU sent ("<- " lines), CRLF framed as QEMU frames them.
    for q in qmps:
        lines = [l[3:].rstrip("\n") for l in open(q) if l.startswith("<- ")]
        put("qmp", "".join(l + "\r\n" for l in lines))

    # Kernel logs: splats and real logs, as text for logcheck and escape.
    texts = [open(s, errors="replace").read() for s in splats]
    for k in kmsgs[:12]:
        texts.append("\n".join(r[2] for r in kmsg_records(k)))
    sup = open(os.path.join(SRC, "configs/suppressions")).read()
    for t in texts:
        put("logcheck", t)
        put("logcheck", sup + "\0" + t)
        put("escape", b"\x20" + t.encode())
        put("escape", b"\x00" + t.encode()[:4000])

    # Agent, host side: a STATE reply (id 1) on the control port and
    # KMSG frames of a real log on the log port.
    state = ("node 0 possible=1 online=1 memory=1 cpu=1\n"
             "cpu 0 possible=1 present=1 online=1 node=0\n"
             "block 8 state=online node=0 zones=Normal\nblock_size 134217728\n")
    reply = frame(64, 1, u32(5, 0) + u32(10, 0) + field(4, state))
    for k in kmsgs[:8] + [None]:
        recs = kmsg_records(k, 120) if k else [(6, 0, t) for t in texts[0].splitlines()]
        log = b"".join(frame(65, 0, u64(11, i) + u64(12, ts) + u32(13, lvl) + field(6, text))
                       for i, (lvl, ts, text) in enumerate(recs))
        log += frame(66, 0, u64(14, 3))
        put("agent-host", struct.pack("<H", len(reply)) + reply + log)
    put("agent-host", struct.pack("<H", 0) + frame(67, 1, field(6, "unknown request type 99")))

    # Agent, guest side: requests as the harness sends them; kmsg lines
    # as /dev/kmsg gives them ("prefix,seq,ts,flags;text").
    reqs = [
        frame(1, 1, u64(1, 0x1234567890)),
        frame(2, 2, field(3, "/sys/devices/system/memory/probe") + field(4, "0x100000000")),
        frame(3, 3, field(3, "/sys/devices/system/node/online")),
        frame(4, 4, field(7, "sh") + field(7, "-c") + field(7, "echo hi") + u32(8, 5000)),
        frame(5, 5, field(6, "step 3")),
        frame(6, 6, b""),
        frame(8, 7, u64(15, 1796041677000000000)),
        frame(7, 8, b""),
    ]
    put("agent-guest", b"\x00\x00" + b"".join(reqs))
    for r in reqs:
        put("agent-guest", b"\x00\x01" + r)
    for k in kmsgs[:6]:
        lines = "".join("%d,%d,%d,-;%s\n" % (lvl, i, ts, text)
                        for i, (lvl, ts, text) in enumerate(kmsg_records(k, 200)))
        put("agent-guest", b"\x01\x00" + lines.encode())

    # User-written configs: every shipped scenario, variant and matrix.
    for s in sorted(glob.glob(os.path.join(SRC, "configs/scenarios/*.scenario"))):
        put("scenario", open(s).read())
    for v in sorted(glob.glob(os.path.join(SRC, "configs/variants/*.variant"))):
        put("variant", open(v).read())
    for m in sorted(glob.glob(os.path.join(SRC, "configs/*.matrix"))):
        put("matrix", open(m).read())

    # result.json of a real run.
    for r in results:
        put("result", open(r).read())


main()
