"""Database access: table definitions, engine creation and migrations."""
