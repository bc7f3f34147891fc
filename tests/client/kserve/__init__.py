"""Scripts that run KServe's own software (its ModelServer, its clients) in subprocesses:
kserve registers protobuf messages that clash with ours, so it never enters the test process."""
