"""``/api/...`` without its trailing slash is served as the slashed path, never redirected.

Django's APPEND_SLASH answers 301 (or, in DEBUG, raises for a POST): a client that follows the redirect sends
a GET without the body, so a create was silently lost. Under ``/api/`` the request is routed to the slashed
URL instead, whatever its method; elsewhere CommonMiddleware keeps redirecting as before. An HTML 404 under
``/api/`` (Django's DEBUG page for an unknown URL) is answered in the API's JSON error shape instead.
"""

from __future__ import annotations

from django.urls import Resolver404, resolve

from planner.api.exceptions import API_PREFIX, json_page_not_found


class ApiTrailingSlashMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/"):
            try:
                resolve(path)
            except Resolver404:
                try:
                    resolve(path + "/")
                except Resolver404:
                    pass
                else:
                    request.path_info = path + "/"
                    request.path = request.path + "/"
        response = self.get_response(request)
        if (
            response.status_code == 404
            and path.startswith(API_PREFIX)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            # With DEBUG on, Django answers an unknown URL with its technical HTML page instead of handler404:
            # under /api/ every answer is JSON, whatever DEBUG says.
            return json_page_not_found(request)
        return response
