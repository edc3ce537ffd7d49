from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from planner.api import views

router = DefaultRouter()
router.register("sites", views.SiteViewSet)
router.register("rooms", views.RoomViewSet)
router.register("rows", views.RowViewSet)
router.register("racks", views.RackViewSet)
router.register("power-sources", views.PowerSourceViewSet)
router.register("pdus", views.PduViewSet)
router.register("cooling-loops", views.CoolingLoopViewSet)
router.register("node-models", views.NodeModelViewSet)
router.register("nodes", views.NodeViewSet)

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
