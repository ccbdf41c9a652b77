"""The web pages, one module per area (its routes; its templates under `templates/<area>/`,
its messages in `locale/<lang>/LC_MESSAGES/<area>.po`)."""
