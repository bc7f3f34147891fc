"""KServe's documented client usage, made runnable against an oipserve at $OIPSERVE_REST_URL /
$OIPSERVE_GRPC_URL. The first line is the only one that names the library: the tests run each
script once as written (KServe's clients) and once with it importing from `app` instead."""
