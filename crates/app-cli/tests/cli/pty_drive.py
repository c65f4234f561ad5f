"""Runs a command on a pseudo-terminal and answers its questions, as an operator at a
terminal would, for the CLI's interactive approval tests.

  pty_drive.py --answer 'Which?=>2' --answer '[y/N]=>y' -- cloudops ask "..."

Each --answer is `TEXT=>REPLY`: when TEXT appears in the output (after the previous answer),
REPLY and a newline are typed. The whole transcript goes to standard output, and the exit
code is the command's (124 when it did not finish within --timeout seconds).
Standard library only.
"""

import argparse
import os
import pty
import select
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--answer", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    answers = [a.split("=>", 1) for a in options.answer]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    transcript = b""
    searched_from = 0
    deadline = time.monotonic() + options.timeout
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            transcript += chunk
        if answers:
            text, reply = answers[0]
            found = transcript.find(text.encode(), searched_from)
            if found >= 0:
                searched_from = found + len(text)
                os.write(fd, reply.encode() + b"\n")
                answers.pop(0)
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
            # Drain what is left.
            while True:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    break
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                transcript += chunk
            break
    # The terminal closed: the command is ending; give it a moment to be reaped.
    end = time.monotonic() + 5
    while status is None and time.monotonic() < end:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        else:
            time.sleep(0.05)
    sys.stdout.write(transcript.decode("utf-8", "replace"))
    sys.stdout.flush()
    if status is None:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        return 124
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
