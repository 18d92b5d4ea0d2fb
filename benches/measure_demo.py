#!/usr/bin/env python3
"""Measures the release demo as a user runs it: time to the first frame, idle CPU and peak RSS.

Usage: cargo build --release && python3 benches/measure_demo.py [SECONDS]

Runs `cutover demo` in a pseudo-terminal of 160x48, records when the first frame arrives,
leaves it alone for SECONDS (default 60), quits with `q`, and reads the CPU time and peak RSS
the kernel accounted to the process.
"""
import fcntl
import os
import pty
import resource
import select
import struct
import sys
import termios
import time

BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "cutover")


def main() -> int:
    idle_seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    if not os.path.exists(BINARY):
        print("build it first: cargo build --release", file=sys.stderr)
        return 2
    log = os.path.join(os.path.dirname(BINARY), "measure.log")
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(BINARY, [BINARY, "demo", "--log-file", log])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    first_frame = None
    seen = b""
    deadline = started + idle_seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if first_frame is None:
                seen += chunk
                if b"BLUE" in seen and b"TRAFFIC" in seen:
                    first_frame = time.monotonic() - started
    os.write(fd, b"q")
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    wall = time.monotonic() - started
    print(f"first frame: {first_frame * 1000:.0f} ms" if first_frame else "first frame: never")
    print(f"cpu: {cpu:.3f} s over {wall:.1f} s = {100 * cpu / wall:.2f}% of one core")
    print(f"peak RSS: {usage.ru_maxrss / 1024:.1f} MB")
    print(f"exit status: {os.waitstatus_to_exitcode(status)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
