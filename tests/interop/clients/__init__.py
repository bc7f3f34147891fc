"""Third-party OIP clients driven against a running server, one script per client.

Each script runs in its own process (`python -m tests.interop.clients.<name> ...`), because
tritonclient, kserve and our generated code all register protobuf messages of package
`inference` in the default pool. A script asserts nothing: it prints what the client saw as
one JSON object (see `report`), and the test that ran it checks that.
"""
