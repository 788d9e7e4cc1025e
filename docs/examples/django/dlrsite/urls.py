from django.urls import path
from receipts.views import callback

urlpatterns = [path("dlr/", callback)]
