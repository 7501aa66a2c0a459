"""Network interface helpers: netlink configuration (the only pyroute2 user) and MTU policy."""
