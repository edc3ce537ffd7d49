from django.urls import path

from planner.web import crud, elements, imports, placement, resilience, views
from planner.web.netbox_views import device_types_page, netbox_import_page, site_checklist_page

KIND = "<slug:kind_key>"

urlpatterns = [
    path("", views.site_list, name="site-list"),
    path("healthz", views.healthz, name="healthz"),
    path("sites/<int:pk>/", views.site_dashboard, name="site-dashboard"),
    path("sites/<int:pk>/resilience/", resilience.site_resilience_page, name="site-resilience"),
    path("rooms/<int:pk>/", views.room_detail, name="room-detail"),
    path("racks/<int:pk>/", views.rack_detail, name="rack-detail"),
    path("rows/<int:pk>/", elements.row_page, name="row-detail"),
    path("power-sources/<int:pk>/", elements.power_source_page, name="power-source-detail"),
    path("cooling-loops/<int:pk>/", elements.cooling_loop_page, name="cooling-loop-detail"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("sources/", views.sources_page, name="sources"),
    path("sites/import/", imports.site_import, name="site-import-page"),
    path("imports/<int:pk>/", imports.import_job_page, name="import-job-page"),
    path("catalogue/device-types/", device_types_page, name="device-types-import"),
    path("netbox/import/", netbox_import_page, name="netbox-import"),
    path("sites/<int:pk>/checklist/", site_checklist_page, name="site-checklist"),
    path("place/", placement.place, name="place"),
    path("place/check/", placement.place_check, name="place-check"),
    path("feasibility/", placement.feasibility, name="feasibility"),
    path("nodes/<int:pk>/edit/", placement.node_edit, name="node-edit"),
    path("nodes/<int:pk>/delete/", placement.node_delete, name="node-delete"),
    path(f"{KIND}/new/", crud.create, name="object-create"),
    path(f"{KIND}/<int:pk>/edit/", crud.edit, name="object-edit"),
    path(f"{KIND}/<int:pk>/delete/", crud.delete, name="object-delete"),
]
