from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from planner import web_auth
from planner.api.auth import obtain_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_token, name="api-token"),
    path("api/v1/", include("planner.api.urls")),
    path("accounts/login/", web_auth.login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reports/", include("planner.web.reports_urls")),
    path("", include("planner.web.urls")),
]

# Under /api/ every error is JSON in the one error shape (planner/api/exceptions.py); elsewhere Django's pages.
handler400 = "planner.api.exceptions.json_bad_request"
handler403 = "planner.api.exceptions.json_permission_denied"
handler404 = "planner.api.exceptions.json_page_not_found"
handler500 = "planner.api.exceptions.json_server_error"
