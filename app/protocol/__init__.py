"""The protocol core: wire types, tensor codecs and the error tree. Imports only pydantic,
numpy and orjson, so every transport and client can share it."""
