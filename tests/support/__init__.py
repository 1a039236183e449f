"""Shared test support: wire objects as the 2019 server sends them, tokens, hypothesis
strategies. Plain modules (no fixtures), so any test directory can import them."""
