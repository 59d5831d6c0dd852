"""PBO with its degradation plot on the compare page and the sweep page; the sweep's per-point trading evidence
and its verdict on the degradation; the sweep API's ``pbo``. Real engine results on one synthetic series."""

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from tests.training.trading_runs import STRENGTHS
from training.models import Sweep, SweepPoint
from training.templatetags.ares_ui import num

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def strength_runs(profile, dataset, strength_results):
    return [make_finished_run(profile, dataset, result=r) for r in strength_results]


def test_the_compare_page_shows_pbo_and_the_degradation_plot(launcher_client, strength_runs):
    ids = ",".join(str(r.pk) for r in strength_runs)
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={ids}")
    pbo = response.context["pbo"]
    page = response.content.decode().split('id="pbo"', 1)[1].split("</section>", 1)[0]
    assert f"<strong>PBO {num(pbo['pbo'], 3)}</strong> over <strong>3</strong> configurations" in page
    assert "S = 16 blocks (12870 splits)" in page
    assert 'class="pbo-degradation"' in page and 'class="pbo-logits"' in page and "<img" not in page


def test_the_sweep_page_and_api_show_trading_evidence_and_pbo(launcher_client, profile, strength_runs):
    sweep = Sweep.objects.create(
        symbol="BTCUSDT", profile=profile, preset="tiny", axes=[{"param": "l1_alpha", "values": list(STRENGTHS)}]
    )
    for index, (alpha, run) in enumerate(zip(STRENGTHS, strength_runs, strict=True)):
        SweepPoint.objects.create(sweep=sweep, run=run, index=index, values={"l1_alpha": alpha}, recorded=True)
    response = launcher_client.get(reverse("training:sweep_detail", args=[sweep.pk]))
    trading = response.context["trading"]
    page = response.content.decode()
    section = page.split('id="sweep-trading"', 1)[1].split("</section>", 1)[0]
    assert trading["degradation_verdict"]["text"] in section.replace("&#x27;", "'")
    assert section.count("<tr data-point=") == 3 and "reference (least regularized)" in section
    assert 'class="pbo-degradation"' in page.split('id="pbo"', 1)[1]
    body = launcher_client.get(reverse("api:sweep-detail", args=[sweep.pk])).json()
    assert body["pbo"]["configurations"] == 3 and body["pbo"]["pbo"] == pytest.approx(trading["pbo"]["pbo"])
    assert [p["run"] for p in body["trading"]["points"]] == [r.pk for r in strength_runs]
    assert body["trading"]["points"][0]["least_regularized"] is True
