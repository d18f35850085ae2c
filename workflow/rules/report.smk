# Rules for the report stage (filled in by its issue).
