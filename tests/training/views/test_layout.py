"""The top bar, the styled error pages and the favicon."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
NAV = ["Runs", "Launch", "Markets", "Sweeps", "Robustness", "Profiles", "Datasets", "Models", "Workers", "API docs"]


def nav_labels(html: str) -> list[str]:
    import re

    nav = html.split('<nav aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def test_the_top_bar_links_every_area_and_marks_the_current_one(launcher_client):
    html = launcher_client.get(reverse("training:run_list")).content.decode()
    assert nav_labels(html) == NAV
    assert f'href="{reverse("training:run_list")}" aria-current="page"' in html


def test_the_top_bar_links_are_reversed_once_but_follow_the_script_prefix(launcher_client):
    """The links are kept per process, keyed by URL configuration and script prefix: an app mounted below a
    prefix (gunicorn's SCRIPT_NAME, which Django's WSGI handler makes the script prefix; the test client does not,
    so the test sets it) links below it, the same process at the root links at the root."""
    import re

    from django.urls import clear_script_prefix, set_script_prefix

    def nav_hrefs(html: str) -> list[str]:
        return re.findall(r'<li><a href="([^"]+)"', html.split('<nav aria-label="Main"', 1)[1].split("</nav>", 1)[0])

    at_root = nav_hrefs(launcher_client.get("/runs/").content.decode())
    set_script_prefix("/ares/")
    try:
        mounted = nav_hrefs(launcher_client.get("/runs/").content.decode())
    finally:
        clear_script_prefix()
    again = nav_hrefs(launcher_client.get("/runs/").content.decode())
    assert at_root[0] == reverse("training:run_list") == "/runs/" and len(at_root) == len(NAV)
    assert mounted == ["/ares" + href for href in at_root]
    assert again == at_root


def test_the_launch_page_marks_launch_only(launcher_client):
    html = launcher_client.get(reverse("training:run_new")).content.decode()
    assert html.count('aria-current="page"') == 1
    assert f'href="{reverse("training:run_new")}" aria-current="page"' in html


def test_a_viewer_sees_no_launch_link(viewer_client):
    assert "Launch" not in nav_labels(viewer_client.get(reverse("training:run_list")).content.decode())


def test_404_is_the_styled_page_with_the_top_bar(launcher_client):
    response = launcher_client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404 and 'id="not-found"' in html and nav_labels(html) == NAV


def test_403_is_the_styled_page(stranger_client):
    response = stranger_client.get(reverse("training:run_list"))
    assert response.status_code == 403 and 'id="forbidden"' in response.content.decode()


def test_500_page_renders_without_a_request_context():
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert 'id="server-error"' in html and "Log in" in html


def test_pages_link_the_favicon_and_favicon_ico_redirects_to_it(client, launcher_client):
    html = launcher_client.get(reverse("training:run_list")).content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("training/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
