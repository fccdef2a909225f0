"""The store: tables, engine and sessions, the audit chain, shared queries."""
