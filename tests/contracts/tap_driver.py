"""Runs tap-activecampaign's own entry point against the sandbox (executed by the tap's venv python).

The tap refuses any API URL that is not https on a public address (its own SSRF guard), and the
sandbox is plain http on loopback; that one check is lifted, nothing else of the tap is touched.
"""

import sys

import tap_activecampaign
import tap_activecampaign.client

tap_activecampaign.client.is_api_url_valid = lambda api_url: True

if __name__ == "__main__":
    sys.argv = ["tap-activecampaign", *sys.argv[1:]]
    tap_activecampaign.main()
