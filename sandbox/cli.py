"""``python -m sandbox``: its command-line options and the foreground serve loop."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import uvicorn

from sandbox.activecampaign.generator.profile import GeneratorProfile
from sandbox.config import DEFAULT_AC_KEY, DEFAULT_BREVO_KEY, SandboxConfig, parse_brevo_rates
from sandbox.faults import FaultSpec
from sandbox.server import bind_socket, build_app, uvicorn_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--contacts", type=int, default=200, help="generated AC contacts (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="data seed; same seed, same data (default 1)")
    parser.add_argument(
        "--profile",
        default="",
        help="fixed per-contact counts, e.g. fields=5,tags=3,lists=2 (default: realistic spread)",
    )
    parser.add_argument(
        "--ac-rate",
        type=float,
        default=5.0,
        help="AC requests per second per account; 0 = unlimited (default 5)",
    )
    parser.add_argument(
        "--ac-retry-after",
        type=float,
        default=None,
        help="Retry-After seconds on AC 429s (default 30, the vendor's example; 1 with --ac-legacy)",
    )
    parser.add_argument(
        "--ac-legacy",
        action="store_true",
        help="simulate the AC contract as before the 2026 review (Retry-After 1, no GET /api/3/)",
    )
    parser.add_argument(
        "--ac-filter-zone",
        default="offset",
        choices=("offset", "utc", "account", "date"),
        help="how AC reads filters[updated_after] dates: honour an offset (default), ignore it and "
        "read UTC or account time, or keep only the date",
    )
    parser.add_argument("--ac-key", default=DEFAULT_AC_KEY, help="AC API token the sandbox accepts")
    parser.add_argument("--brevo-key", default=DEFAULT_BREVO_KEY, help="Brevo api-key the sandbox accepts")
    parser.add_argument(
        "--brevo-rates",
        default="",
        help="Brevo buckets, e.g. contacts=10/s+36000/h,other=100/h; 'off' = unlimited",
    )
    parser.add_argument(
        "--faults",
        default="",
        help=(
            "injected faults, e.g. 429=0.05,500=0.02,slow=0.05:2.0,timeout=0.01,drop=0.01 (slow: held "
            "before anything counts the request; think: AC answers slowly after its rate gate counted it)"
        ),
    )
    parser.add_argument(
        "--fault-scope",
        default="both",
        choices=("ac", "brevo", "both"),
        help="which API the faults hit (default both)",
    )
    parser.add_argument("--tz-offset", default="-05:00", help="AC account time zone offset (default -05:00)")
    parser.add_argument("--fast", action="store_true", help="switch every rate limit off")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="generate the AC account before serving (benchmarks: time the client, not the generator)",
    )


def config_from_options(options: dict[str, Any]) -> SandboxConfig:
    """Build the config; raises ValueError with a one-line message on bad input."""
    if options["port"] < 0 or options["port"] > 65535:
        raise ValueError(f"--port must be between 0 and 65535, not {options['port']}")
    if options["contacts"] < 0:
        raise ValueError("--contacts must not be negative")
    if options["ac_rate"] < 0:
        raise ValueError("--ac-rate must not be negative")
    if options.get("ac_retry_after") is not None and options["ac_retry_after"] < 0:
        raise ValueError("--ac-retry-after must not be negative")
    if not options["ac_key"] or not options["brevo_key"]:
        raise ValueError("--ac-key and --brevo-key must not be empty")
    base = SandboxConfig.fast() if options["fast"] else SandboxConfig()
    brevo_limits = parse_brevo_rates(options["brevo_rates"]) if options["brevo_rates"] else base.brevo_limits
    return SandboxConfig(
        host=options["host"],
        port=options["port"],
        seed=options["seed"],
        contacts=options["contacts"],
        profile=GeneratorProfile.parse(options["profile"]),
        ac_key=options["ac_key"],
        brevo_key=options["brevo_key"],
        ac_rate=0.0 if options["fast"] else options["ac_rate"],
        ac_retry_after=options["ac_retry_after"],
        ac_legacy=options.get("ac_legacy", False),
        ac_filter_zone=options.get("ac_filter_zone", "offset"),
        brevo_limits=brevo_limits,
        faults=FaultSpec.parse(options["faults"]),
        fault_scope=options["fault_scope"],
        tz_offset=options["tz_offset"],
        access_log=options["access_log"],
        warm=options.get("warm", False),
    )


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls `announce` once it accepts connections, not before."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._announce()


def serve(config: SandboxConfig, out: TextIO) -> None:
    """Bind, serve, print the two connection lines once the server accepts, run until SIGINT/SIGTERM.

    Whoever reads the lines may connect at once: they are written only after uvicorn's startup
    has put the listening socket into service.
    """
    app = build_app(config)
    if config.warm:
        app.sandbox.ac.warm()
    sock = bind_socket(config.host, config.port)
    port = sock.getsockname()[1]
    host = config.host if ":" not in config.host else f"[{config.host}]"
    base = f"http://{host}:{port}"

    def announce() -> None:
        out.write(f"ActiveCampaign: api_url={base} api_key={config.ac_key}\n")
        out.write(f"Brevo: api_url={base}/v3 api_key={config.brevo_key}\n")
        out.flush()

    server = _AnnouncingServer(uvicorn_config(app, config), announce)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, serve until SIGINT/SIGTERM; bad input is one line on stderr and exit code 2."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=(
            "Serve simulated ActiveCampaign (/api/3) and Brevo (/v3) APIs. Prints one line per API "
            "(api_url and api_key) before serving, then runs until interrupted."
        ),
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        config = config_from_options(options)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config, sys.stdout)
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
