from django.urls import path

from . import api

urlpatterns = [
    path("people/", api.PersonListApi.as_view(), name="api-people"),
    path("people/<uuid:person_id>/", api.PersonDetailApi.as_view(), name="api-person"),
    path("people/<uuid:person_id>/invite/", api.PersonInviteApi.as_view(), name="api-person-invite"),
    path("units/<uuid:unit_id>/", api.HouseholdFileApi.as_view(), name="api-household-file"),
    path("units/<uuid:unit_id>/transfer/", api.TransferApi.as_view(), name="api-household-transfer"),
    path("ownerships/", api.OwnershipListApi.as_view(), name="api-ownerships"),
    path("ownerships/<uuid:ownership_id>/end/", api.OwnershipEndApi.as_view(), name="api-ownership-end"),
    path("occupancies/", api.OccupancyListApi.as_view(), name="api-occupancies"),
    path("occupancies/<uuid:occupancy_id>/move-out/", api.MoveOutApi.as_view(), name="api-occupancy-move-out"),
    path("vehicles/", api.VehicleListApi.as_view(), name="api-vehicles"),
    path("vehicles/<uuid:vehicle_id>/remove/", api.VehicleRemoveApi.as_view(), name="api-vehicle-remove"),
    path("my/", api.MyHouseholdApi.as_view(), name="api-my-household"),
]
