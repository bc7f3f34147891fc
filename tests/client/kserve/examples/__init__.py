"""KServe's documented client usage, made runnable against an oipserve at $OIPSERVE_REST_URL
and $OIPSERVE_GRPC_URL. Each script's one `from kserve import ...` line is the only one that
names the library: the tests run it as written (KServe's own clients) and with that line
importing the same names from `app`."""
