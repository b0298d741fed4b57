"""Training orchestration: read the database into arrays, fit, evaluate, save artifacts."""
