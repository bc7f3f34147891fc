"""Seldon Pipeline manifests served in process: the spec and its checks, the executor, the
inspection buffer."""
