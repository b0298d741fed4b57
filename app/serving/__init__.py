"""Serving: the loaded model, live purchases since training, and the answers built from them."""
