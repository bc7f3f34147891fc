"""The gRPC transport: the OIP GRPCInferenceService servicer, health, reflection, and the
message conversion shared with the gRPC client."""
