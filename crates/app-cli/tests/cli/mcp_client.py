"""Drive `cloudops mcp` with the official MCP Python client (PyPI `mcp`), as an agent would.

Reads one JSON object on standard input:
  {"command": "/path/cloudops", "args": ["mcp"], "env": {...},
   "calls": [{"tool": "find_resources", "arguments": {...}}, ...],
   "repeat": 0}
A call may instead be {"sleep": SECONDS}, or {"run": [argv...]} to run a command with the
same environment while the session stays open (its exit code is recorded as {"exit": N}).
starts the server over stdio, initializes as the client "cloudops-test-agent", lists the
tools, makes the calls in order in one session and prints one JSON object: the server's
name and protocol, the tools as listed, each call's result (or the exception it raised) and
how long it took (`first_ms`; the session's first call opens the estate).
With "repeat": N > 0, each call is also made N more times and its latencies (ms, end to end
over stdio) are reported instead of the repeated results: the benchmark mode.
"""

import asyncio
import json
import os
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import Implementation


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main():
    spec = json.load(sys.stdin)
    params = StdioServerParameters(
        command=spec["command"], args=spec.get("args", ["mcp"]), env=spec.get("env", {})
    )
    out = {"calls": [], "latencies_ms": []}
    async with stdio_client(params) as (read, write):
        async with ClientSession(
            read,
            write,
            client_info=Implementation(name="cloudops-test-agent", version="1.0"),
        ) as session:
            init = await session.initialize()
            out["server"] = init.server_info.name
            out["protocol"] = init.protocol_version
            out["tools"] = [dump(tool) for tool in (await session.list_tools()).tools]
            out["first_ms"] = []
            for call in spec.get("calls", []):
                started = time.perf_counter()
                if "sleep" in call:
                    await asyncio.sleep(call["sleep"])
                    out["calls"].append({"slept": call["sleep"]})
                    out["first_ms"].append(0.0)
                    out["latencies_ms"].append([])
                    continue
                if "run" in call:
                    env = {**os.environ, **spec.get("env", {})}
                    done = subprocess.run(call["run"], env=env, capture_output=True, text=True)
                    out["calls"].append({"exit": done.returncode, "stderr": done.stderr[-2000:]})
                    out["first_ms"].append(0.0)
                    out["latencies_ms"].append([])
                    continue
                try:
                    result = await session.call_tool(call["tool"], call.get("arguments"))
                    out["calls"].append(dump(result))
                except Exception as error:  # the test asserts on what was raised
                    out["calls"].append({"exception": repr(error)})
                out["first_ms"].append((time.perf_counter() - started) * 1000.0)
                times = []
                for _ in range(spec.get("repeat", 0)):
                    started = time.perf_counter()
                    await session.call_tool(call["tool"], call.get("arguments"))
                    times.append((time.perf_counter() - started) * 1000.0)
                out["latencies_ms"].append(times)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
