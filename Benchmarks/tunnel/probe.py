#!/usr/bin/env python3
"""Helpers for Benchmarks/tunnel/run.sh (loopback only).

  probe.py echo-server PORT            echo every connection (threads) until killed
  probe.py banner-server PORT          send one byte on connect, then close (a server that speaks first)
  probe.py cps PORT SECONDS THREADS    short connections per second: connect, 1 byte there and back, close
  probe.py ttfb PORT COUNT             median and p90 microseconds from connect() to the first byte
  probe.py ttfb-vs DIRECT PORT COUNT   the same, alternating a direct connection and one to PORT: median and p90 of
                                       each, then the median of the pairs' differences (PORT minus direct)
  probe.py hold PORT COUNT SECONDS     open COUNT concurrent connections, check each echoes, hold them SECONDS
"""
import socket, sys, threading, time, statistics


def serve(port, handler):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def echo(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    conn.close()


def banner(conn):
    try:
        conn.sendall(b"B")
    except OSError:
        pass
    conn.close()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cps(port, seconds, threads):
    count = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i):
        while time.monotonic() < stop:
            try:
                s = connect(port)
                s.sendall(b"x")
                if s.recv(1) == b"x":
                    count[i] += 1
                else:
                    errors[i] += 1
                s.close()
            except OSError:
                errors[i] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    elapsed = time.monotonic() - start
    print(f"{sum(count) / elapsed:.0f} {sum(errors)}")


def ttfb(port, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        s = connect(port)
        s.recv(1)
        samples.append((time.perf_counter() - start) * 1e6)
        s.close()
        time.sleep(0.01)
    samples.sort()
    print(f"{statistics.median(samples):.0f} {samples[int(len(samples) * 0.9)]:.0f}")


def first_byte(port):
    start = time.perf_counter()
    s = connect(port)
    s.recv(1)
    elapsed = (time.perf_counter() - start) * 1e6
    s.close()
    return elapsed


def ttfb_vs(direct, port, n):
    """Pairs taken back to back, so a change in the machine's load moves both sides of a pair alike."""
    a, b = [], []
    for _ in range(n):
        a.append(first_byte(direct))
        time.sleep(0.01)
        b.append(first_byte(port))
        time.sleep(0.01)  # (a pool refills within this pause, as it does between the clients of `ttfb`)
    differences = sorted(y - x for x, y in zip(a, b))
    a.sort(); b.sort()
    p90 = int(n * 0.9)
    print(f"{statistics.median(a):.0f} {a[p90]:.0f} {statistics.median(b):.0f} {b[p90]:.0f} {statistics.median(differences):.0f}")


def hold(port, n, seconds):
    socks = []
    for i in range(n):
        s = connect(port)
        socks.append(s)
    ok = 0
    for i, s in enumerate(socks):
        payload = f"{i:08d}".encode()
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(64)
            if not chunk:
                break
            got += chunk
        ok += got == payload
    print(ok, flush=True)
    time.sleep(seconds)
    for s in socks: s.close()


if __name__ == "__main__":
    command, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    if command == "echo-server": serve(args[0], echo)
    elif command == "banner-server": serve(args[0], banner)
    elif command == "cps": cps(*args)
    elif command == "ttfb": ttfb(*args)
    elif command == "ttfb-vs": ttfb_vs(*args)
    elif command == "hold": hold(*args)
    else: sys.exit(__doc__)
