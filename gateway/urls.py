from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gateway import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("activities.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("dashboard.urls")),
    # Uploaded profile pictures; a deployment may serve MEDIA_ROOT from its proxy.
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    ),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON for the API's clients (`/api/...` paths that match no route), the
    ordinary page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
