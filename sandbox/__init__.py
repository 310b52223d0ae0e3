"""Local simulators of the ActiveCampaign and Brevo APIs over real HTTP (demo, tests, benchmarks).

    from sandbox.config import SandboxConfig
    from sandbox.server import SandboxServer

    with SandboxServer(SandboxConfig.fast(contacts=500)) as sb:
        sb.ac_api_url, sb.ac_key          # AC: the client appends /api/3
        sb.brevo_api_url, sb.brevo_key    # Brevo: .../v3
        sb.ac                             # the AC state (ACState); sb.brevo the BrevoSimulator

Or from the shell: ``python -m sandbox --port 8010``.

The product never imports this package; it needs the ``sandbox`` install extra (Starlette).
"""
