"""Storage: secrets encrypted at rest and the database migrations."""
