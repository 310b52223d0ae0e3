import time

import pytest
from django.test import Client

from tests.integration.webhooks.conftest import FORM, intake, sample


@pytest.mark.django_db(transaction=True)
def test_prof(connection, short_queue):
    c = Client()
    good = intake(connection)
    wrong = good[:-5] + "BBBBB"
    for name, path, body in [("wrong", wrong, b"type=update&contact%5Bid%5D=1"), ("junk", good, b"junk"), ("replay", good, sample("update")), ("oversize", good, b"a="+b"x"*300000)]:
        t=time.perf_counter()
        for i in range(300):
            c.generic("POST", path, body, content_type=FORM)
        print(name, (time.perf_counter()-t)/300*1000, "ms")
