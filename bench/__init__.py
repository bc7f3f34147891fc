"""The benchmark suite: `python -m bench` prints oipserve against the bare floors."""
