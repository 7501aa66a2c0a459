"""One module per address family. Each declares its AddressType records at the top
(names, parameters, option groups, -V feature, help) and then implements the opener
that returns an Endpoint. registry.FAMILY_MODULES lists the modules to load."""
