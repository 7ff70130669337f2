"""Polygon chain layer: event registry (events), fast log decoder (decode), ABI log encoder (encode), token-id
math (tokens), plus the RPC client and local-node helpers."""
