"""Calls tools of ActiveCampaign's MCP server (ac-mcp-server) in process; run by that package's venv.

Usage: python mcp_driver.py CALLS.json  (with AC_API_URL and AC_API_TOKEN set to the sandbox).
CALLS.json is a list of {"tool": name, "arguments": {...}}; one JSON line per call is printed:
{"tool", "ok", "error", "keys"} where keys are the top-level keys of the tool's result.
"""

import asyncio
import json
import sys

from ac_mcp_server.server import mcp
from fastmcp import Client


async def run(calls):
    out = []
    async with Client(mcp) as client:
        for call in calls:
            try:
                result = await client.call_tool(call["tool"], call["arguments"], raise_on_error=False)
            except Exception as exc:  # a transport or validation failure is a failed call, reported
                out.append(
                    {"tool": call["tool"], "ok": False, "error": f"{type(exc).__name__}: {exc}", "keys": []}
                )
                continue
            text = " ".join(getattr(part, "text", "") for part in result.content)
            data = result.structured_content
            if isinstance(data, dict) and set(data) == {"result"}:
                data = data["result"]
            out.append(
                {
                    "tool": call["tool"],
                    "ok": not result.is_error,
                    "error": text if result.is_error else "",
                    "keys": sorted(data) if isinstance(data, dict) else [],
                }
            )
    return out


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        calls = json.load(handle)
    for line in asyncio.run(run(calls)):
        print(json.dumps(line))
