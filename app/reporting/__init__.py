"""Reports over the stored history: the KPIs of the offers, measured against the holdout."""
