"""Template context every page gets: the app version and commit for the footer."""

from ares_site.app_version import app_code_version


def app_footer(request) -> dict:
    return {"app_code": app_code_version()}
