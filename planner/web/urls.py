from django.urls import path

from planner.web import views

urlpatterns = [
    path("", views.site_list, name="site-list"),
    path("healthz", views.healthz, name="healthz"),
]
