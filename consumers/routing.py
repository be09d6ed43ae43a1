from django.urls import path

from consumers.activity import ActivityConsumer

websocket_urlpatterns = [
    path("ws/activities/", ActivityConsumer.as_asgi()),
]
