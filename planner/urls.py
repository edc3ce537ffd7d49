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
    path("reports/", include("planner.reports_urls")),
    path("", include("planner.web.urls")),
]
