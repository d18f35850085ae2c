# Rules for the indicators stage (filled in by its issue).
