"""The database: tables, engines, migrations and the few statements everyone shares."""
