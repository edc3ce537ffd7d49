"""Pages of the nightly capacity reports, under ``/reports/``."""

from django.urls import path

from planner.web import reports as reports_web

urlpatterns = [
    path("", reports_web.report_index, name="report-index"),
    path("site/<slug:slug>/", reports_web.site_reports, name="report-site"),
    path("<int:pk>/", reports_web.report_detail, name="report-detail"),
    path("<int:pk>/csv/", reports_web.report_csv, name="report-csv"),
    path("<int:pk>/json/", reports_web.report_json, name="report-json"),
]
