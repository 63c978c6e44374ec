"""Analysis of stored experiments: read chunks, compute, write JSON and figures."""
