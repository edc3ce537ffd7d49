"""Bring an estate in from NetBox and node models from the NetBox device-type library.

- ``mapping``: NetBox REST JSON -> planner records (pure: no database, no network).
- ``devicetypes``: device-type library YAML -> node-model figures (pure).
- ``client``: reads the lists the mapping needs from a NetBox with pynetbox, following pagination.
- ``service``: writes one import in one transaction and re-runs the engine (``netbox_import``,
  ``device_types_import``).
- ``checklist``: what NetBox does not hold and the planner still needs, per site.
"""
