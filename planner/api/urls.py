from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from planner.api import ai, questions, reports, reservations, transfer, views
from planner.api.bulk import BulkRouter
from planner.api.netbox import NetboxDryRunView
from planner.api.netbox_jobs import NetboxImportView

PAGE_METHODS = ["get", "head"]

router = BulkRouter()
router.register("sites", views.SiteViewSet)
router.register("rooms", views.RoomViewSet)
router.register("rows", views.RowViewSet)
router.register("racks", views.RackViewSet)
router.register("power-sources", views.PowerSourceViewSet)
router.register("pdus", views.PduViewSet)
router.register("cooling-loops", views.CoolingLoopViewSet)
router.register("node-models", views.NodeModelViewSet)
router.register("nodes", views.NodeViewSet)
router.register("reports", reports.ReportViewSet)
router.register("import-jobs", transfer.ImportJobViewSet, basename="importjob")
router.register("reservations", reservations.ReservationViewSet)
router.register("fabrics", views.FabricViewSet)
router.register("switches", views.SwitchViewSet)
router.register("throughput-bases", ai.ThroughputBasisViewSet)
router.register("workloads", ai.WorkloadViewSet)

urlpatterns = [
    path("placements/check/", questions.PlacementCheckView.as_view(), name="placement-check"),
    path("racks/<int:pk>/headroom/", questions.RackHeadroomView.as_view(), name="rack-headroom"),
    path("racks/<int:pk>/retrofits/", questions.RackRetrofitsView.as_view(), name="rack-retrofits"),
    path("sites/<int:pk>/headroom/", questions.SiteHeadroomView.as_view(), name="site-headroom"),
    path("sites/<int:pk>/resilience/", questions.SiteResilienceView.as_view(), name="site-resilience"),
    path("feasibility/", questions.FeasibilityView.as_view(), name="feasibility"),
    path("what-if/", questions.WhatIfView.as_view(), name="what-if"),
    path("tco/", questions.TcoView.as_view(), name="tco"),
    path("site-selection/", ai.SiteSelectionView.as_view(), name="site-selection"),
    path("sites/<int:pk>/readiness/", ai.SiteReadinessView.as_view(), name="site-readiness"),
    path("sites/import/", transfer.SiteImportView.as_view(), name="site-import"),
    path("sites/<int:pk>/export/", transfer.SiteExportView.as_view(), name="site-export"),
    path("netbox/dry-run/", NetboxDryRunView.as_view(), name="netbox-dry-run"),
    path("netbox/import/", NetboxImportView.as_view(), name="netbox-import-job"),
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # HTML pages: GET only (OPTIONS rendered the Swagger template without its context: a 500).
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema", http_method_names=PAGE_METHODS), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema", http_method_names=PAGE_METHODS), name="api-redoc"),
]
