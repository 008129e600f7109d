"""Risk: fraud detection and credit scoring over the SQL mirror, and the economy simulator."""
