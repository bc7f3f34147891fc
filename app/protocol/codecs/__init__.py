"""Tensor codecs: `datatypes` (the datatype table), `arrays` (JSON data <-> numpy), `raw`
(raw bytes <-> numpy) and `messages` (whole HTTP bodies, binary extension included)."""
