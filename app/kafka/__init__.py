"""The Kafka front: inference requests read from Seldon's topics, answers and errors written
back to them (`KafkaFront`), over the same DataPlane as REST and gRPC. Needs the `kafka`
extra (aiokafka)."""
