"""A middleware that looks the user up before any view runs (as a session or auth middleware may), to prove
a database failure inside the middleware stack still answers 503."""


class LookUpUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user.is_authenticated  # noqa: B018 - forces the session and user queries here, not in the view
        return self.get_response(request)
