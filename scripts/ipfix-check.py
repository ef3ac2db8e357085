#!/usr/bin/env python3
"""An independent IPFIX check of `bloomtime ... --ipfix` (issue 14).

    ipfix-check.py --listen PORT --csv FLOWS.csv [--tcp] [--idle S] [--timeout S]

Listens on 127.0.0.1:PORT, prints "listening" once bound, and takes IPFIX
messages: over UDP (the default) until none came for --idle seconds (after
the first) or --timeout passed; with --tcp from one connection, split by
the messages' length fields (RFC 7011 §10.4), until the exporter closes it
or --timeout passed. Decodes them by RFC 7011 alone (this script shares no
code with the exporter; the element numbers are those of docs/IPFIX.md),
and compares every data record with the row of the same flow in FLOWS.csv
(`bloomtime analyze --format csv`, with or without --percentiles): the
packet count, the sample counts and every timing figure, formatted as the
CSV formats them (microseconds, 3 decimals, empty for NaN). Checks the
message lengths (at most 1400 bytes over UDP, 65535 over TCP, or
--max-length), the sequence numbers (data records sent before each
message) and that templates come before data; over TCP, that the
templates come once, in the first message (RFC 7011 §8.1).

Flow start and end times (flowStart/EndMilliseconds, 152/153, and
flowStart/EndNanoseconds, 156/157, NTP format): with --times TIMES.csv
(proto,src,sport,dst,dport,first_ns,last_ns: nanoseconds since the Unix
epoch) every record must carry exactly the times of its flow there (the
milliseconds truncated), and no other record times; without it, a
record's two encodings must agree and its start not be after its end.

Exit 0 when every flow of the CSV arrived exactly once and matches.
"""
import argparse
import csv
import ipaddress
import math
import socket
import struct
import sys
import time

PEN = 32473
STANDARD = {
    8: "src",
    27: "src",
    12: "dst",
    28: "dst",
    7: "sport",
    11: "dport",
    4: "proto",
    2: "packets",
    152: "start_ms",
    153: "end_ms",
    156: "start_ns",
    157: "end_ns",
}
NTP_UNIX = 2208988800
TIMING = {
    1: "iat_samples",
    2: "iat_mean_us",
    3: "iat_std_us",
    4: "iat_min_us",
    5: "iat_max_us",
    6: "iat_p50_us",
    7: "iat_p90_us",
    8: "iat_p99_us",
    9: "rtt_samples",
    10: "rtt_mean_us",
    11: "rtt_std_us",
    12: "rtt_min_us",
    13: "rtt_max_us",
    14: "rtt_p50_us",
    15: "rtt_p90_us",
    16: "rtt_p99_us",
}


def fail(msg):
    print(f"ipfix-check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def receive_tcp(port, timeout):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    print("listening", flush=True)
    end = time.monotonic() + timeout
    ls.settimeout(timeout)
    try:
        s, _ = ls.accept()
    except socket.timeout:
        return []
    ls.close()
    data = bytearray()

    def need(n):
        while len(data) < n:
            left = end - time.monotonic()
            if left <= 0:
                fail("--timeout passed before the exporter closed the connection")
            s.settimeout(left)
            d = s.recv(1 << 16)
            if not d:
                return False
            data.extend(d)
        return True

    msgs = []
    while True:
        if not need(4):
            if data:
                fail(f"the stream ends inside a message header ({len(data)} bytes)")
            break
        (length,) = struct.unpack("!H", data[2:4])
        if length < 16:
            fail(f"message {len(msgs)}: length field {length}")
        if not need(length):
            fail(f"the stream ends inside message {len(msgs)} ({len(data)} of {length} bytes)")
        msgs.append(bytes(data[:length]))
        del data[:length]
    s.close()
    return msgs


def receive(port, idle, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    print("listening", flush=True)
    msgs = []
    start = time.monotonic()
    while True:
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            break
        s.settimeout(min(left, idle) if msgs else left)
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            if msgs:
                break
            continue
        msgs.append(d)
    return msgs


def decode(msgs, max_length, templates_once):
    templates = {}
    records = []
    seq_expected = {}
    refreshes = 0
    for i, m in enumerate(msgs):
        if len(m) < 16:
            fail(f"message {i}: {len(m)} bytes, shorter than the header")
        version, length, _export, seq, domain = struct.unpack("!HHIII", m[:16])
        if version != 10:
            fail(f"message {i}: version {version}")
        if length != len(m) or length > max_length:
            fail(f"message {i}: length field {length}, message {len(m)} bytes (at most {max_length})")
        want = seq_expected.get(domain, seq if i == 0 else 0)
        if seq != want:
            fail(f"message {i}: sequence number {seq}, expected {want}")
        n = 0
        off = 16
        while off < length:
            sid, slen = struct.unpack("!HH", m[off : off + 4])
            if slen < 4 or off + slen > length:
                fail(f"message {i}: set {sid} of length {slen} at {off}")
            body = m[off + 4 : off + slen]
            if sid == 2:
                refreshes += 1
                if templates_once and i > 0:
                    fail(f"message {i}: templates again over TCP (RFC 7011 §8.1: once per session)")
                j = 0
                while j + 4 <= len(body):
                    tid, count = struct.unpack("!HH", body[j : j + 4])
                    j += 4
                    fields = []
                    for _ in range(count):
                        ie, flen = struct.unpack("!HH", body[j : j + 4])
                        j += 4
                        pen = None
                        if ie & 0x8000:
                            (pen,) = struct.unpack("!I", body[j : j + 4])
                            j += 4
                            ie &= 0x7FFF
                        fields.append((ie, flen, pen))
                    templates[tid] = fields
            elif sid >= 256:
                if sid not in templates:
                    fail(f"message {i}: data set {sid} before its template")
                fields = templates[sid]
                rlen = sum(f[1] for f in fields)
                j = 0
                while j + rlen <= len(body):
                    rec = {}
                    for ie, flen, pen in fields:
                        v = body[j : j + flen]
                        j += flen
                        if pen is None and ie in STANDARD:
                            name = STANDARD[ie]
                            if name in ("src", "dst"):
                                rec[name] = str(ipaddress.ip_address(v))
                            elif name.endswith("_ns"):
                                # dateTimeNanoseconds (RFC 7011 §6.1.10):
                                # NTP seconds, fraction in 2^-32 s.
                                secs, frac = struct.unpack("!II", v)
                                rec[name] = (secs - NTP_UNIX) * 10**9 + ((frac * 10**9 + (1 << 31)) >> 32)
                            else:
                                rec[name] = int.from_bytes(v, "big")
                        elif pen == PEN and ie in TIMING:
                            name = TIMING[ie]
                            if name.endswith("_samples"):
                                rec[name] = int.from_bytes(v, "big")
                            else:
                                (rec[name],) = struct.unpack("!d", v)
                        else:
                            fail(f"template {sid}: unknown element {ie} (enterprise {pen})")
                    records.append(rec)
                    n += 1
                if len(body) - j >= rlen or j == 0:
                    fail(f"message {i}: data set {sid} of {len(body)} bytes")
            off += slen
        seq_expected[domain] = (seq + n) % (1 << 32)
    return templates, records, refreshes


def cell(rec, col):
    v = rec[col]
    if isinstance(v, int):
        return str(v)
    n = rec[col.split("_")[0] + "_samples"]
    if n == 0 or not math.isfinite(v):
        return ""
    return f"{v:.3f}"


def check_times(records, path):
    """Every record's times against TIMES.csv (or, without it, against
    each other); the number of records with times."""
    want = {}
    if path:
        with open(path) as f:
            for row in csv.DictReader(f):
                k = tuple(row[c] for c in ["proto", "src", "sport", "dst", "dport"])
                want[k] = (int(row["first_ns"]), int(row["last_ns"]))
    timed = 0
    for r in records:
        k = tuple(str(r[c]) for c in ["proto", "src", "sport", "dst", "dport"])
        names = ["start_ms", "end_ms", "start_ns", "end_ns"]
        have = [n in r for n in names]
        if any(have) and not all(have):
            fail(f"flow {k}: only some of the time elements: {[n for n in names if n in r]}")
        if not all(have):
            if k in want:
                fail(f"flow {k}: no times in IPFIX, {want[k]} in {path}")
            continue
        timed += 1
        got = (r["start_ns"], r["end_ns"])
        if r["start_ms"] != got[0] // 10**6 or r["end_ms"] != got[1] // 10**6:
            fail(f"flow {k}: milliseconds {r['start_ms']}, {r['end_ms']} but nanoseconds {got}")
        if got[0] > got[1]:
            fail(f"flow {k}: starts at {got[0]} ns, after its end {got[1]} ns")
        if path:
            if k not in want:
                fail(f"flow {k}: times {got} in IPFIX, none in {path}")
            if got != want[k]:
                fail(f"flow {k}: times {got} ns in IPFIX, {want[k]} in {path}")
    return timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--times")
    ap.add_argument("--max-length", type=int)
    ap.add_argument("--idle", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()
    if a.tcp:
        msgs = receive_tcp(a.listen, a.timeout)
    else:
        msgs = receive(a.listen, a.idle, a.timeout)
    if not msgs:
        fail("no IPFIX message arrived")
    max_length = a.max_length or (65535 if a.tcp else 1400)
    templates, records, refreshes = decode(msgs, max_length, a.tcp)
    with open(a.csv) as f:
        rows = list(csv.DictReader(f))
    keycols = ["proto", "src", "sport", "dst", "dport"]
    got = {}
    for r in records:
        k = tuple(str(r[c]) for c in keycols)
        if k in got:
            fail(f"flow {k} exported twice")
        got[k] = r
    cols = [c for c in rows[0].keys() if c not in keycols] if rows else []
    for row in rows:
        k = tuple(row[c] for c in keycols)
        r = got.pop(k, None)
        if r is None:
            fail(f"flow {k} of the CSV was not exported")
        for c in cols:
            if cell(r, c) != row[c]:
                fail(f"flow {k}: {c} is {cell(r, c)!r} in IPFIX, {row[c]!r} in the CSV")
    if got:
        fail(f"{len(got)} exported flows are not in the CSV, e.g. {next(iter(got))}")
    timed = check_times(records, a.times)
    print(
        f"ipfix-check: {len(msgs)} messages over {'TCP' if a.tcp else 'UDP'} "
        f"(longest {max(len(m) for m in msgs)} bytes), {len(records)} data records, "
        f"templates {sorted(templates)} sent {refreshes} times: every flow of "
        f"{a.csv} matches ({len(cols)} columns); {timed} records with times"
        + (f", each as in {a.times}" if a.times else "")
    )


if __name__ == "__main__":
    main()
