"""Database extensions: SQL (patera.database.sql) and NoSQL (patera.database.nosql)."""
